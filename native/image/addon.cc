// sladet's image addon (build/Release/sladet_image.node): OpenCV-identical pixel kernels for the data loader, which
// runs in worker threads that must not load the libtorch addon (design.md §2 lesson 8). No libtorch, no global
// state: every call works on the buffers it is given.
#include <napi.h>

#include <cstdint>
#include <exception>
#include <string>

#include "kernels.h"

namespace {

using sladet_image::View;

int intArg(const Napi::CallbackInfo& info, size_t i, const char* name, int min) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (v != static_cast<double>(static_cast<int64_t>(v)) || v < min || v > 1 << 20) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer in " + std::to_string(min) +
                                                "..1048576, got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  return info[i].As<Napi::Uint8Array>();
}

/// resize(src, width, height, channels, dstWidth, dstHeight, area) → Uint8Array (a new buffer).
Napi::Value Resize(const Napi::CallbackInfo& info) {
  const Napi::Uint8Array src = bytesArg(info, 0, "src");
  const int w = intArg(info, 1, "width", 1), h = intArg(info, 2, "height", 1), cn = intArg(info, 3, "channels", 1);
  const int dw = intArg(info, 4, "dstWidth", 1), dh = intArg(info, 5, "dstHeight", 1);
  if (cn > 4) throw Napi::RangeError::New(info.Env(), "channels must be 1..4");
  if (src.ByteLength() != static_cast<size_t>(w) * h * cn) {
    throw Napi::RangeError::New(info.Env(), "src holds " + std::to_string(src.ByteLength()) + " bytes, " +
                                                std::to_string(w) + "×" + std::to_string(h) + "×" +
                                                std::to_string(cn) + " expected");
  }
  const bool area = info[6].ToBoolean();
  Napi::Uint8Array dst = Napi::Uint8Array::New(info.Env(), static_cast<size_t>(dw) * dh * cn);
  const View view{src.Data(), w, h, cn};
  if (area) sladet_image::resizeArea(view, dst.Data(), dw, dh);
  else sladet_image::resizeLinear(view, dst.Data(), dw, dh);
  return dst;
}

/// hsvGains(rgb, rh, rs, rv): in place.
Napi::Value HsvGains(const Napi::CallbackInfo& info) {
  Napi::Uint8Array rgb = bytesArg(info, 0, "rgb");
  if (rgb.ByteLength() % 3 != 0) throw Napi::RangeError::New(info.Env(), "rgb's length must be a multiple of 3");
  double gains[3];
  for (int k = 0; k < 3; k++) {
    if (!info[k + 1].IsNumber()) throw Napi::TypeError::New(info.Env(), "the three gains must be numbers");
    gains[k] = info[k + 1].As<Napi::Number>().DoubleValue();
  }
  sladet_image::hsvGains(rgb.Data(), static_cast<int64_t>(rgb.ByteLength() / 3), gains[0], gains[1], gains[2]);
  return info.Env().Undefined();
}

/// warp(src, width, height, srcMask | null, dst, dstMask | null, outWidth, outHeight, inv: Float64Array(9), pad,
/// maskFill): writes dst (and dstMask).
Napi::Value Warp(const Napi::CallbackInfo& info) {
  const Napi::Uint8Array src = bytesArg(info, 0, "src");
  const int w = intArg(info, 1, "width", 1), h = intArg(info, 2, "height", 1);
  const bool withMask = !info[3].IsNull() && !info[3].IsUndefined();
  Napi::Uint8Array dst = bytesArg(info, 4, "dst");
  const int ow = intArg(info, 6, "outWidth", 1), oh = intArg(info, 7, "outHeight", 1);
  const auto bytes = [](int64_t a, int64_t b, int64_t c) { return static_cast<size_t>(a * b * c); };
  if (src.ByteLength() != bytes(w, h, 3) || dst.ByteLength() != bytes(ow, oh, 3)) {
    throw Napi::RangeError::New(info.Env(), "src and dst must hold width×height×3 and outWidth×outHeight×3 bytes");
  }
  const uint8_t* srcMask = nullptr;
  uint8_t* dstMask = nullptr;
  if (withMask) {
    const Napi::Uint8Array sm = bytesArg(info, 3, "srcMask");
    Napi::Uint8Array dm = bytesArg(info, 5, "dstMask");
    if (sm.ByteLength() != bytes(w, h, 1) || dm.ByteLength() != bytes(ow, oh, 1)) {
      throw Napi::RangeError::New(info.Env(), "srcMask and dstMask must hold one byte per pixel");
    }
    srcMask = sm.Data();
    dstMask = dm.Data();
  }
  if (!info[8].IsTypedArray() || info[8].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[8].As<Napi::Float64Array>().ElementLength() != 9) {
    throw Napi::TypeError::New(info.Env(), "inv must be a Float64Array of 9 numbers");
  }
  const int pad = intArg(info, 9, "pad", 0), maskFill = intArg(info, 10, "maskFill", 0);
  if (pad > 255 || maskFill > 255) throw Napi::RangeError::New(info.Env(), "pad and maskFill must be 0..255");
  sladet_image::warpBilinear(View{src.Data(), w, h, 3}, srcMask, dst.Data(), dstMask, ow, oh,
                             info[8].As<Napi::Float64Array>().Data(), static_cast<uint8_t>(pad),
                             static_cast<uint8_t>(maskFill));
  return info.Env().Undefined();
}

/// Runs a binding so that no C++ exception but Napi's own reaches N-API (an escaping one would abort Node).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("sladet_image: ") + e.what());
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("resize", Napi::Function::New(env, guarded<Resize>, "resize"));
  exports.Set("hsvGains", Napi::Function::New(env, guarded<HsvGains>, "hsvGains"));
  exports.Set("warp", Napi::Function::New(env, guarded<Warp>, "warp"));
  return exports;
}

}  // namespace

NODE_API_MODULE(sladet_image, Init)
