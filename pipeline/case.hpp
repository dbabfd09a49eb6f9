#pragma once
// A Case: one CT volume with its optional ground truth, as it travels through the graphs.
#include <memory>
#include <optional>
#include <string>

#include "volume.hpp"

namespace c2f {

struct Case {
  std::string id;                           // e.g. "PANCREAS_0001", "pancreas_004", "phantom_000"
  std::shared_ptr<const Image> image;       // canonical RAS grid, HU
  std::shared_ptr<const Mask> label;        // same grid as image, or null
  std::string source;                       // where the image came from (file or folder)
  std::string label_source;                 // where the label came from, if any
  NativeLayout layout;                      // how to write results back onto the input's grid
};

}  // namespace c2f
