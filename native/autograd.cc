// Autograd: requires_grad, backward, grads, and the grad-mode / inference-mode scopes driven from JS.
#include "common.h"

namespace sladet {
namespace {

using Info = Napi::CallbackInfo;

Napi::Value setRequiresGrad(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  x.requires_grad_(argBool(info, 1, "requiresGrad"));
  return info.Env().Undefined();
}

Napi::Value requiresGrad(const Info& info) {
  return Napi::Boolean::New(info.Env(), argTensor(info, 0, "x").requires_grad());
}

Napi::Value isLeaf(const Info& info) { return Napi::Boolean::New(info.Env(), argTensor(info, 0, "x").is_leaf()); }

// grad(x): a new handle to x's gradient (sharing its storage), or null.
Napi::Value grad(const Info& info) { return wrap(info.Env(), argTensor(info, 0, "x").grad()); }

// setGrad(x, g | null): replaces x's gradient (e.g. after clipping on a copy) or clears it.
Napi::Value setGrad(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto g = argOptTensor(info, 1, "grad");
  x.mutable_grad() = g ? *g : at::Tensor();
  return info.Env().Undefined();
}

Napi::Value retainGrad(const Info& info) {
  argTensor(info, 0, "x").retain_grad();
  return info.Env().Undefined();
}

// backward(x, gradient?, retainGraph?)
Napi::Value backward(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto g = argOptTensor(info, 1, "gradient");
  bool retain = argBool(info, 2, "retainGraph", false);
  x.backward(g ? *g : at::Tensor(), retain);
  return info.Env().Undefined();
}

// setGradEnabled(enabled) -> previous state
Napi::Value setGradEnabled(const Info& info) {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(argBool(info, 0, "enabled"));
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value isGradEnabled(const Info& info) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

// Inference mode is an RAII guard in libtorch; JS scopes enter and exit it explicitly, strictly nested.
Napi::Value enterInferenceMode(const Info& info) {
  auto& modes = state(info.Env()).inferenceModes;
  modes.push_back(std::make_unique<c10::InferenceMode>(true));
  return Napi::Number::New(info.Env(), static_cast<double>(modes.size()));
}

Napi::Value exitInferenceMode(const Info& info) {
  auto& modes = state(info.Env()).inferenceModes;
  const int64_t depth = argInt(info, 0, "depth");
  if (modes.empty() || static_cast<int64_t>(modes.size()) != depth) {
    throw std::runtime_error("inference-mode scopes must be left in the order they were entered");
  }
  modes.pop_back();
  return info.Env().Undefined();
}

Napi::Value isInferenceMode(const Info& info) {
  return Napi::Boolean::New(info.Env(), c10::InferenceMode::is_enabled());
}

}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  def<setRequiresGrad>(env, exports, "setRequiresGrad");
  def<requiresGrad>(env, exports, "requiresGrad");
  def<isLeaf>(env, exports, "isLeaf");
  def<grad>(env, exports, "grad");
  def<setGrad>(env, exports, "setGrad");
  def<retainGrad>(env, exports, "retainGrad");
  def<backward>(env, exports, "backward");
  def<setGradEnabled>(env, exports, "setGradEnabled");
  def<isGradEnabled>(env, exports, "isGradEnabled");
  def<enterInferenceMode>(env, exports, "enterInferenceMode");
  def<exitInferenceMode>(env, exports, "exitInferenceMode");
  def<isInferenceMode>(env, exports, "isInferenceMode");
}

}  // namespace sladet
