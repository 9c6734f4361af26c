// The pixel half of YOLOv5's random_perspective as sladet defines it (src/data/augment/perspective.ts): every output
// pixel centre (x + ½, y + ½) is mapped through the inverse matrix to the source; the RGB image is sampled bilinearly
// between the four nearest source pixel centres (those outside the source read as the pad grey) and rounded half up,
// the 0/1 region mask takes the source pixel that contains the point (outside: the mask fill). Same double arithmetic
// in the same order as the JavaScript it replaces (built with -ffp-contract=off), so results are bit-identical to it
// (test/data/image-kernels.test.ts).
#include <cmath>

#include "kernels.h"

namespace sladet_image {
namespace {

/// JavaScript's Math.round for v ≥ 0 (ties up), exactly: floor(v + 0.5) would round 0.49999999999999994 up.
inline uint8_t roundHalfUp(double v) {
  double r = std::floor(v);
  if (v - r >= 0.5) r += 1;
  return static_cast<uint8_t>(r);
}

}  // namespace

void warpBilinear(const View& src, const uint8_t* srcMask, uint8_t* dst, uint8_t* dstMask, int outWidth,
                  int outHeight, const double inv[9], uint8_t pad, uint8_t maskFill) {
  const int w = src.width, h = src.height;
  const uint8_t* s = src.data;
  const bool projective = inv[6] != 0 || inv[7] != 0 || inv[8] != 1;
  int64_t o = 0;
  for (int y = 0; y < outHeight; y++) {
    const double cy = y + 0.5;
    // homogeneous source coordinates of the centre of pixel (0, y), advanced by one column per step
    double X = inv[0] * 0.5 + inv[1] * cy + inv[2];
    double Y = inv[3] * 0.5 + inv[4] * cy + inv[5];
    double Z = inv[6] * 0.5 + inv[7] * cy + inv[8];
    for (int x = 0; x < outWidth; x++, o++, X += inv[0], Y += inv[3], Z += inv[6]) {
      const double sx = projective ? X / Z : X;
      const double sy = projective ? Y / Z : Y;
      const double mi = std::floor(sx), mj = std::floor(sy);
      if (dstMask) {
        const bool inside = mi >= 0 && mj >= 0 && mi < w && mj < h;
        dstMask[o] = inside ? srcMask[static_cast<int64_t>(mj) * w + static_cast<int64_t>(mi)] : maskFill;
      }
      const double u = sx - 0.5, v = sy - 0.5;
      const double fi0 = std::floor(u), fj0 = std::floor(v);
      uint8_t* d = dst + o * 3;
      if (fi0 < -1 || fj0 < -1 || fi0 >= w || fj0 >= h) {
        d[0] = d[1] = d[2] = pad;
        continue;
      }
      const int64_t i0 = static_cast<int64_t>(fi0), j0 = static_cast<int64_t>(fj0);
      const double fu = u - fi0, fv = v - fj0;
      const double w00 = (1 - fu) * (1 - fv), w10 = fu * (1 - fv), w01 = (1 - fu) * fv, w11 = fu * fv;
      const bool in0 = i0 >= 0, in1 = i0 + 1 < w, jn0 = j0 >= 0, jn1 = j0 + 1 < h;
      const int64_t p00 = (j0 * w + i0) * 3, p10 = p00 + 3, p01 = p00 + static_cast<int64_t>(w) * 3, p11 = p01 + 3;
      for (int c = 0; c < 3; c++) {
        const double a = in0 && jn0 ? s[p00 + c] : pad;
        const double b = in1 && jn0 ? s[p10 + c] : pad;
        const double e = in0 && jn1 ? s[p01 + c] : pad;
        const double f = in1 && jn1 ? s[p11 + c] : pad;
        d[c] = roundHalfUp(a * w00 + b * w10 + e * w01 + f * w11);
      }
    }
  }
}

}  // namespace sladet_image
