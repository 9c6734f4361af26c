// Shared pieces of the sladet libtorch addon: the tensor handle, per-environment state, argument parsing and the
// error guard every binding runs under (design.md §2 lessons 2, 8, 9).
#pragma once

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <napi.h>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sladet {

/// A JS argument of the wrong type or value. Becomes a JS TypeError.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// State of one Node environment (main thread or worker). Nothing static refers to a napi_env or a JS value, so a
/// worker that loaded the addon can exit without leaving dangling references behind (lesson 8).
struct AddonState {
  Napi::FunctionReference tensorCtor;
  /// Live tensor handles of this environment. Shared with every handle, so a handle finalised during environment
  /// teardown never touches freed state.
  std::shared_ptr<std::atomic<int64_t>> liveTensors = std::make_shared<std::atomic<int64_t>>(0);
  /// Active inference-mode guards (entered and left by explicit calls from JS scopes).
  std::vector<std::unique_ptr<c10::InferenceMode>> inferenceModes;
};

AddonState& state(Napi::Env env);

/// The JS-visible handle that owns one at::Tensor. Type-tagged, so foreign objects are refused.
class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;
  /// Frees the tensor now; later use of the handle throws.
  void dispose();
  bool disposed() const { return disposed_; }
  at::Tensor tensor;

 private:
  bool disposed_ = false;
  std::shared_ptr<std::atomic<int64_t>> live_;
};

/// Wraps a tensor into a new handle (an undefined tensor becomes null).
Napi::Value wrap(Napi::Env env, at::Tensor t);
Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

// ---- argument parsing: each throws ArgError naming the argument and what was expected ----
std::string describe(const Napi::Value& v);
TensorHandle* argHandle(const Napi::CallbackInfo& info, size_t i, const char* name);
at::Tensor argTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<at::Tensor> argOptTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<at::Tensor> argTensorList(const Napi::CallbackInfo& info, size_t i, const char* name);
/// A list whose entries are tensors or null (advanced indexing).
c10::List<c10::optional<at::Tensor>> argOptTensorList(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<int64_t> argOptInt(const Napi::CallbackInfo& info, size_t i, const char* name);
double argDouble(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<double> argOptDouble(const Napi::CallbackInfo& info, size_t i, const char* name);
bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name, std::optional<bool> fallback = {});
std::string argString(const Napi::CallbackInfo& info, size_t i, const char* name);
/// An integer list; a single integer is accepted as a one-element list.
std::vector<int64_t> argIntList(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<std::vector<int64_t>> argOptIntList(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<std::vector<double>> argOptDoubleList(const Napi::CallbackInfo& info, size_t i, const char* name);
/// A number (integral numbers become integer scalars, as Python literals do) or a boolean.
at::Scalar argScalar(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<at::Scalar> argOptScalar(const Napi::CallbackInfo& info, size_t i, const char* name);
/// A tensor, or a number/boolean wrapped as a Python-style scalar (lower priority in type promotion).
at::Tensor argTensorOrScalar(const Napi::CallbackInfo& info, size_t i, const char* name);
at::ScalarType argDtype(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<at::ScalarType> argOptDtype(const Napi::CallbackInfo& info, size_t i, const char* name);
c10::Device argDevice(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<c10::Device> argOptDevice(const Napi::CallbackInfo& info, size_t i, const char* name);

const char* dtypeName(at::ScalarType t);

// ---- the guard: no C++ exception crosses N-API (lesson 2) ----
using Binding = Napi::Value (*)(const Napi::CallbackInfo&);
void throwJs(const Napi::CallbackInfo& info, const char* kind, const std::string& message);

template <Binding F>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const ArgError& e) {
    throwJs(info, "TypeError", e.what());
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const c10::Error& e) {
    throwJs(info, "Error", e.what_without_backtrace());
  } catch (const std::exception& e) {
    throwJs(info, "Error", e.what());
  } catch (...) {
    throwJs(info, "Error", "unknown native error");
  }
  return info.Env().Undefined();
}

/// Registers binding F under `name` (the name also prefixes its error messages).
template <Binding F>
void def(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, guarded<F>, name, const_cast<char*>(name)));
}

void registerTensor(Napi::Env env, Napi::Object exports);
void registerOps(Napi::Env env, Napi::Object exports);
void registerNn(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerRandom(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerVision(Napi::Env env, Napi::Object exports);
void registerDist(Napi::Env env, Napi::Object exports);

}  // namespace sladet
