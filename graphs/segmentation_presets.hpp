#pragma once
// The named settings of the inference graph that c2f-segment, c2f-eval and c2f-bench share:
//   paper:         SegmentationOptions' defaults (frame 15, mean fusion of the views, no
//                  post-processing), as the paper describes its method;
//   released-code: what the authors' released code does instead (frame 20, majority fusion of the
//                  coarse views, the fine mask's components of at least half the largest kept).
// Beside SegmentationOptions (segmentation_graph.hpp) because a preset is a value of those
// options: the library, not each executable, says what a preset means, so the executables cannot
// disagree on it and a test can check it without running one.
#include <string>
#include <string_view>
#include <vector>

#include "segmentation_graph.hpp"

namespace c2f {

enum class SegmentationPreset { Paper, ReleasedCode };

// "paper" | "released-code"; throws OptionError naming both.
SegmentationPreset parse_segmentation_preset(std::string_view name);
const char* segmentation_preset_name(SegmentationPreset preset);
std::vector<std::string> segmentation_preset_names();
// What the preset sets, for help texts: "frame 20, majority coarse fusion, fine post-processing".
std::string describe_segmentation_preset(SegmentationPreset preset);

// The fields of SegmentationOptions that a preset sets and a command line may set explicitly.
struct SegmentationPresetFields {
  bool frame_px = false;
  bool coarse_fusion = false;  // the rule; the weights are the command line's in any case
};

// `options` with the preset's frame, coarse fusion rule and fine post-processing, except the
// fields in `explicitly_set`, which keep the value they hold: what a command line says wins over
// the preset. Every other field is left as it is.
SegmentationOptions apply_preset(SegmentationPreset preset, SegmentationOptions options,
                                 const SegmentationPresetFields& explicitly_set = {});

}  // namespace c2f
