// Data-parallel collectives over libtorch's c10d: a TCPStore rendezvous (rank 0 hosts the server) and a Gloo process
// group over it, with a timeout on every collective so a dead or hung rank ends the call with an error instead of a
// hang. Every call blocks until the collective is done (training is synchronous); tensors are CPU tensors.
// ProcessGroupGloo.hpp declares its class only under this macro (libtorch's own build sets it when Gloo is built in;
// Debian's libtorch1.13 is, and exports the class).
#define USE_C10D_GLOO 1

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

#include "common.h"

namespace sladet {
namespace {

using Info = Napi::CallbackInfo;
using std::chrono::milliseconds;

// Tags identify our handles (napi_type_tag_object); random constants, fixed for the life of the ABI.
constexpr napi_type_tag kGroupTag = {0x5c1ade7a11ce0002ULL, 0x2545f4914f6cdd1dULL};
// Prefix of the process group's keys in the store (the rest of the store is the caller's: fault reports, run folder).
constexpr const char* kGroupPrefix = "pg";

/** One process group: the store it met through and the Gloo group. Destroyed explicitly or with its handle. */
struct DistGroup {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  int rank = 0;
  int worldSize = 1;
  milliseconds timeout{0};
};

DistGroup& argGroup(const Info& info, size_t i) {
  const Napi::Value v = info[i];
  bool tagged = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &kGroupTag, &tagged);
  if (!tagged) throw ArgError("group: expected a process group handle, found " + describe(v));
  auto* g = v.As<Napi::External<DistGroup>>().Data();
  if (!g->pg) throw std::runtime_error("the process group was destroyed");
  return *g;
}

std::string optString(const Napi::Object& o, const char* key, const std::string& fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw ArgError(std::string("options.") + key + ": expected a string, found " + describe(v));
  return v.As<Napi::String>().Utf8Value();
}

int64_t reqInt(const Napi::Object& o, const char* key, int64_t min, int64_t max) {
  const Napi::Value v = o.Get(key);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1e300;
  if (!v.IsNumber() || d != static_cast<double>(static_cast<int64_t>(d)) || d < min || d > max) {
    throw ArgError(std::string("options.") + key + ": expected an integer in [" + std::to_string(min) + ", " +
                   std::to_string(max) + "], found " + describe(v));
  }
  return static_cast<int64_t>(d);
}

/** The Gloo transport device: GLOO_SOCKET_IFNAME's interface, else the address itself when it is a loopback one
 * (where the host name may resolve to an interface the peers cannot reach), else the host name's address. */
std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string& host) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (host == "127.0.0.1" || host == "localhost") return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

void finalizeGroup(Napi::Env, DistGroup* g) { delete g; }

// distInit({host, port, rank, worldSize, timeoutMs}) -> group. Rank 0 starts the store's server on host:port; every
// rank (rank 0 too) connects to it, and the call returns when all worldSize ranks have joined the Gloo group (or fails
// after timeoutMs).
Napi::Value distInit(const Info& info) {
  if (!info[0].IsObject()) throw ArgError("options: expected an object, found " + describe(info[0]));
  const Napi::Object o = info[0].As<Napi::Object>();
  const std::string host = optString(o, "host", "127.0.0.1");
  const auto port = static_cast<uint16_t>(reqInt(o, "port", 1, 65535));
  const int worldSize = static_cast<int>(reqInt(o, "worldSize", 1, 1 << 20));
  const int rank = static_cast<int>(reqInt(o, "rank", 0, worldSize - 1));
  const milliseconds timeout(reqInt(o, "timeoutMs", 1, int64_t{1} << 40));

  c10d::TCPStoreOptions storeOptions;
  storeOptions.port = port;
  storeOptions.isServer = rank == 0;
  storeOptions.numWorkers = static_cast<size_t>(worldSize);
  storeOptions.waitWorkers = true;
  storeOptions.timeout = timeout;
  auto store = c10::make_intrusive<c10d::TCPStore>(host, storeOptions);

  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(glooDevice(host));
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(kGroupPrefix, store);
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, worldSize, options);

  auto* g = new DistGroup{store, pg, rank, worldSize, timeout};
  auto handle = Napi::External<DistGroup>::New(info.Env(), g, finalizeGroup);
  napi_type_tag_object(info.Env(), handle, &kGroupTag);
  return handle;
}

void waitFor(const DistGroup& g, const c10::intrusive_ptr<c10d::Work>& work) { work->wait(g.timeout); }

/** Tensors packed into flat buckets of at most `bucketBytes` (a tensor larger than that gets a bucket alone). */
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor>& ts, int64_t bucketBytes) {
  std::vector<std::vector<at::Tensor>> out;
  int64_t bytes = 0;
  for (const auto& t : ts) {
    const int64_t n = static_cast<int64_t>(t.numel() * t.element_size());
    if (out.empty() || bytes + n > bucketBytes || out.back().front().scalar_type() != t.scalar_type()) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += n;
  }
  return out;
}

void checkCollectiveTensors(const std::vector<at::Tensor>& ts) {
  for (const auto& t : ts) {
    if (!t.device().is_cpu()) throw ArgError("tensors: the Gloo process group takes CPU tensors");
  }
}

/** Runs `collective` on each bucket flattened into one tensor, then copies the result back into the tensors. */
template <typename F>
void bucketed(const std::vector<at::Tensor>& ts, int64_t bucketBytes, F collective) {
  at::NoGradGuard noGrad;
  for (auto& bucket : buckets(ts, bucketBytes)) {
    std::vector<at::Tensor> flat;
    flat.reserve(bucket.size());
    for (const auto& t : bucket) flat.push_back(t.reshape({-1}));
    at::Tensor packed = at::cat(flat);
    collective(packed);
    int64_t offset = 0;
    for (auto& t : bucket) {
      const int64_t n = t.numel();
      t.copy_(packed.narrow(0, offset, n).view(t.sizes()));
      offset += n;
    }
  }
}

// distAllReduceMean(group, tensors, bucketBytes): every tensor becomes the mean of its values over the ranks (in
// place), through one all-reduce per bucket.
Napi::Value distAllReduceMean(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  const auto ts = argTensorList(info, 1, "tensors");
  const int64_t bucketBytes = argInt(info, 2, "bucketBytes");
  if (bucketBytes < 1) throw ArgError("bucketBytes: expected an integer >= 1");
  checkCollectiveTensors(ts);
  bucketed(ts, bucketBytes, [&](at::Tensor& packed) {
    std::vector<at::Tensor> one{packed};
    waitFor(g, g.pg->allreduce(one));
    packed.div_(g.worldSize);
  });
  return info.Env().Undefined();
}

// distAllReduceSum(group, tensor): the tensor becomes the sum over the ranks, in place (flags, counters).
Napi::Value distAllReduceSum(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  at::Tensor t = argTensor(info, 1, "tensor");
  checkCollectiveTensors({t});
  if (!t.is_contiguous()) throw ArgError("tensor: expected a contiguous tensor");
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> one{t};
  waitFor(g, g.pg->allreduce(one));
  return info.Env().Undefined();
}

// distBroadcast(group, tensors, root, bucketBytes): every rank's tensors become root's, in place.
Napi::Value distBroadcast(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  const auto ts = argTensorList(info, 1, "tensors");
  const int64_t root = argInt(info, 2, "root");
  const int64_t bucketBytes = argInt(info, 3, "bucketBytes");
  if (root < 0 || root >= g.worldSize) throw ArgError("root: expected a rank in [0, " + std::to_string(g.worldSize) + ")");
  if (bucketBytes < 1) throw ArgError("bucketBytes: expected an integer >= 1");
  checkCollectiveTensors(ts);
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  bucketed(ts, bucketBytes, [&](at::Tensor& packed) {
    std::vector<at::Tensor> one{packed};
    waitFor(g, g.pg->broadcast(one, opts));
  });
  return info.Env().Undefined();
}

// distAllGather(group, tensor) -> [worldSize, ...tensor.shape]: every rank's tensor, stacked in rank order.
Napi::Value distAllGather(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  at::Tensor t = argTensor(info, 1, "tensor").contiguous();
  checkCollectiveTensors({t});
  at::NoGradGuard noGrad;
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < g.worldSize; ++r) outputs[0].push_back(at::empty_like(t));
  std::vector<at::Tensor> input{t};
  waitFor(g, g.pg->allgather(outputs, input));
  return wrap(info.Env(), at::stack(outputs[0]));
}

Napi::Value distBarrier(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  waitFor(g, g.pg->barrier());
  return info.Env().Undefined();
}

// ---- a differentiable all-reduce (SyncBatchNorm's statistics) -----------------------------------------------------
// y = Σ_ranks x; since every rank's loss uses y, dL/dx = Σ_ranks dL_r/dy: the backward is an all-reduce too (the
// rule of torch.distributed.nn.functional.all_reduce). Ranks must run their backward passes in the same order, which
// a deterministic graph on the CPU engine does.
struct AllReduceSumFunction : torch::autograd::Function<AllReduceSumFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, DistGroup* g) {
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(g);
    at::Tensor y = x.contiguous().clone();
    std::vector<at::Tensor> one{y};
    waitFor(*g, g->pg->allreduce(one));
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* g = reinterpret_cast<DistGroup*>(ctx->saved_data["group"].toInt());
    if (!g->pg) throw std::runtime_error("the process group was destroyed before the backward pass");
    at::Tensor dy = grads[0].contiguous().clone();
    std::vector<at::Tensor> one{dy};
    waitFor(*g, g->pg->allreduce(one));
    return {dy, at::Tensor()};
  }
};

// distAllReduceSumAutograd(group, x) -> Σ_ranks x, differentiable (see AllReduceSumFunction).
Napi::Value distAllReduceSumAutograd(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  const at::Tensor x = argTensor(info, 1, "x");
  checkCollectiveTensors({x});
  return wrap(info.Env(), AllReduceSumFunction::apply(x, &g));
}

// ---- the store: small keys for coordination (fault reports, the run folder) ----------------------------------------
Napi::Value distStoreSet(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  const std::string key = argString(info, 1, "key");
  const std::string value = argString(info, 2, "value");
  g.store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  return info.Env().Undefined();
}

// distStoreGet(group, key, timeoutMs) -> the value; waits up to timeoutMs for the key to be set.
Napi::Value distStoreGet(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  const std::string key = argString(info, 1, "key");
  const int64_t timeoutMs = argInt(info, 2, "timeoutMs");
  g.store->wait({key}, milliseconds(timeoutMs));
  const auto v = g.store->get(key);
  return Napi::String::New(info.Env(), std::string(v.begin(), v.end()));
}

// distStoreCheck(group, key) -> whether the key is set (does not wait).
Napi::Value distStoreCheck(const Info& info) {
  DistGroup& g = argGroup(info, 0);
  return Napi::Boolean::New(info.Env(), g.store->check({argString(info, 1, "key")}));
}

// distDestroy(group): releases the group and the store (rank 0's server stops); later use throws.
Napi::Value distDestroy(const Info& info) {
  const Napi::Value v = info[0];
  bool tagged = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &kGroupTag, &tagged);
  if (!tagged) throw ArgError("group: expected a process group handle, found " + describe(v));
  auto* g = v.As<Napi::External<DistGroup>>().Data();
  g->pg.reset();
  g->store.reset();
  return info.Env().Undefined();
}

}  // namespace

void registerDist(Napi::Env env, Napi::Object exports) {
  def<distInit>(env, exports, "distInit");
  def<distAllReduceMean>(env, exports, "distAllReduceMean");
  def<distAllReduceSum>(env, exports, "distAllReduceSum");
  def<distAllReduceSumAutograd>(env, exports, "distAllReduceSumAutograd");
  def<distBroadcast>(env, exports, "distBroadcast");
  def<distAllGather>(env, exports, "distAllGather");
  def<distBarrier>(env, exports, "distBarrier");
  def<distStoreSet>(env, exports, "distStoreSet");
  def<distStoreGet>(env, exports, "distStoreGet");
  def<distStoreCheck>(env, exports, "distStoreCheck");
  def<distDestroy>(env, exports, "distDestroy");
}

}  // namespace sladet
