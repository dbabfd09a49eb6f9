#pragma once
// WindowNormalize: clip HU to a window and scale it to [0, 1], the networks' input range.
//   in:  Image (HU)        out: Volume<float> in [0, 1]
//   parameters: lower_hu = -100, upper_hu = 240 (the official code's window; METHOD.md)
//   notes: memory-bound, one pass; no threads of its own.
#include "../pipeline/volume.hpp"

namespace c2f {

struct WindowOptions {
  float lower_hu = -100.0f;
  float upper_hu = 240.0f;
  void validate() const;  // throws OptionError unless lower < upper, both finite
  bool operator==(const WindowOptions&) const = default;
};

Volume<float> window_normalize(const Image& hu, const WindowOptions& options = {});

struct WindowNormalize {
  WindowOptions options;
  Volume<float> operator()(const Image& hu) const { return window_normalize(hu, options); }
};

}  // namespace c2f
