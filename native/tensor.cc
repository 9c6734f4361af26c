// Tensor creation, conversion to and from JS buffers, metadata, disposal and no-grad in-place updates.
#include <cstring>

#include "common.h"

namespace sladet {
namespace {

at::TensorOptions options(at::ScalarType dtype, c10::Device device) {
  return at::TensorOptions().dtype(dtype).device(device);
}

struct Bytes {
  const uint8_t* data;
  size_t length;
};

Bytes argBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    auto* base = static_cast<const uint8_t*>(ta.ArrayBuffer().Data());
    return {base + ta.ByteOffset(), ta.ByteLength()};
  }
  if (v.IsArrayBuffer()) {
    auto ab = v.As<Napi::ArrayBuffer>();
    return {static_cast<const uint8_t*>(ab.Data()), ab.ByteLength()};
  }
  if (v.IsDataView()) {
    auto dv = v.As<Napi::DataView>();
    auto* base = static_cast<const uint8_t*>(dv.ArrayBuffer().Data());
    return {base + dv.ByteOffset(), dv.ByteLength()};
  }
  throw ArgError(std::string(name) + ": expected a typed array or an ArrayBuffer, found " + describe(v));
}

void checkShape(const std::vector<int64_t>& shape) {
  for (int64_t d : shape) {
    if (d < 0) throw ArgError("shape: expected sizes >= 0, found " + std::to_string(d));
  }
}

// fromBuffer(data, shape, dtype, device): copies the bytes (the tensor never aliases JS memory).
Napi::Value fromBuffer(const Napi::CallbackInfo& info) {
  Bytes bytes = argBytes(info, 0, "data");
  auto shape = argIntList(info, 1, "shape");
  checkShape(shape);
  auto dtype = argDtype(info, 2, "dtype");
  auto device = argDevice(info, 3, "device");
  at::Tensor t = at::empty(shape, options(dtype, c10::kCPU));
  const size_t expected = t.numel() * t.element_size();
  if (bytes.length != expected) {
    throw ArgError("data: expected " + std::to_string(expected) + " bytes for shape " + c10::str(t.sizes()) + " of " +
                   dtypeName(dtype) + ", found " + std::to_string(bytes.length));
  }
  if (expected > 0) std::memcpy(t.data_ptr(), bytes.data, expected);
  if (device.type() != c10::kCPU) t = t.to(device);
  return wrap(info.Env(), t);
}

// toBuffer(t): a new ArrayBuffer with the tensor's elements, contiguous, row-major.
Napi::Value toBuffer(const Napi::CallbackInfo& info) {
  at::Tensor t = argTensor(info, 0, "tensor").detach().to(c10::kCPU).contiguous();
  const size_t n = t.numel() * t.element_size();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), n);
  if (n > 0) std::memcpy(ab.Data(), t.data_ptr(), n);
  return ab;
}

Napi::Value zeros(const Napi::CallbackInfo& info) {
  auto shape = argIntList(info, 0, "shape");
  checkShape(shape);
  return wrap(info.Env(), at::zeros(shape, options(argDtype(info, 1, "dtype"), argDevice(info, 2, "device"))));
}

Napi::Value ones(const Napi::CallbackInfo& info) {
  auto shape = argIntList(info, 0, "shape");
  checkShape(shape);
  return wrap(info.Env(), at::ones(shape, options(argDtype(info, 1, "dtype"), argDevice(info, 2, "device"))));
}

Napi::Value full(const Napi::CallbackInfo& info) {
  auto shape = argIntList(info, 0, "shape");
  checkShape(shape);
  auto value = argScalar(info, 1, "value");
  return wrap(info.Env(), at::full(shape, value, options(argDtype(info, 2, "dtype"), argDevice(info, 3, "device"))));
}

Napi::Value empty(const Napi::CallbackInfo& info) {
  auto shape = argIntList(info, 0, "shape");
  checkShape(shape);
  return wrap(info.Env(), at::empty(shape, options(argDtype(info, 1, "dtype"), argDevice(info, 2, "device"))));
}

Napi::Value arange(const Napi::CallbackInfo& info) {
  auto start = argScalar(info, 0, "start");
  auto end = argScalar(info, 1, "end");
  auto step = argScalar(info, 2, "step");
  return wrap(info.Env(), at::arange(start, end, step, options(argDtype(info, 3, "dtype"), argDevice(info, 4, "device"))));
}

Napi::Value linspace(const Napi::CallbackInfo& info) {
  auto start = argScalar(info, 0, "start");
  auto end = argScalar(info, 1, "end");
  auto steps = argInt(info, 2, "steps");
  return wrap(info.Env(), at::linspace(start, end, steps, options(argDtype(info, 3, "dtype"), argDevice(info, 4, "device"))));
}

Napi::Value shape(const Napi::CallbackInfo& info) {
  at::Tensor t = argTensor(info, 0, "tensor");
  Napi::Array arr = Napi::Array::New(info.Env(), t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) arr.Set(static_cast<uint32_t>(d), Napi::Number::New(info.Env(), t.size(d)));
  return arr;
}

Napi::Value dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtypeName(argTensor(info, 0, "tensor").scalar_type()));
}

Napi::Value device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), argTensor(info, 0, "tensor").device().str());
}

Napi::Value item(const Napi::CallbackInfo& info) {
  at::Tensor t = argTensor(info, 0, "tensor");
  if (t.numel() != 1) {
    throw std::runtime_error("item: expected a tensor with one element, found shape " + c10::str(t.sizes()));
  }
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
  return Napi::Number::New(info.Env(), t.item<double>());
}

Napi::Value to(const Napi::CallbackInfo& info) {
  at::Tensor t = argTensor(info, 0, "tensor");
  auto dt = argOptDtype(info, 1, "dtype");
  auto dev = argOptDevice(info, 2, "device");
  return wrap(info.Env(), t.to(dev.value_or(t.device()), dt.value_or(t.scalar_type())));
}

Napi::Value dispose(const Napi::CallbackInfo& info) {
  argHandle(info, 0, "tensor")->dispose();
  return info.Env().Undefined();
}

Napi::Value isDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), argHandle(info, 0, "tensor")->disposed());
}

/// Two handles share storage (same data pointer): used to tell views and copies apart in tests.
Napi::Value sameStorage(const Napi::CallbackInfo& info) {
  at::Tensor a = argTensor(info, 0, "a");
  at::Tensor b = argTensor(info, 1, "b");
  return Napi::Boolean::New(info.Env(), a.storage().is_alias_of(b.storage()));
}

// ---- in-place updates under a no-grad guard (parameters, buffers, optimizer state; lesson 9) --------------------------
Napi::Value copyInPlace(const Napi::CallbackInfo& info) {
  at::Tensor dst = argTensor(info, 0, "dst");
  at::Tensor src = argTensor(info, 1, "src");
  at::NoGradGuard guard;
  dst.copy_(src);
  return info.Env().Undefined();
}

Napi::Value addInPlace(const Napi::CallbackInfo& info) {
  at::Tensor dst = argTensor(info, 0, "dst");
  at::Tensor src = argTensorOrScalar(info, 1, "src");
  auto alpha = argOptScalar(info, 2, "alpha").value_or(at::Scalar(1));
  at::NoGradGuard guard;
  dst.add_(src, alpha);
  return info.Env().Undefined();
}

Napi::Value mulInPlace(const Napi::CallbackInfo& info) {
  at::Tensor dst = argTensor(info, 0, "dst");
  at::Tensor src = argTensorOrScalar(info, 1, "src");
  at::NoGradGuard guard;
  dst.mul_(src);
  return info.Env().Undefined();
}

Napi::Value fillInPlace(const Napi::CallbackInfo& info) {
  at::Tensor dst = argTensor(info, 0, "dst");
  auto value = argScalar(info, 1, "value");
  at::NoGradGuard guard;
  dst.fill_(value);
  return info.Env().Undefined();
}

}  // namespace

void registerTensor(Napi::Env env, Napi::Object exports) {
  def<fromBuffer>(env, exports, "fromBuffer");
  def<toBuffer>(env, exports, "toBuffer");
  def<zeros>(env, exports, "zeros");
  def<ones>(env, exports, "ones");
  def<full>(env, exports, "full");
  def<empty>(env, exports, "empty");
  def<arange>(env, exports, "arange");
  def<linspace>(env, exports, "linspace");
  def<shape>(env, exports, "shape");
  def<dtype>(env, exports, "dtype");
  def<device>(env, exports, "device");
  def<item>(env, exports, "item");
  def<to>(env, exports, "to");
  def<dispose>(env, exports, "dispose");
  def<isDisposed>(env, exports, "isDisposed");
  def<sameStorage>(env, exports, "sameStorage");
  def<copyInPlace>(env, exports, "copyInPlace_");
  def<addInPlace>(env, exports, "addInPlace_");
  def<mulInPlace>(env, exports, "mulInPlace_");
  def<fillInPlace>(env, exports, "fillInPlace_");
}

}  // namespace sladet
