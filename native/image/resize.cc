// OpenCV's cv::resize for 8-bit images, INTER_LINEAR and INTER_AREA, reproduced bit for bit (OpenCV 4.x, as Debian's
// python3-opencv 4.6 computes it; checked by test/data/image-kernels.test.ts against tools/oracle/pixels.py).
// Written from OpenCV's documented behaviour and observed output; what makes it bit-exact:
// - Scales are OpenCV's doubles: inv = dst/src, scale = 1/inv (not src/dst, which can differ in the last bit).
// - Same size: a copy. INTER_LINEAR with both scales exactly 2 is computed as INTER_AREA (OpenCV switches too).
// - INTER_LINEAR: separable, pixel centres aligned (src = (dst + 0.5)·scale − 0.5), edges replicated. Weights are
//   fixed point with 11 fractional bits (float weight · 2048, rounded half to even). The horizontal pass keeps
//   exact integer sums (weights · pixels); the vertical pass combines two such rows as OpenCV's 8-bit kernel does:
//   ((b0·(r0 >> 4)) >> 16) + ((b1·(r1 >> 4)) >> 16), then (+2) >> 2.
// - INTER_AREA when shrinking: integer factors on both axes average k×k blocks (sum · (1/area) in float, rounded half
//   to even; 2×2 blocks round half up: (sum + 2) >> 2); other factors weigh each source pixel
//   by its overlap with the destination cell (float weights and sums in OpenCV's order).
// - INTER_AREA when enlarging (either axis): the INTER_LINEAR kernel with area coefficients: s = floor(d·scale),
//   f = (d + 1) − (s + 1)/scale, taken as 0 when ≤ 0, else its fractional part.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace sladet_image {
namespace {

/// Fractional bits of OpenCV's 8-bit resize weights (INTER_RESIZE_COEF_BITS).
constexpr int kCoefBits = 11;
constexpr int kCoefScale = 1 << kCoefBits;

inline int roundHalfEven(float v) { return static_cast<int>(std::lrintf(v)); }
inline uint8_t saturateU8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }
inline int16_t coef(float w) {
  return static_cast<int16_t>(std::clamp(roundHalfEven(w * static_cast<float>(kCoefScale)), -32768, 32767));
}

/// One axis of the linear kernel: source index and the two fixed-point weights of every destination index.
struct Taps {
  std::vector<int> index;
  std::vector<int16_t> w0, w1;
  /// First destination index whose right neighbour falls outside the source (OpenCV's xmax); horizontal only.
  int limit;
};

Taps linearTaps(int src, int dst, double scale, bool areaMode, bool horizontal) {
  Taps t{std::vector<int>(dst), std::vector<int16_t>(dst), std::vector<int16_t>(dst), dst};
  const double inv = 1.0 / scale;
  for (int d = 0; d < dst; d++) {
    float f;
    int s;
    if (!areaMode) {
      f = static_cast<float>((d + 0.5) * scale - 0.5);
      s = static_cast<int>(std::floor(f));
      f -= static_cast<float>(s);
    } else {
      s = static_cast<int>(std::floor(d * scale));
      f = static_cast<float>((d + 1) - (s + 1) * inv);
      f = f <= 0 ? 0.f : f - std::floor(f);
    }
    if (horizontal) {
      if (s < 0) f = 0, s = 0;
      if (s + 1 >= src) {
        t.limit = std::min(t.limit, d);
        if (s >= src - 1) f = 0, s = src - 1;
      }
    }
    t.index[d] = s;
    t.w0[d] = coef(1.f - f);
    t.w1[d] = coef(f);
  }
  return t;
}

/// Horizontal pass of one source row into fixed-point sums (pixel · 2048 scale).
void linearRow(const uint8_t* row, int cn, const Taps& xs, int dstWidth, int32_t* out) {
  for (int d = 0; d < dstWidth; d++) {
    const uint8_t* p = row + static_cast<int64_t>(xs.index[d]) * cn;
    int32_t* o = out + static_cast<int64_t>(d) * cn;
    if (d < xs.limit) {
      const int a0 = xs.w0[d], a1 = xs.w1[d];
      for (int c = 0; c < cn; c++) o[c] = p[c] * a0 + p[c + cn] * a1;
    } else {
      for (int c = 0; c < cn; c++) o[c] = p[c] * kCoefScale;
    }
  }
}

/// The generic separable linear kernel (INTER_LINEAR, and INTER_AREA when enlarging).
void resizeSeparable(const View& src, uint8_t* dst, int dw, int dh, double scaleX, double scaleY, bool areaMode) {
  const int cn = src.channels;
  const Taps xs = linearTaps(src.width, dw, scaleX, areaMode, true);
  const Taps ys = linearTaps(src.height, dh, scaleY, areaMode, false);
  const int64_t rowLen = static_cast<int64_t>(dw) * cn;
  std::vector<int32_t> rows(2 * rowLen);
  int cached[2] = {-1, -1};
  const auto srcRow = [&](int y) { return src.data + static_cast<int64_t>(y) * src.width * cn; };
  const auto sums = [&](int slot, int y) {
    int32_t* r = rows.data() + slot * rowLen;
    if (cached[slot] != y) {
      const int other = 1 - slot;
      if (cached[other] == y) std::memcpy(r, rows.data() + other * rowLen, rowLen * sizeof(int32_t));
      else linearRow(srcRow(y), cn, xs, dw, r);
      cached[slot] = y;
    }
    return r;
  };
  for (int d = 0; d < dh; d++) {
    const int s = ys.index[d];
    const int y0 = std::clamp(s, 0, src.height - 1);
    const int y1 = std::clamp(s + 1, 0, src.height - 1);
    const int32_t* r0 = sums(0, y0);
    const int32_t* r1 = sums(1, y1);
    const int b0 = ys.w0[d], b1 = ys.w1[d];
    uint8_t* out = dst + d * rowLen;
    for (int64_t x = 0; x < rowLen; x++) {
      out[x] = saturateU8((((b0 * (r0[x] >> 4)) >> 16) + ((b1 * (r1[x] >> 4)) >> 16) + 2) >> 2);
    }
  }
}

/// INTER_AREA by integer factors kx × ky (the source is exactly kx·dw × ky·dh).
void resizeAreaInteger(const View& src, uint8_t* dst, int dw, int dh, int kx, int ky) {
  const int cn = src.channels;
  const int64_t srcStride = static_cast<int64_t>(src.width) * cn;
  const int rowLen = dw * cn;
  const float scale = 1.f / static_cast<float>(kx * ky);
  // OpenCV's own 2×2 kernel rounds half up; other factors round sum · (1/area) half to even
  const bool halving = kx == 2 && ky == 2;
  for (int d = 0; d < dh; d++) {
    const uint8_t* top = src.data + static_cast<int64_t>(d) * ky * srcStride;
    uint8_t* out = dst + static_cast<int64_t>(d) * rowLen;
    for (int e = 0; e < rowLen; e++) {
      const int px = e / cn, c = e % cn;
      int sum = 0;
      for (int j = 0; j < ky; j++) {
        const uint8_t* p = top + j * srcStride + static_cast<int64_t>(px) * kx * cn + c;
        for (int i = 0; i < kx; i++) sum += p[i * cn];
      }
      out[e] = halving ? static_cast<uint8_t>((sum + 2) >> 2) : saturateU8(roundHalfEven(sum * scale));
    }
  }
}

/// One source index's share of one destination cell (OpenCV's DecimateAlpha).
struct Share {
  int dst;
  int src;
  float alpha;
};

std::vector<Share> areaShares(int src, int dst, double scale) {
  std::vector<Share> tab;
  tab.reserve(static_cast<size_t>(src) * 2);
  for (int d = 0; d < dst; d++) {
    const double f1 = d * scale, f2 = f1 + scale;
    const double cell = std::min(scale, src - f1);
    int s1 = static_cast<int>(std::ceil(f1)), s2 = static_cast<int>(std::floor(f2));
    s2 = std::min(s2, src - 1);
    s1 = std::min(s1, s2);
    if (s1 - f1 > 1e-3) tab.push_back({d, s1 - 1, static_cast<float>((s1 - f1) / cell)});
    for (int s = s1; s < s2; s++) tab.push_back({d, s, static_cast<float>(1.0 / cell)});
    if (f2 - s2 > 1e-3) tab.push_back({d, s2, static_cast<float>(std::min(std::min(f2 - s2, 1.), cell) / cell)});
  }
  return tab;
}

/// INTER_AREA by non-integer factors (both ≥ 1): overlap-weighted float sums in OpenCV's order.
void resizeAreaFractional(const View& src, uint8_t* dst, int dw, int dh, double scaleX, double scaleY) {
  const int cn = src.channels;
  const std::vector<Share> xs = areaShares(src.width, dw, scaleX);
  const std::vector<Share> ys = areaShares(src.height, dh, scaleY);
  const int rowLen = dw * cn;
  std::vector<float> buf(rowLen), sum(rowLen, 0.f);
  const auto flush = [&](int dy) {
    uint8_t* out = dst + static_cast<int64_t>(dy) * rowLen;
    for (int e = 0; e < rowLen; e++) out[e] = saturateU8(roundHalfEven(sum[e]));
  };
  int prev = ys.empty() ? 0 : ys[0].dst;
  int bufRow = -1;  // the source row whose horizontal pass is in buf (a row shared by two cells is done once)
  for (const Share& y : ys) {
    if (y.src != bufRow) {
      const uint8_t* row = src.data + static_cast<int64_t>(y.src) * src.width * cn;
      std::fill(buf.begin(), buf.end(), 0.f);
      for (const Share& x : xs) {
        float* b = buf.data() + static_cast<int64_t>(x.dst) * cn;
        const uint8_t* p = row + static_cast<int64_t>(x.src) * cn;
        for (int c = 0; c < cn; c++) b[c] = b[c] + static_cast<float>(p[c]) * x.alpha;
      }
      bufRow = y.src;
    }
    if (y.dst != prev) {
      flush(prev);
      for (int e = 0; e < rowLen; e++) sum[e] = y.alpha * buf[e];
      prev = y.dst;
    } else {
      for (int e = 0; e < rowLen; e++) sum[e] += y.alpha * buf[e];
    }
  }
  flush(prev);
}

void copy(const View& src, uint8_t* dst) {
  std::memcpy(dst, src.data, static_cast<size_t>(src.width) * src.height * src.channels);
}

}  // namespace

void resizeLinear(const View& src, uint8_t* dst, int dw, int dh) {
  if (dw == src.width && dh == src.height) return copy(src, dst);
  const double scaleX = 1.0 / (static_cast<double>(dw) / src.width);
  const double scaleY = 1.0 / (static_cast<double>(dh) / src.height);
  if (scaleX == 2.0 && scaleY == 2.0) return resizeAreaInteger(src, dst, dw, dh, 2, 2);
  resizeSeparable(src, dst, dw, dh, scaleX, scaleY, false);
}

void resizeArea(const View& src, uint8_t* dst, int dw, int dh) {
  if (dw == src.width && dh == src.height) return copy(src, dst);
  const double scaleX = 1.0 / (static_cast<double>(dw) / src.width);
  const double scaleY = 1.0 / (static_cast<double>(dh) / src.height);
  if (scaleX < 1 || scaleY < 1) return resizeSeparable(src, dst, dw, dh, scaleX, scaleY, true);
  const int kx = static_cast<int>(std::lround(scaleX)), ky = static_cast<int>(std::lround(scaleY));
  const double eps = 2.220446049250313e-16;  // DBL_EPSILON: OpenCV's test for an integer factor
  if (std::abs(scaleX - kx) < eps && std::abs(scaleY - ky) < eps) return resizeAreaInteger(src, dst, dw, dh, kx, ky);
  resizeAreaFractional(src, dst, dw, dh, scaleX, scaleY);
}

}  // namespace sladet_image
