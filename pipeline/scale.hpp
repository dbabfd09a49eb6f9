#pragma once
// The paper's two scales: coarse networks see whole slices, fine networks the crop around the
// pancreas (section 3).
#include <string>
#include <string_view>

#include "errors.hpp"

namespace c2f {

enum class Scale { Coarse, Fine };

inline const char* scale_name(Scale s) { return s == Scale::Coarse ? "coarse" : "fine"; }

inline Scale parse_scale(std::string_view name) {
  if (name == "coarse") return Scale::Coarse;
  if (name == "fine") return Scale::Fine;
  throw OptionError("unknown scale '" + std::string(name) + "' (expected coarse or fine)");
}

}  // namespace c2f
