// Neural-network ops: activations, conv, batch norm, pooling, upsampling, dropout and losses.
#include "common.h"

namespace sladet {
namespace {

using Info = Napi::CallbackInfo;

Napi::Value sigmoid(const Info& info) { return wrap(info.Env(), at::sigmoid(argTensor(info, 0, "x"))); }
Napi::Value silu(const Info& info) { return wrap(info.Env(), at::silu(argTensor(info, 0, "x"))); }
Napi::Value relu(const Info& info) { return wrap(info.Env(), at::relu(argTensor(info, 0, "x"))); }
Napi::Value tanh(const Info& info) { return wrap(info.Env(), at::tanh(argTensor(info, 0, "x"))); }

Napi::Value leakyRelu(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  return wrap(info.Env(), at::leaky_relu(x, argOptDouble(info, 1, "negativeSlope").value_or(0.01)));
}

Napi::Value softmax(const Info& info) {
  return wrap(info.Env(), at::softmax(argTensor(info, 0, "x"), argInt(info, 1, "dim")));
}

Napi::Value logSoftmax(const Info& info) {
  return wrap(info.Env(), at::log_softmax(argTensor(info, 0, "x"), argInt(info, 1, "dim")));
}

// linear(x, weight, bias?)
Napi::Value linear(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  at::Tensor w = argTensor(info, 1, "weight");
  auto b = argOptTensor(info, 2, "bias");
  return wrap(info.Env(), at::linear(x, w, b ? c10::optional<at::Tensor>(*b) : c10::nullopt));
}

// conv2d(x, weight, bias?, stride, padding, dilation, groups)
Napi::Value conv2d(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  at::Tensor w = argTensor(info, 1, "weight");
  auto b = argOptTensor(info, 2, "bias");
  auto stride = argOptIntList(info, 3, "stride").value_or(std::vector<int64_t>{1});
  auto padding = argOptIntList(info, 4, "padding").value_or(std::vector<int64_t>{0});
  auto dilation = argOptIntList(info, 5, "dilation").value_or(std::vector<int64_t>{1});
  int64_t groups = argOptInt(info, 6, "groups").value_or(1);
  return wrap(info.Env(), at::conv2d(x, w, b ? c10::optional<at::Tensor>(*b) : c10::nullopt, stride, padding,
                                     dilation, groups));
}

// batchNorm(x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps). In training mode the running
// statistics are updated in place (as torch.nn.functional.batch_norm does).
Napi::Value batchNorm(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto w = argOptTensor(info, 1, "weight");
  auto b = argOptTensor(info, 2, "bias");
  auto rm = argOptTensor(info, 3, "runningMean");
  auto rv = argOptTensor(info, 4, "runningVar");
  bool training = argBool(info, 5, "training");
  double momentum = argDouble(info, 6, "momentum");
  double eps = argDouble(info, 7, "eps");
  auto opt = [](const std::optional<at::Tensor>& t) { return t ? c10::optional<at::Tensor>(*t) : c10::nullopt; };
  return wrap(info.Env(), at::batch_norm(x, opt(w), opt(b), opt(rm), opt(rv), training, momentum, eps,
                                         at::globalContext().userEnabledCuDNN()));
}

// maxPool2d(x, kernel, stride?, padding, dilation, ceilMode)
Napi::Value maxPool2d(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto kernel = argIntList(info, 1, "kernelSize");
  auto stride = argOptIntList(info, 2, "stride").value_or(kernel);
  auto padding = argOptIntList(info, 3, "padding").value_or(std::vector<int64_t>{0});
  auto dilation = argOptIntList(info, 4, "dilation").value_or(std::vector<int64_t>{1});
  bool ceil = argBool(info, 5, "ceilMode", false);
  return wrap(info.Env(), at::max_pool2d(x, kernel, stride, padding, dilation, ceil));
}

// avgPool2d(x, kernel, stride?, padding, ceilMode, countIncludePad)
Napi::Value avgPool2d(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto kernel = argIntList(info, 1, "kernelSize");
  auto stride = argOptIntList(info, 2, "stride").value_or(kernel);
  auto padding = argOptIntList(info, 3, "padding").value_or(std::vector<int64_t>{0});
  bool ceil = argBool(info, 4, "ceilMode", false);
  bool countIncludePad = argBool(info, 5, "countIncludePad", true);
  return wrap(info.Env(), at::avg_pool2d(x, kernel, stride, padding, ceil, countIncludePad));
}

Napi::Value adaptiveAvgPool2d(const Info& info) {
  return wrap(info.Env(), at::adaptive_avg_pool2d(argTensor(info, 0, "x"), argIntList(info, 1, "outputSize")));
}

// upsampleNearest2d(x, outputSize?, scaleFactors?): exactly one of the two.
Napi::Value upsampleNearest2d(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  auto size = argOptIntList(info, 1, "outputSize");
  auto scales = argOptDoubleList(info, 2, "scaleFactors");
  if (size.has_value() == scales.has_value()) throw ArgError("upsampleNearest2d: give exactly one of outputSize and scaleFactors");
  if (size) return wrap(info.Env(), at::upsample_nearest2d(x, *size, c10::nullopt, c10::nullopt));
  std::vector<double> s = *scales;
  if (s.size() == 1) s.push_back(s[0]);
  if (s.size() != 2) throw ArgError("scaleFactors: expected 1 or 2 numbers");
  auto out = at::upsample_nearest2d(x, c10::nullopt, c10::ArrayRef<double>(s));
  return wrap(info.Env(), out);
}

Napi::Value dropout(const Info& info) {
  at::Tensor x = argTensor(info, 0, "x");
  double p = argDouble(info, 1, "p");
  if (p < 0 || p > 1) throw ArgError("p: expected a probability in [0, 1], found " + std::to_string(p));
  return wrap(info.Env(), at::dropout(x, p, argBool(info, 2, "training")));
}

int64_t argReduction(const Info& info, size_t i) {
  if (info[i].IsUndefined()) return at::Reduction::Mean;
  std::string r = argString(info, i, "reduction");
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw ArgError("reduction: expected \"mean\", \"sum\" or \"none\", found \"" + r + "\"");
}

// bceWithLogits(logits, target, weight?, posWeight?, reduction)
Napi::Value bceWithLogits(const Info& info) {
  at::Tensor x = argTensor(info, 0, "logits");
  at::Tensor y = argTensor(info, 1, "target");
  auto w = argOptTensor(info, 2, "weight");
  auto pw = argOptTensor(info, 3, "posWeight");
  int64_t reduction = argReduction(info, 4);
  return wrap(info.Env(), at::binary_cross_entropy_with_logits(x, y, w ? c10::optional<at::Tensor>(*w) : c10::nullopt,
                                                               pw ? c10::optional<at::Tensor>(*pw) : c10::nullopt,
                                                               reduction));
}

// crossEntropy(logits [N,C], target int64 [N], weight?, reduction, labelSmoothing)
Napi::Value crossEntropy(const Info& info) {
  at::Tensor x = argTensor(info, 0, "logits");
  at::Tensor y = argTensor(info, 1, "target");
  auto w = argOptTensor(info, 2, "weight");
  int64_t reduction = argReduction(info, 3);
  double smoothing = argOptDouble(info, 4, "labelSmoothing").value_or(0.0);
  return wrap(info.Env(), at::cross_entropy_loss(x, y, w ? c10::optional<at::Tensor>(*w) : c10::nullopt, reduction,
                                                 -100, smoothing));
}

}  // namespace

void registerNn(Napi::Env env, Napi::Object exports) {
  def<sigmoid>(env, exports, "sigmoid");
  def<silu>(env, exports, "silu");
  def<relu>(env, exports, "relu");
  def<tanh>(env, exports, "tanh");
  def<leakyRelu>(env, exports, "leakyRelu");
  def<softmax>(env, exports, "softmax");
  def<logSoftmax>(env, exports, "logSoftmax");
  def<linear>(env, exports, "linear");
  def<conv2d>(env, exports, "conv2d");
  def<batchNorm>(env, exports, "batchNorm");
  def<maxPool2d>(env, exports, "maxPool2d");
  def<avgPool2d>(env, exports, "avgPool2d");
  def<adaptiveAvgPool2d>(env, exports, "adaptiveAvgPool2d");
  def<upsampleNearest2d>(env, exports, "upsampleNearest2d");
  def<dropout>(env, exports, "dropout");
  def<bceWithLogits>(env, exports, "bceWithLogits");
  def<crossEntropy>(env, exports, "crossEntropy");
}

}  // namespace sladet
