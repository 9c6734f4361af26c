// Pixel kernels of sladet's image addon (no libtorch): OpenCV-identical resizing and HSV jitter of interleaved uint8
// images. Plain functions over caller-owned memory: no global state, safe from any thread.
#pragma once

#include <cstdint>

namespace sladet_image {

/// An interleaved 8-bit image (row stride = width * channels).
struct View {
  const uint8_t* data;
  int width;
  int height;
  int channels;
};

/// cv::resize(src, (dstWidth, dstHeight), interpolation=INTER_LINEAR) for CV_8U, bit for bit.
void resizeLinear(const View& src, uint8_t* dst, int dstWidth, int dstHeight);

/// cv::resize(src, (dstWidth, dstHeight), interpolation=INTER_AREA) for CV_8U, bit for bit.
void resizeArea(const View& src, uint8_t* dst, int dstWidth, int dstHeight);

/// YOLOv5's augment_hsv with fixed gains on an RGB image, in place: cvtColor RGB2HSV (8-bit: hue 0..179), the three
/// lookup tables (hue · rh mod 180, saturation · rs and value · rv clipped to 255, truncated), cvtColor HSV2RGB.
void hsvGains(uint8_t* rgb, int64_t pixels, double rh, double rs, double rv);

/// The pixels of sladet's random_perspective (src/data/augment/perspective.ts): RGB `src` (channels 3) sampled at the
/// pixel centres mapped by `inv` (row-major 3×3, output → source) into `dst` (outWidth × outHeight × 3), bilinearly,
/// `pad` outside; when `dstMask` is given, the one-channel `srcMask` (src's size) by the containing pixel, `maskFill`
/// outside.
void warpBilinear(const View& src, const uint8_t* srcMask, uint8_t* dst, uint8_t* dstMask, int outWidth,
                  int outHeight, const double inv[9], uint8_t pad, uint8_t maskFill);

}  // namespace sladet_image
