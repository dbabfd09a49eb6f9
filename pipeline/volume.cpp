#include "c2f/pipeline/volume.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "c2f/pipeline/errors.hpp"

namespace c2f {

const char* view_name(View v) {
  switch (v) {
    case View::Coronal: return "coronal";
    case View::Sagittal: return "sagittal";
    case View::Axial: return "axial";
  }
  return "?";
}

View parse_view(std::string_view name) {
  std::string s(name);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "coronal" || s == "c") return View::Coronal;
  if (s == "sagittal" || s == "s") return View::Sagittal;
  if (s == "axial" || s == "a") return View::Axial;
  throw OptionError("unknown view '" + std::string(name) + "' (expected coronal, sagittal or axial)");
}

std::int64_t count_foreground(const Mask& mask) {
  return std::count_if(mask.voxels().begin(), mask.voxels().end(), [](std::uint8_t v) { return v != 0; });
}

}  // namespace c2f
