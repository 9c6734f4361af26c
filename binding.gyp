{
  "targets": [
    {
      "target_name": "sladet",
      "sources": [
        "native/addon.cc",
        "native/common.cc",
        "native/tensor.cc",
        "native/ops.cc",
        "native/nn.cc",
        "native/autograd.cc",
        "native/random.cc",
        "native/optim.cc",
        "native/vision.cc",
        "native/dist.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "_GLIBCXX_USE_CXX11_ABI=<!(node tools/native-config.mjs cxxabi)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "-frtti",
        "-O2",
        "-Wno-unused-parameter",
        "<!@(node tools/native-config.mjs include | tr ' ' '\\n' | sed 's/^/-isystem/')"
      ],
      "libraries": [
        "-L<!(node tools/native-config.mjs libdir)",
        "<!(node tools/native-config.mjs rpath)",
        "-ltorch",
        "-ltorch_cpu",
        "-lc10"
      ],
      "ldflags": ["-Wl,--no-as-needed"]
    },
    {
      "target_name": "sladet_image",
      "sources": ["native/image/addon.cc", "native/image/resize.cc", "native/image/hsv.cc", "native/image/warp.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-ffp-contract=off", "-Wno-unused-parameter"]
    }
  ]
}
