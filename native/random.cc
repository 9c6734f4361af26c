// Random numbers from libtorch's default CPU generator: seeding, state save/restore (for exact resume), draws and
// in-place initialisers (so seeded initialisation equals PyTorch's draw for draw).
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "common.h"

namespace sladet {
namespace {

using Info = Napi::CallbackInfo;

at::Generator defaultGenerator() { return at::detail::getDefaultCPUGenerator(); }

at::TensorOptions options(const Info& info, size_t dtypeArg, size_t deviceArg, at::ScalarType fallback) {
  auto dtype = argOptDtype(info, dtypeArg, "dtype").value_or(fallback);
  return at::TensorOptions().dtype(dtype).device(argDevice(info, deviceArg, "device"));
}

// getRngState() -> uint8 tensor (the CPU generator's full state).
Napi::Value getRngState(const Info& info) {
  auto gen = defaultGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(info.Env(), gen.get_state());
}

Napi::Value setRngState(const Info& info) {
  at::Tensor s = argTensor(info, 0, "state");
  auto gen = defaultGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(s);
  return info.Env().Undefined();
}

Napi::Value initialSeed(const Info& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(defaultGenerator().current_seed()));
}

Napi::Value rand(const Info& info) {
  return wrap(info.Env(), at::rand(argIntList(info, 0, "shape"), options(info, 1, 2, at::kFloat)));
}

Napi::Value randn(const Info& info) {
  return wrap(info.Env(), at::randn(argIntList(info, 0, "shape"), options(info, 1, 2, at::kFloat)));
}

// randint(low, high, shape, dtype?, device?): integers in [low, high).
Napi::Value randint(const Info& info) {
  int64_t low = argInt(info, 0, "low");
  int64_t high = argInt(info, 1, "high");
  if (high <= low) throw ArgError("randint: expected low < high, found " + std::to_string(low) + " >= " + std::to_string(high));
  return wrap(info.Env(), at::randint(low, high, argIntList(info, 2, "shape"), options(info, 3, 4, at::kLong)));
}

Napi::Value randperm(const Info& info) {
  int64_t n = argInt(info, 0, "n");
  if (n < 0) throw ArgError("randperm: expected n >= 0, found " + std::to_string(n));
  return wrap(info.Env(), at::randperm(n, options(info, 1, 2, at::kLong)));
}

// In-place initialisers under no-grad (parameters are leaves that require grad).
Napi::Value uniformInPlace(const Info& info) {
  at::Tensor t = argTensor(info, 0, "tensor");
  double lo = argDouble(info, 1, "low");
  double hi = argDouble(info, 2, "high");
  at::NoGradGuard guard;
  t.uniform_(lo, hi);
  return info.Env().Undefined();
}

Napi::Value normalInPlace(const Info& info) {
  at::Tensor t = argTensor(info, 0, "tensor");
  double mean = argDouble(info, 1, "mean");
  double std = argDouble(info, 2, "std");
  at::NoGradGuard guard;
  t.normal_(mean, std);
  return info.Env().Undefined();
}

Napi::Value bernoulli(const Info& info) {
  at::Tensor p = argTensor(info, 0, "p");
  return wrap(info.Env(), at::bernoulli(p));
}

}  // namespace

void registerRandom(Napi::Env env, Napi::Object exports) {
  def<getRngState>(env, exports, "getRngState");
  def<setRngState>(env, exports, "setRngState");
  def<initialSeed>(env, exports, "initialSeed");
  def<rand>(env, exports, "rand");
  def<randn>(env, exports, "randn");
  def<randint>(env, exports, "randint");
  def<randperm>(env, exports, "randperm");
  def<uniformInPlace>(env, exports, "uniformInPlace_");
  def<normalInPlace>(env, exports, "normalInPlace_");
  def<bernoulli>(env, exports, "bernoulli");
}

}  // namespace sladet
