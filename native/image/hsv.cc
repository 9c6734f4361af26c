// YOLOv5's augment_hsv on 8-bit images with OpenCV's colour conversions, reproduced bit for bit (checked by
// test/data/image-kernels.test.ts against tools/oracle/pixels.py, python3-opencv 4.6):
// - RGB → HSV (cv::COLOR_RGB2HSV, 8-bit): V = max, S = round(255·(V − min)/V), hue in half degrees 0..179, all in
//   OpenCV's fixed point (12 fractional bits, reciprocal tables rounded half to even).
// - the three lookup tables of augment_hsv: hue · rh mod 180, saturation · rs and value · rv clipped to 0..255, each
//   truncated to an integer (numpy's astype(uint8)).
// - HSV → RGB (cv::COLOR_HSV2RGB, 8-bit): in float (S and V scaled by 1/255, hue by 6/180), the sector formula, each
//   channel · 255 truncated, as OpenCV's SIMD kernel does. OpenCV's scalar tail (the last width mod 4·lanes pixels of
//   each row: 16, 32 or 64 by the CPU's vector width; none for 640-pixel rows) rounds instead of truncating, so there
//   OpenCV can be 1 level higher; we use the SIMD rule everywhere, so the result does not depend on the CPU. OpenCV's
//   AVX2 build fuses v·(1 − s·h)'s inner multiply-subtract (and the sector's) into FMAs: so do we (std::fma). On a CPU
//   without AVX2, OpenCV's SSE code rounds those twice and may differ from this by 1 level on rare pixels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace sladet_image {
namespace {

/// Fractional bits of OpenCV's 8-bit RGB → HSV arithmetic (hsv_shift).
constexpr int kHsvShift = 12;
/// Hue levels of OpenCV's 8-bit HSV (degrees / 2).
constexpr int kHueLevels = 180;

struct HsvTables {
  int sdiv[256];
  int hdiv[256];
};

HsvTables hsvTables() {
  HsvTables t{};
  for (int i = 1; i < 256; i++) {
    t.sdiv[i] = static_cast<int>(std::lrint((255 << kHsvShift) / (1. * i)));
    t.hdiv[i] = static_cast<int>(std::lrint((kHueLevels << kHsvShift) / (6. * i)));
  }
  return t;
}

struct Luts {
  uint8_t hue[256], sat[256], val[256];
};

Luts gainLuts(double rh, double rs, double rv) {
  Luts l{};
  for (int x = 0; x < 256; x++) {
    double h = std::fmod(x * rh, static_cast<double>(kHueLevels));
    if (h < 0) h += kHueLevels;  // Python's % takes the divisor's sign
    l.hue[x] = static_cast<uint8_t>(static_cast<int>(h));
    l.sat[x] = static_cast<uint8_t>(static_cast<int>(std::clamp(x * rs, 0.0, 255.0)));
    l.val[x] = static_cast<uint8_t>(static_cast<int>(std::clamp(x * rv, 0.0, 255.0)));
  }
  return l;
}

inline void rgbToHsv(const HsvTables& t, int r, int g, int b, int& h, int& s, int& v) {
  v = std::max({r, g, b});
  const int vmin = std::min({r, g, b});
  const int diff = v - vmin;
  s = (diff * t.sdiv[v] + (1 << (kHsvShift - 1))) >> kHsvShift;
  int hh;
  if (v == r) hh = g - b;
  else if (v == g) hh = b - r + 2 * diff;
  else hh = r - g + 4 * diff;
  hh = (hh * t.hdiv[diff] + (1 << (kHsvShift - 1))) >> kHsvShift;
  if (hh < 0) hh += kHueLevels;
  h = std::clamp(hh, 0, 255);
}

/// A channel in 0..1 to 8 bits as OpenCV's SIMD HSV2RGB_b does: · 255, truncated (its scalar tail rounds instead).
inline uint8_t toU8(float v) { return static_cast<uint8_t>(std::clamp(static_cast<int>(v * 255.0f), 0, 255)); }

/// 8-bit HSV → RGB as OpenCV's SIMD kernel computes one lane, with the factors that depend on hue and saturation
/// only (1 − s, 1 − s·f, 1 − s·(1 − f)) tabulated once per call: every output is v times one of them, or v.
class HsvToRgb {
 public:
  HsvToRgb() : factors_(kHueLevels * 256) {
    const float hscale = 6.0f / kHueLevels;
    for (int h8 = 0; h8 < kHueLevels; h8++) {
      const float h = static_cast<float>(h8) * hscale;
      const float preSector = std::trunc(h);
      const float f = h - preSector;
      sector_[h8] = static_cast<int>(std::fma(-std::trunc(preSector * (1.0f / 6.0f)), 6.0f, preSector));
      for (int s8 = 0; s8 < 256; s8++) {
        const float s = static_cast<float>(s8) * (1.0f / 255.0f);
        factors_[h8 * 256 + s8] = {1.f - s, std::fma(-s, f, 1.f), std::fma(-s, 1.f - f, 1.f)};
      }
    }
  }

  void operator()(int h8, int s8, int v8, uint8_t* rgb) const {
    const float v = static_cast<float>(v8) * (1.0f / 255.0f);
    const Factors& k = factors_[h8 * 256 + s8];
    const float tab1 = v * k.a, tab2 = v * k.b, tab3 = v * k.c;
    // each sixth of the hue circle picks which of v, tab1..tab3 is r, g and b
    float r, g, b;
    switch (sector_[h8]) {
      case 0: r = v, g = tab3, b = tab1; break;
      case 1: r = tab2, g = v, b = tab1; break;
      case 2: r = tab1, g = v, b = tab3; break;
      case 3: r = tab1, g = tab2, b = v; break;
      case 4: r = tab3, g = tab1, b = v; break;
      default: r = v, g = tab1, b = tab2;
    }
    rgb[0] = toU8(r);
    rgb[1] = toU8(g);
    rgb[2] = toU8(b);
  }

 private:
  struct Factors {
    float a, b, c;
  };
  std::vector<Factors> factors_;
  int sector_[kHueLevels];
};

}  // namespace

void hsvGains(uint8_t* rgb, int64_t pixels, double rh, double rs, double rv) {
  const HsvTables t = hsvTables();
  const Luts l = gainLuts(rh, rs, rv);
  const HsvToRgb toRgb;
  for (int64_t i = 0; i < pixels; i++) {
    uint8_t* p = rgb + i * 3;
    int h, s, v;
    rgbToHsv(t, p[0], p[1], p[2], h, s, v);
    toRgb(l.hue[h], l.sat[s], l.val[v], p);
  }
}

}  // namespace sladet_image
