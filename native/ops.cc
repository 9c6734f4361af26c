// Elementwise math, comparisons, reductions, shape and indexing ops.
#include "common.h"

namespace sladet {
namespace {

using Info = Napi::CallbackInfo;

// ---- elementwise --------------------------------------------------------------------------------------------------
#define SLADET_UNARY(js, expr)                 \
  Napi::Value js(const Info& info) {           \
    at::Tensor x = argTensor(info, 0, "x");    \
    return wrap(info.Env(), expr);             \
  }
SLADET_UNARY(neg, at::neg(x))
SLADET_UNARY(exp, at::exp(x))
SLADET_UNARY(log, at::log(x))
SLADET_UNARY(sqrt, at::sqrt(x))
SLADET_UNARY(atan, at::atan(x))
SLADET_UNARY(abs, at::abs(x))
SLADET_UNARY(sign, at::sign(x))
SLADET_UNARY(floor, at::floor(x))
SLADET_UNARY(ceil, at::ceil(x))
SLADET_UNARY(round, at::round(x))
SLADET_UNARY(trunc, at::trunc(x))
SLADET_UNARY(reciprocal, at::reciprocal(x))
SLADET_UNARY(logicalNot, at::logical_not(x))
SLADET_UNARY(isfinite, at::isfinite(x))
SLADET_UNARY(isnan, at::isnan(x))
SLADET_UNARY(contiguous, x.contiguous())
SLADET_UNARY(channelsLast, x.contiguous(at::MemoryFormat::ChannelsLast))
SLADET_UNARY(clone, x.clone())
SLADET_UNARY(detach, x.detach())
SLADET_UNARY(nonzero, at::nonzero(x))
#undef SLADET_UNARY

// Binary ops: first argument a tensor, second a tensor or a number (a Python-style scalar).
#define SLADET_BINARY(js, expr)                      \
  Napi::Value js(const Info& info) {                 \
    at::Tensor a = argTensor(info, 0, "a");          \
    at::Tensor b = argTensorOrScalar(info, 1, "b");  \
    return wrap(info.Env(), expr);                   \
  }
SLADET_BINARY(mul, at::mul(a, b))
SLADET_BINARY(div, at::div(a, b))
SLADET_BINARY(pow, at::pow(a, b))
SLADET_BINARY(atan2, at::atan2(a, b))
SLADET_BINARY(maximum, at::maximum(a, b))
SLADET_BINARY(minimum, at::minimum(a, b))
SLADET_BINARY(remainder, at::remainder(a, b))
SLADET_BINARY(floorDivide, at::div(a, b, "floor"))
SLADET_BINARY(eq, at::eq(a, b))
SLADET_BINARY(ne, at::ne(a, b))
SLADET_BINARY(lt, at::lt(a, b))
SLADET_BINARY(le, at::le(a, b))
SLADET_BINARY(gt, at::gt(a, b))
SLADET_BINARY(ge, at::ge(a, b))
SLADET_BINARY(logicalAnd, at::logical_and(a, b))
SLADET_BINARY(logicalOr, at::logical_or(a, b))
SLADET_BINARY(logicalXor, at::logical_xor(a, b))
#undef SLADET_BINARY

Napi::Value add(const Info& info) {
  at::Tensor a = argTensor(info, 0, "a");
  at::Tensor b = argTensorOrScalar(info, 1, "b");
  auto alpha = argOptScalar(info, 2, "alpha").value_or(at::Scalar(1));
  return wrap(info.Env(), at::add(a, b, alpha));
}

Napi::Value sub(const Info& info) {
  at::Tensor a = argTensor(info, 0, "a");
  at::Tensor b = argTensorOrScalar(info, 1, "b");
  auto alpha = argOptScalar(info, 2, "alpha").value_or(at::Scalar(1));
  return wrap(info.Env(), at::sub(a, b, alpha));
}

// rsub(a, b): b - a, for "scalar minus tensor".
Napi::Value rsub(const Info& info) {
  at::Tensor a = argTensor(info, 0, "a");
  at::Tensor b = argTensorOrScalar(info, 1, "b");
  return wrap(info.Env(), at::sub(b, a));
}

Napi::Value clamp(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto lo = argOptScalar(info, 1, "min");
  auto hi = argOptScalar(info, 2, "max");
  if (!lo && !hi) throw ArgError("clamp: expected at least one of min and max");
  return wrap(info.Env(), at::clamp(x, lo ? c10::optional<at::Scalar>(*lo) : c10::nullopt,
                                    hi ? c10::optional<at::Scalar>(*hi) : c10::nullopt));
}

Napi::Value where(const Info& info) {
  at::Tensor cond = argTensor(info, 0, "condition");
  at::Tensor a = argTensorOrScalar(info, 1, "a");
  at::Tensor b = argTensorOrScalar(info, 2, "b");
  return wrap(info.Env(), at::where(cond, a, b));
}

Napi::Value maskedFill(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  at::Tensor mask = argTensor(info, 1, "mask");
  if (info[2].IsNumber() || info[2].IsBoolean()) return wrap(info.Env(), x.masked_fill(mask, argScalar(info, 2, "value")));
  return wrap(info.Env(), x.masked_fill(mask, argTensor(info, 2, "value")));
}

// ---- reductions: dims null/undefined = over all elements ------------------------------------------------------------
Napi::Value sum(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dims = argOptIntList(info, 1, "dims");
  bool keepdim = argBool(info, 2, "keepdim", false);
  auto dtype = argOptDtype(info, 3, "dtype");
  c10::optional<at::ScalarType> dt = dtype ? c10::optional<at::ScalarType>(*dtype) : c10::nullopt;
  if (!dims) return wrap(info.Env(), at::sum(x, dt));
  return wrap(info.Env(), at::sum(x, *dims, keepdim, dt));
}

Napi::Value mean(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dims = argOptIntList(info, 1, "dims");
  bool keepdim = argBool(info, 2, "keepdim", false);
  if (!dims) return wrap(info.Env(), at::mean(x));
  return wrap(info.Env(), at::mean(x, *dims, keepdim));
}

Napi::Value prod(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  bool keepdim = argBool(info, 2, "keepdim", false);
  if (!dim) return wrap(info.Env(), at::prod(x));
  return wrap(info.Env(), at::prod(x, *dim, keepdim));
}

// max(x) -> values; max(x, dim, keepdim) -> [values, indices]. Same for min.
Napi::Value max(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  if (!dim) return wrap(info.Env(), at::max(x));
  auto r = at::max(x, *dim, argBool(info, 2, "keepdim", false));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

Napi::Value min(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  if (!dim) return wrap(info.Env(), at::min(x));
  auto r = at::min(x, *dim, argBool(info, 2, "keepdim", false));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

Napi::Value amax(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dims = argOptIntList(info, 1, "dims").value_or(std::vector<int64_t>{});
  return wrap(info.Env(), at::amax(x, dims, argBool(info, 2, "keepdim", false)));
}

Napi::Value amin(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dims = argOptIntList(info, 1, "dims").value_or(std::vector<int64_t>{});
  return wrap(info.Env(), at::amin(x, dims, argBool(info, 2, "keepdim", false)));
}

Napi::Value argmax(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  return wrap(info.Env(), at::argmax(x, dim ? c10::optional<int64_t>(*dim) : c10::nullopt,
                                     argBool(info, 2, "keepdim", false)));
}

Napi::Value argmin(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  return wrap(info.Env(), at::argmin(x, dim ? c10::optional<int64_t>(*dim) : c10::nullopt,
                                     argBool(info, 2, "keepdim", false)));
}

Napi::Value any(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  if (!dim) return wrap(info.Env(), at::any(x));
  return wrap(info.Env(), at::any(x, *dim, argBool(info, 2, "keepdim", false)));
}

Napi::Value all(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  if (!dim) return wrap(info.Env(), at::all(x));
  return wrap(info.Env(), at::all(x, *dim, argBool(info, 2, "keepdim", false)));
}

Napi::Value cumsum(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), at::cumsum(x, argInt(info, 1, "dim")));
}

// ---- shape ----------------------------------------------------------------------------------------------------------
Napi::Value reshape(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").reshape(argIntList(info, 1, "shape")));
}

Napi::Value view(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").view(argIntList(info, 1, "shape")));
}

Napi::Value permute(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").permute(argIntList(info, 1, "dims")));
}

Napi::Value transpose(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), x.transpose(argInt(info, 1, "dim0"), argInt(info, 2, "dim1")));
}

Napi::Value expand(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").expand(argIntList(info, 1, "shape")));
}

Napi::Value repeat(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").repeat(argIntList(info, 1, "repeats")));
}

Napi::Value squeeze(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto dim = argOptInt(info, 1, "dim");
  return wrap(info.Env(), dim ? x.squeeze(*dim) : x.squeeze());
}

Napi::Value unsqueeze(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").unsqueeze(argInt(info, 1, "dim")));
}

Napi::Value flatten(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), x.flatten(argOptInt(info, 1, "startDim").value_or(0), argOptInt(info, 2, "endDim").value_or(-1)));
}

Napi::Value flip(const Info& info) {
  return wrap(info.Env(), argTensor(info, 0, "x").flip(argIntList(info, 1, "dims")));
}

// slice(x, dim, start?, end?, step?): like Python's x[..., start:end:step, ...] on one dim (a view).
Napi::Value slice(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  int64_t dim = argInt(info, 1, "dim");
  auto start = argOptInt(info, 2, "start");
  auto end = argOptInt(info, 3, "end");
  int64_t step = argOptInt(info, 4, "step").value_or(1);
  if (step < 1) throw ArgError("step: expected an integer >= 1, found " + std::to_string(step));
  return wrap(info.Env(), x.slice(dim, start ? c10::optional<int64_t>(*start) : c10::nullopt,
                                  end ? c10::optional<int64_t>(*end) : c10::nullopt, step));
}

Napi::Value select(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), x.select(argInt(info, 1, "dim"), argInt(info, 2, "index")));
}

Napi::Value narrow(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), x.narrow(argInt(info, 1, "dim"), argInt(info, 2, "start"), argInt(info, 3, "length")));
}

Napi::Value indexSelect(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), at::index_select(x, argInt(info, 1, "dim"), argTensor(info, 2, "index")));
}

Napi::Value gather(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), at::gather(x, argInt(info, 1, "dim"), argTensor(info, 2, "index")));
}

// index(x, [t0|null, t1|null, ...]): advanced indexing x[t0, t1, ...] (null = full slice); boolean masks allowed.
Napi::Value index(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), at::index(x, argOptTensorList(info, 1, "indices")));
}

Napi::Value cat(const Info& info) {
  return wrap(info.Env(), at::cat(argTensorList(info, 0, "tensors"), argOptInt(info, 1, "dim").value_or(0)));
}

Napi::Value stack(const Info& info) {
  return wrap(info.Env(), at::stack(argTensorList(info, 0, "tensors"), argOptInt(info, 1, "dim").value_or(0)));
}

// split(x, size | sizes, dim)
Napi::Value split(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  int64_t dim = argOptInt(info, 2, "dim").value_or(0);
  if (info[1].IsArray()) return wrapList(info.Env(), at::split_with_sizes(x, argIntList(info, 1, "sizes"), dim));
  return wrapList(info.Env(), at::split(x, argInt(info, 1, "size"), dim));
}

Napi::Value chunk(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrapList(info.Env(), at::chunk(x, argInt(info, 1, "chunks"), argOptInt(info, 2, "dim").value_or(0)));
}

Napi::Value matmul(const Info& info) {
  return wrap(info.Env(), at::matmul(argTensor(info, 0, "a"), argTensor(info, 1, "b")));
}


// topk(x, k, dim, largest, sorted) -> [values, indices]
Napi::Value topk(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  int64_t k = argInt(info, 1, "k");
  int64_t dim = argOptInt(info, 2, "dim").value_or(-1);
  auto r = at::topk(x, k, dim, argBool(info, 3, "largest", true), argBool(info, 4, "sorted", true));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

// sort(x, dim, descending, stable) -> [values, indices]
Napi::Value sort(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  int64_t dim = argOptInt(info, 1, "dim").value_or(-1);
  bool descending = argBool(info, 2, "descending", false);
  bool stable = argBool(info, 3, "stable", false);
  auto r = at::sort(x, stable, dim, descending);
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

// scatter(x, dim, index, src): out-of-place; src a tensor or a number.
Napi::Value scatter(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  int64_t dim = argInt(info, 1, "dim");
  at::Tensor index = argTensor(info, 2, "index");
  if (info[3].IsNumber() || info[3].IsBoolean()) return wrap(info.Env(), at::scatter(x, dim, index, argScalar(info, 3, "src")));
  return wrap(info.Env(), at::scatter(x, dim, index, argTensor(info, 3, "src")));
}

Napi::Value scatterAdd(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), at::scatter_add(x, argInt(info, 1, "dim"), argTensor(info, 2, "index"), argTensor(info, 3, "src")));
}

// indexPut(x, indices (tensor|null each), values, accumulate): out-of-place x[indices] = values (or +=).
Napi::Value indexPut(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto indices = argOptTensorList(info, 1, "indices");
  // A number is written in x's dtype (as Python's x[idx] = 1.0 does), not promoted.
  at::Tensor values = info[2].IsNumber() || info[2].IsBoolean()
                          ? at::scalar_tensor(argScalar(info, 2, "values"), x.options())
                          : argTensor(info, 2, "values");
  return wrap(info.Env(), at::index_put(x, indices, values, argBool(info, 3, "accumulate", false)));
}

// meshgrid(tensors, indexing "ij" | "xy")
Napi::Value meshgrid(const Info& info) {
  auto tensors = argTensorList(info, 0, "tensors");
  std::string indexing = info[1].IsUndefined() ? "ij" : argString(info, 1, "indexing");
  if (indexing != "ij" && indexing != "xy") throw ArgError("indexing: expected \"ij\" or \"xy\", found \"" + indexing + "\"");
  return wrapList(info.Env(), at::meshgrid(tensors, indexing));
}

// unique(x, sorted, returnInverse, returnCounts, dim?) -> [values, inverse, counts]
Napi::Value unique(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  bool sorted = argBool(info, 1, "sorted", true);
  bool inverse = argBool(info, 2, "returnInverse", false);
  bool counts = argBool(info, 3, "returnCounts", false);
  auto dim = argOptInt(info, 4, "dim");
  auto r = dim ? at::unique_dim(x, *dim, sorted, inverse, counts) : at::_unique2(x, sorted, inverse, counts);
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
}

Napi::Value norm(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  double ord = argOptDouble(info, 1, "ord").value_or(2.0);
  auto dims = argOptIntList(info, 2, "dims");
  bool keepdim = argBool(info, 3, "keepdim", false);
  if (!dims) return wrap(info.Env(), at::linalg_vector_norm(x, ord));
  return wrap(info.Env(), at::linalg_vector_norm(x, ord, *dims, keepdim));
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  def<neg>(env, exports, "neg");
  def<exp>(env, exports, "exp");
  def<log>(env, exports, "log");
  def<sqrt>(env, exports, "sqrt");
  def<atan>(env, exports, "atan");
  def<abs>(env, exports, "abs");
  def<sign>(env, exports, "sign");
  def<floor>(env, exports, "floor");
  def<ceil>(env, exports, "ceil");
  def<round>(env, exports, "round");
  def<trunc>(env, exports, "trunc");
  def<reciprocal>(env, exports, "reciprocal");
  def<logicalNot>(env, exports, "logicalNot");
  def<isfinite>(env, exports, "isfinite");
  def<isnan>(env, exports, "isnan");
  def<contiguous>(env, exports, "contiguous");
  def<channelsLast>(env, exports, "channelsLast");
  def<clone>(env, exports, "clone");
  def<detach>(env, exports, "detach");
  def<nonzero>(env, exports, "nonzero");
  def<add>(env, exports, "add");
  def<sub>(env, exports, "sub");
  def<rsub>(env, exports, "rsub");
  def<mul>(env, exports, "mul");
  def<div>(env, exports, "div");
  def<pow>(env, exports, "pow");
  def<atan2>(env, exports, "atan2");
  def<maximum>(env, exports, "maximum");
  def<minimum>(env, exports, "minimum");
  def<remainder>(env, exports, "remainder");
  def<floorDivide>(env, exports, "floorDivide");
  def<eq>(env, exports, "eq");
  def<ne>(env, exports, "ne");
  def<lt>(env, exports, "lt");
  def<le>(env, exports, "le");
  def<gt>(env, exports, "gt");
  def<ge>(env, exports, "ge");
  def<logicalAnd>(env, exports, "logicalAnd");
  def<logicalOr>(env, exports, "logicalOr");
  def<logicalXor>(env, exports, "logicalXor");
  def<clamp>(env, exports, "clamp");
  def<where>(env, exports, "where");
  def<maskedFill>(env, exports, "maskedFill");
  def<sum>(env, exports, "sum");
  def<mean>(env, exports, "mean");
  def<prod>(env, exports, "prod");
  def<max>(env, exports, "max");
  def<min>(env, exports, "min");
  def<amax>(env, exports, "amax");
  def<amin>(env, exports, "amin");
  def<argmax>(env, exports, "argmax");
  def<argmin>(env, exports, "argmin");
  def<any>(env, exports, "any");
  def<all>(env, exports, "all");
  def<cumsum>(env, exports, "cumsum");
  def<reshape>(env, exports, "reshape");
  def<view>(env, exports, "view");
  def<permute>(env, exports, "permute");
  def<transpose>(env, exports, "transpose");
  def<expand>(env, exports, "expand");
  def<repeat>(env, exports, "repeat");
  def<squeeze>(env, exports, "squeeze");
  def<unsqueeze>(env, exports, "unsqueeze");
  def<flatten>(env, exports, "flatten");
  def<flip>(env, exports, "flip");
  def<slice>(env, exports, "slice");
  def<select>(env, exports, "select");
  def<narrow>(env, exports, "narrow");
  def<indexSelect>(env, exports, "indexSelect");
  def<gather>(env, exports, "gather");
  def<index>(env, exports, "index");
  def<cat>(env, exports, "cat");
  def<stack>(env, exports, "stack");
  def<split>(env, exports, "split");
  def<chunk>(env, exports, "chunk");
  def<matmul>(env, exports, "matmul");
  def<topk>(env, exports, "topk");
  def<sort>(env, exports, "sort");
  def<scatter>(env, exports, "scatter");
  def<scatterAdd>(env, exports, "scatterAdd");
  def<indexPut>(env, exports, "indexPut");
  def<meshgrid>(env, exports, "meshgrid");
  def<unique>(env, exports, "unique");
  def<norm>(env, exports, "norm");
}

}  // namespace sladet
