// Module entry: per-environment state, the counting CPU allocator, threads and version information.
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <malloc.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "common.h"

namespace sladet {
namespace {

// ---- counting CPU allocator -----------------------------------------------------------------------------------------
// Every CPU tensor storage goes through this allocator, so the byte counter sees memory pinned by autograd graphs
// too (a kept non-leaf tensor keeps its whole graph alive while the JS tensor count stays flat; lesson 9).
// Process-wide by nature (libtorch has one CPU allocator); it holds no reference to any Node environment.
std::atomic<int64_t> gAllocatedBytes{0};
std::atomic<int64_t> gPeakBytes{0};
std::atomic<int64_t> gAllocations{0};

// Each block carries its size in a header one alignment unit long, so the data stays 64-byte aligned.
constexpr size_t kHeader = 64;

void countingFree(void* data) {
  if (data == nullptr) return;
  auto* base = static_cast<char*>(data) - kHeader;
  const auto size = static_cast<int64_t>(*reinterpret_cast<size_t*>(base));
  gAllocatedBytes.fetch_sub(size);
  gAllocations.fetch_sub(1);
  c10::free_cpu(base);
}

struct CountingCpuAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t nbytes) const override {
    if (nbytes == 0) return {nullptr, nullptr, &countingFree, c10::Device(c10::kCPU)};
    auto* base = static_cast<char*>(c10::alloc_cpu(nbytes + kHeader));
    *reinterpret_cast<size_t*>(base) = nbytes;
    const int64_t now = gAllocatedBytes.fetch_add(static_cast<int64_t>(nbytes)) + static_cast<int64_t>(nbytes);
    gAllocations.fetch_add(1);
    int64_t peak = gPeakBytes.load();
    while (now > peak && !gPeakBytes.compare_exchange_weak(peak, now)) {
    }
    void* data = base + kHeader;
    return {data, data, &countingFree, c10::Device(c10::kCPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &countingFree; }
};

void installProcessWideSettings() {
  static std::once_flag once;
  std::call_once(once, [] {
    static CountingCpuAllocator allocator;
    c10::SetCPUAllocator(&allocator, /*priority=*/100);
    int threads = 0;
    if (const char* env = std::getenv("SLADET_THREADS")) threads = std::atoi(env);
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
  });
}

// ---- bindings -------------------------------------------------------------------------------------------------------
Napi::Value memoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("allocatedBytes", Napi::Number::New(env, static_cast<double>(gAllocatedBytes.load())));
  out.Set("peakBytes", Napi::Number::New(env, static_cast<double>(gPeakBytes.load())));
  out.Set("allocations", Napi::Number::New(env, static_cast<double>(gAllocations.load())));
  out.Set("liveTensors", Napi::Number::New(env, static_cast<double>(state(env).liveTensors->load())));
  return out;
}

Napi::Value resetPeakBytes(const Napi::CallbackInfo& info) {
  gPeakBytes.store(gAllocatedBytes.load());
  return info.Env().Undefined();
}

// jemalloc's control interface, found at run time: present when the launcher preloads jemalloc, absent under glibc.
using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
// jemalloc's MALLCTL_ARENAS_ALL: "arena.<i>.purge" with this index purges every arena.
constexpr int kJemallocAllArenas = 4096;

Mallctl jemallocCtl() {
  static const auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  return mallctl;
}

// jemalloc's decay times: how long each arena keeps freed ("dirty") pages before returning them to the system (ms;
// -1: until a purge). Element 0 is the default for arenas made from now on ("arenas.dirty_decay_ms"), element i + 1
// arena i's (null where the arena is not initialised). The oversize arena, for blocks of 8 MiB and more, has its own
// value (0: returned at once). Null without jemalloc.
Napi::Value getDirtyDecays(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Mallctl mallctl = jemallocCtl();
  ssize_t value = 0;
  size_t size = sizeof(value);
  if (mallctl == nullptr || mallctl("arenas.dirty_decay_ms", &value, &size, nullptr, 0) != 0) return env.Null();
  unsigned arenas = 0;
  size_t arenasSize = sizeof(arenas);
  mallctl("arenas.narenas", &arenas, &arenasSize, nullptr, 0);
  Napi::Array out = Napi::Array::New(env, arenas + 1);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(value)));
  for (unsigned i = 0; i < arenas; i++) {
    const std::string key = "arena." + std::to_string(i) + ".dirty_decay_ms";
    size = sizeof(value);
    const bool ok = mallctl(key.c_str(), &value, &size, nullptr, 0) == 0;
    out.Set(i + 1, ok ? Napi::Value(Napi::Number::New(env, static_cast<double>(value))) : env.Null());
  }
  return out;
}

// Sets decay times in getDirtyDecays' layout; null (or a missing element) leaves that one as it is. Returns false
// without jemalloc (nothing changed).
Napi::Value setDirtyDecays(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw ArgError("decays: expected an array of numbers or nulls");
  const Mallctl mallctl = jemallocCtl();
  if (mallctl == nullptr) return Napi::Boolean::New(env, false);
  Napi::Array values = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < values.Length(); i++) {
    Napi::Value v = values.Get(i);
    if (!v.IsNumber()) continue;
    ssize_t ms = static_cast<ssize_t>(v.As<Napi::Number>().Int64Value());
    const std::string key = i == 0 ? "arenas.dirty_decay_ms" : "arena." + std::to_string(i - 1) + ".dirty_decay_ms";
    mallctl(key.c_str(), nullptr, nullptr, &ms, sizeof(ms));
  }
  return Napi::Boolean::New(env, true);
}

// jemalloc's statistics are a snapshot taken when its "epoch" is advanced: this takes a new one.
void refreshJemallocStats(Mallctl mallctl) {
  uint64_t epoch = 1;
  size_t epochSize = sizeof(epoch);
  mallctl("epoch", &epoch, &epochSize, &epoch, epochSize);
}

// The dirty pages every jemalloc arena holds now (0 where jemalloc keeps no statistics).
size_t jemallocDirtyPages(Mallctl mallctl) {
  refreshJemallocStats(mallctl);
  size_t pages = 0;
  size_t size = sizeof(pages);
  const std::string key = "stats.arenas." + std::to_string(kJemallocAllArenas) + ".pdirty";
  return mallctl(key.c_str(), &pages, &size, nullptr, 0) == 0 ? pages : 0;
}

// jemalloc's process-wide statistics (bytes, refreshed now): allocated (live blocks), active (pages of active
// extents), metadata, resident (physically resident pages jemalloc maps: active, dirty and metadata), mapped,
// retained (virtual memory kept for reuse, not resident). Null without jemalloc.
Napi::Value allocatorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Mallctl mallctl = jemallocCtl();
  if (mallctl == nullptr) return env.Null();
  refreshJemallocStats(mallctl);
  Napi::Object out = Napi::Object::New(env);
  for (const char* key : {"allocated", "active", "metadata", "resident", "mapped", "retained"}) {
    size_t value = 0;
    size_t size = sizeof(value);
    const std::string name = std::string("stats.") + key;
    if (mallctl(name.c_str(), &value, &size, nullptr, 0) != 0) return env.Null();
    out.Set(key, Napi::Number::New(env, static_cast<double>(value)));
  }
  return out;
}

// How often releaseFreeMemory asks jemalloc to purge, 1 ms apart, before it leaves the rest to the decay timer.
constexpr int kPurgeAttempts = 20;

// Gives the pages the C allocator holds but no longer uses back to the system now, instead of when its decay timer
// says (design.md §2 lesson 4): jemalloc purges every arena (after flushing this thread's cache into them); glibc
// trims its heaps. Returns which allocator it asked. A jemalloc purge returns at once, having purged nothing, while
// another thread (its background thread, decaying the same pages) is purging that arena: so it is asked again until
// no dirty page is left.
Napi::Value releaseFreeMemory(const Napi::CallbackInfo& info) {
  const Mallctl mallctl = jemallocCtl();
  if (mallctl != nullptr) {
    mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
    const std::string purge = "arena." + std::to_string(kJemallocAllArenas) + ".purge";
    bool purged = false;
    for (int attempt = 0; attempt < kPurgeAttempts; attempt++) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      purged = mallctl(purge.c_str(), nullptr, nullptr, nullptr, 0) == 0;
      if (!purged || jemallocDirtyPages(mallctl) == 0) break;
    }
    return Napi::String::New(info.Env(), purged ? "jemalloc" : "none");
  }
  malloc_trim(0);
  return Napi::String::New(info.Env(), "glibc");
}

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  const int64_t n = argInt(info, 0, "threads");
  if (n < 1) throw ArgError("threads: expected an integer >= 1, found " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value getNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  const int n = at::globalContext().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  return Napi::Number::New(info.Env(), n);
}

Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  const int64_t seed = argInt(info, 0, "seed");
  at::manual_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  installProcessWideSettings();
  auto* st = new AddonState();
  st->tensorCtor = Napi::Persistent(TensorHandle::define(env));
  env.SetInstanceData<AddonState>(st);  // deleted with the environment

  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  exports.Set("cxx11Abi", Napi::Boolean::New(env, _GLIBCXX_USE_CXX11_ABI == 1));
  def<memoryStats>(env, exports, "memoryStats");
  def<resetPeakBytes>(env, exports, "resetPeakBytes");
  def<releaseFreeMemory>(env, exports, "releaseFreeMemory");
  def<allocatorStats>(env, exports, "allocatorStats");
  def<getDirtyDecays>(env, exports, "getDirtyDecays");
  def<setDirtyDecays>(env, exports, "setDirtyDecays");
  def<setNumThreads>(env, exports, "setNumThreads");
  def<getNumThreads>(env, exports, "getNumThreads");
  def<cudaDeviceCount>(env, exports, "cudaDeviceCount");
  def<manualSeed>(env, exports, "manualSeed");
  registerTensor(env, exports);
  registerOps(env, exports);
  registerNn(env, exports);
  registerAutograd(env, exports);
  registerRandom(env, exports);
  registerOptim(env, exports);
  registerVision(env, exports);
  registerDist(env, exports);
  return exports;
}

}  // namespace sladet

static Napi::Object InitSladet(Napi::Env env, Napi::Object exports) { return sladet::init(env, exports); }

NODE_API_MODULE(sladet, InitSladet)
