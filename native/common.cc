// Tensor handles, per-environment state and argument parsing for the addon.
#include "common.h"

#include <ATen/ScalarOps.h>

#include <cmath>

namespace sladet {

namespace {
// Tags identify our handles (napi_type_tag_object); random constants, fixed for the life of the ABI.
constexpr napi_type_tag kTensorTag = {0x5c1ade7a11ce0001ULL, 0x9e3779b97f4a7c15ULL};
// Only native code can construct a handle: the constructor requires this token as an External.
int kConstructToken = 0;
}  // namespace

AddonState& state(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

Napi::Function TensorHandle::define(Napi::Env env) { return DefineClass(env, "TensorHandle", {}); }

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken) {
    disposed_ = true;
    Napi::TypeError::New(info.Env(), "TensorHandle cannot be constructed from JavaScript").ThrowAsJavaScriptException();
    return;
  }
  napi_type_tag_object(info.Env(), info.This(), &kTensorTag);
  live_ = state(info.Env()).liveTensors;
  live_->fetch_add(1);
}

TensorHandle::~TensorHandle() { dispose(); }

void TensorHandle::dispose() {
  if (disposed_) return;
  disposed_ = true;
  tensor = at::Tensor();
  if (live_) live_->fetch_sub(1);
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  Napi::Object obj = state(env).tensorCtor.New({Napi::External<int>::New(env, &kConstructToken)});
  TensorHandle::Unwrap(obj)->tensor = std::move(t);
  return obj;
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) arr.Set(static_cast<uint32_t>(i), wrap(env, ts[i]));
  return arr;
}

std::string describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "the number " + v.ToString().Utf8Value();
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_function: return "a function";
    case napi_bigint: return "a bigint";
    case napi_external: return "an external";
    case napi_object: return v.IsArray() ? "an array" : "an object";
  }
  return "an unknown value";
}

static ArgError argError(const char* name, const char* expected, const Napi::Value& found) {
  return ArgError(std::string(name) + ": expected " + expected + ", found " + describe(found));
}

static bool isTensorHandle(const Napi::Value& v) {
  if (!v.IsObject()) return false;
  bool tagged = false;
  napi_check_object_type_tag(v.Env(), v, &kTensorTag, &tagged);
  return tagged;
}

TensorHandle* argHandle(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!isTensorHandle(v)) {
    throw v.IsObject() ? ArgError(std::string(name) + ": expected a tensor handle, found a foreign object")
                       : argError(name, "a tensor", v);
  }
  return TensorHandle::Unwrap(v.As<Napi::Object>());
}

at::Tensor argTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  TensorHandle* h = argHandle(info, i, name);
  if (h->disposed()) throw std::runtime_error(std::string(name) + ": tensor was disposed");
  return h->tensor;
}

std::optional<at::Tensor> argOptTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argTensor(info, i, name);
}

static std::vector<Napi::Value> arrayItems(const Napi::Value& v) {
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<Napi::Value> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) out.push_back(arr.Get(k));
  return out;
}

static at::Tensor tensorFromValue(const Napi::Value& v, const std::string& what) {
  if (!isTensorHandle(v)) throw ArgError(what + ": expected a tensor, found " + describe(v));
  TensorHandle* h = TensorHandle::Unwrap(v.As<Napi::Object>());
  if (h->disposed()) throw std::runtime_error(what + ": tensor was disposed");
  return h->tensor;
}

std::vector<at::Tensor> argTensorList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw argError(name, "an array of tensors", info[i]);
  std::vector<at::Tensor> out;
  auto items = arrayItems(info[i]);
  for (size_t k = 0; k < items.size(); ++k) {
    out.push_back(tensorFromValue(items[k], std::string(name) + "[" + std::to_string(k) + "]"));
  }
  return out;
}

c10::List<c10::optional<at::Tensor>> argOptTensorList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw argError(name, "an array of tensors or nulls", info[i]);
  c10::List<c10::optional<at::Tensor>> out;
  auto items = arrayItems(info[i]);
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k].IsNull() || items[k].IsUndefined()) {
      out.push_back(c10::nullopt);
    } else {
      out.push_back(tensorFromValue(items[k], std::string(name) + "[" + std::to_string(k) + "]"));
    }
  }
  return out;
}

static bool isInteger(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740992.0;
}

int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!isInteger(info[i])) throw argError(name, "an integer", info[i]);
  return info[i].As<Napi::Number>().Int64Value();
}

std::optional<int64_t> argOptInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argInt(info, i, name);
}

double argDouble(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw argError(name, "a number", info[i]);
  return info[i].As<Napi::Number>().DoubleValue();
}

std::optional<double> argOptDouble(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argDouble(info, i, name);
}

bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name, std::optional<bool> fallback) {
  if (fallback && info[i].IsUndefined()) return *fallback;
  if (!info[i].IsBoolean()) throw argError(name, "a boolean", info[i]);
  return info[i].As<Napi::Boolean>().Value();
}

std::string argString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw argError(name, "a string", info[i]);
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> argIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (isInteger(info[i])) return {info[i].As<Napi::Number>().Int64Value()};
  if (!info[i].IsArray()) throw argError(name, "an integer or an array of integers", info[i]);
  std::vector<int64_t> out;
  auto items = arrayItems(info[i]);
  for (size_t k = 0; k < items.size(); ++k) {
    if (!isInteger(items[k])) {
      throw ArgError(std::string(name) + "[" + std::to_string(k) + "]: expected an integer, found " +
                     describe(items[k]));
    }
    out.push_back(items[k].As<Napi::Number>().Int64Value());
  }
  return out;
}

std::optional<std::vector<int64_t>> argOptIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argIntList(info, i, name);
}

std::optional<std::vector<double>> argOptDoubleList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  if (info[i].IsNumber()) return std::vector<double>{info[i].As<Napi::Number>().DoubleValue()};
  if (!info[i].IsArray()) throw argError(name, "a number or an array of numbers", info[i]);
  std::vector<double> out;
  for (const auto& item : arrayItems(info[i])) {
    if (!item.IsNumber()) throw argError(name, "an array of numbers", item);
    out.push_back(item.As<Napi::Number>().DoubleValue());
  }
  return out;
}

at::Scalar argScalar(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (isInteger(v)) return at::Scalar(static_cast<int64_t>(v.As<Napi::Number>().Int64Value()));
  if (v.IsNumber()) return at::Scalar(v.As<Napi::Number>().DoubleValue());
  throw argError(name, "a number or a boolean", v);
}

std::optional<at::Scalar> argOptScalar(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argScalar(info, i, name);
}

at::Tensor argTensorOrScalar(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsNumber() || info[i].IsBoolean()) return at::native::wrapped_scalar_tensor(argScalar(info, i, name));
  return argTensor(info, i, name);
}

namespace {
struct DtypeEntry {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeEntry kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"int64", at::kLong},
    {"int32", at::kInt},     {"uint8", at::kByte},     {"bool", at::kBool},    {"int8", at::kChar},
    {"int16", at::kShort},   {"bfloat16", at::kBFloat16},
};
}  // namespace

const char* dtypeName(at::ScalarType t) {
  for (const auto& e : kDtypes) {
    if (e.type == t) return e.name;
  }
  return c10::toString(t);
}

at::ScalarType argDtype(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsString()) {
    std::string s = info[i].As<Napi::String>().Utf8Value();
    for (const auto& e : kDtypes) {
      if (s == e.name) return e.type;
    }
    throw ArgError(std::string(name) + ": expected a dtype (float32, float64, float16, int64, int32, uint8, bool, " +
                   "int8, int16, bfloat16), found \"" + s + "\"");
  }
  throw argError(name, "a dtype name", info[i]);
}

std::optional<at::ScalarType> argOptDtype(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argDtype(info, i, name);
}

c10::Device argDevice(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return c10::Device(c10::kCPU);
  std::string s = argString(info, i, name);
  try {
    return c10::Device(s);
  } catch (const c10::Error&) {
    throw ArgError(std::string(name) + ": expected a device such as \"cpu\", \"cuda\" or \"cuda:0\", found \"" + s +
                   "\"");
  }
}

std::optional<c10::Device> argOptDevice(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  return argDevice(info, i, name);
}

void throwJs(const Napi::CallbackInfo& info, const char* kind, const std::string& message) {
  const char* op = static_cast<const char*>(info.Data());
  std::string text = op ? std::string(op) + ": " + message : message;
  // Keep only the message: c10's "Exception raised from ..." context line is for C++ debugging, not for users.
  auto cut = text.find("\nException raised from");
  if (cut != std::string::npos) text.erase(cut);
  Napi::Env env = info.Env();
  Napi::Error err = std::string(kind) == "TypeError" ? Napi::TypeError::New(env, text) : Napi::Error::New(env, text);
  err.Set("code", Napi::String::New(env, std::string(kind) == "TypeError" ? "ERR_SLADET_ARG" : "ERR_SLADET_TORCH"));
  err.ThrowAsJavaScriptException();
}

}  // namespace sladet
