// Optimizer updates as single native calls under a no-grad guard (design.md §2 lesson 9): SGD (momentum, dampening,
// Nesterov, weight decay; torch.optim.SGD's algorithm), global-norm gradient clipping, zero-grad and the EMA update.
#include <cmath>

#include "common.h"

namespace sladet {
namespace {

using Info = Napi::CallbackInfo;

std::vector<std::optional<at::Tensor>> argOptTensorVector(const Info& info, size_t i, const char* name) {
  auto list = argOptTensorList(info, i, name);
  std::vector<std::optional<at::Tensor>> out;
  for (size_t k = 0; k < list.size(); ++k) {
    c10::optional<at::Tensor> t = list.get(k);
    out.push_back(t ? std::optional<at::Tensor>(*t) : std::nullopt);
  }
  return out;
}

// sgdStep(params, momentumBuffers (tensor|null each), lr, momentum, dampening, weightDecay, nesterov)
//   -> array with, per parameter, a new momentum buffer handle (created on its first step) or null.
// Parameters without a gradient are skipped, as in torch.optim.SGD.
Napi::Value sgdStep(const Info& info) {
  auto params = argTensorList(info, 0, "params");
  auto bufs = argOptTensorVector(info, 1, "momentumBuffers");
  if (bufs.size() != params.size()) throw ArgError("momentumBuffers: expected one entry per parameter");
  const double lr = argDouble(info, 2, "lr");
  const double momentum = argDouble(info, 3, "momentum");
  const double dampening = argDouble(info, 4, "dampening");
  const double weightDecay = argDouble(info, 5, "weightDecay");
  const bool nesterov = argBool(info, 6, "nesterov");
  if (nesterov && (momentum <= 0 || dampening != 0)) {
    throw ArgError("sgdStep: Nesterov momentum requires a momentum > 0 and zero dampening");
  }
  at::NoGradGuard guard;
  std::vector<at::Tensor> created(params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    at::Tensor& p = params[k];
    const at::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    at::Tensor d = weightDecay != 0 ? grad.add(p, weightDecay) : grad;
    if (momentum != 0) {
      at::Tensor buf;
      if (!bufs[k]) {
        buf = d.clone().detach();
        created[k] = buf;
      } else {
        buf = *bufs[k];
        buf.mul_(momentum).add_(d, 1 - dampening);
      }
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    p.add_(d, -lr);
  }
  return wrapList(info.Env(), created);
}

// clipGradNorm(params, maxNorm, normType) -> total norm before clipping (torch.nn.utils.clip_grad_norm_, 1.13).
Napi::Value clipGradNorm(const Info& info) {
  auto params = argTensorList(info, 0, "params");
  const double maxNorm = argDouble(info, 1, "maxNorm");
  const double normType = argOptDouble(info, 2, "normType").value_or(2.0);
  at::NoGradGuard guard;
  std::vector<at::Tensor> grads;
  for (auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return Napi::Number::New(info.Env(), 0.0);
  at::Tensor total;
  if (std::isinf(normType)) {
    std::vector<at::Tensor> maxes;
    for (auto& g : grads) maxes.push_back(g.detach().abs().max());
    total = maxes.size() == 1 ? maxes[0] : at::stack(maxes).max();
  } else {
    std::vector<at::Tensor> norms;
    for (auto& g : grads) norms.push_back(at::linalg_vector_norm(g.detach(), normType));
    total = at::linalg_vector_norm(at::stack(norms), normType);
  }
  at::Tensor coef = at::clamp(maxNorm / (total + 1e-6), c10::nullopt, 1.0);
  for (auto& g : grads) g.detach().mul_(coef.to(g.device()));
  return Napi::Number::New(info.Env(), total.item<double>());
}

// zeroGrad(params, setToNone)
Napi::Value zeroGrad(const Info& info) {
  auto params = argTensorList(info, 0, "params");
  const bool setToNone = argBool(info, 1, "setToNone", true);
  at::NoGradGuard guard;
  for (auto& p : params) {
    at::Tensor& g = p.mutable_grad();
    if (!g.defined()) continue;
    if (setToNone) {
      g = at::Tensor();
    } else {
      if (g.grad_fn()) g = g.detach();
      g.requires_grad_(false);
      g.zero_();
    }
  }
  return info.Env().Undefined();
}

// emaUpdate(emaTensors, modelTensors, decay): ema = decay·ema + (1 − decay)·model for floating-point entries; other
// entries (e.g. num_batches_tracked) are copied.
Napi::Value emaUpdate(const Info& info) {
  auto ema = argTensorList(info, 0, "ema");
  auto model = argTensorList(info, 1, "model");
  const double decay = argDouble(info, 2, "decay");
  if (ema.size() != model.size()) throw ArgError("emaUpdate: ema and model must have the same number of tensors");
  at::NoGradGuard guard;
  for (size_t k = 0; k < ema.size(); ++k) {
    if (ema[k].is_floating_point()) {
      ema[k].mul_(decay).add_(model[k].detach(), 1 - decay);
    } else {
      ema[k].copy_(model[k]);
    }
  }
  return info.Env().Undefined();
}

// copyAll(dst[], src[]): dst_i <- src_i, for loading state dicts in one call.
Napi::Value copyAll(const Info& info) {
  auto dst = argTensorList(info, 0, "dst");
  auto src = argTensorList(info, 1, "src");
  if (dst.size() != src.size()) throw ArgError("copyAll: dst and src must have the same length");
  at::NoGradGuard guard;
  for (size_t k = 0; k < dst.size(); ++k) dst[k].copy_(src[k]);
  return info.Env().Undefined();
}

}  // namespace

void registerOptim(Napi::Env env, Napi::Object exports) {
  def<sgdStep>(env, exports, "sgdStep");
  def<clipGradNorm>(env, exports, "clipGradNorm");
  def<zeroGrad>(env, exports, "zeroGrad");
  def<emaUpdate>(env, exports, "emaUpdate");
  def<copyAll>(env, exports, "copyAll");
}

}  // namespace sladet
