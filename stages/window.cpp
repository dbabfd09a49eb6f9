#include "window.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

void WindowOptions::validate() const {
  if (!std::isfinite(lower_hu) || !std::isfinite(upper_hu) || !(lower_hu < upper_hu))
    throw OptionError(fmt::format("HU window [{}, {}]: lower must be below upper", lower_hu, upper_hu));
}

Volume<float> window_normalize(const Image& hu, const WindowOptions& o) {
  o.validate();
  Volume<float> out(hu.geometry());
  const float lo = o.lower_hu, scale = 1.0f / (o.upper_hu - o.lower_hu);
  const float* src = hu.data();
  float* dst = out.data();
  const std::int64_t n = hu.size();
  for (std::int64_t i = 0; i < n; ++i) dst[i] = std::clamp((src[i] - lo) * scale, 0.0f, 1.0f);
  return out;
}

}  // namespace c2f
