#pragma once
// The named settings of a training run (c2f-train's --preset):
//   paper:   TrainingOptions' defaults, the paper's training: each case's own grid, no domain
//            randomisation, coarse slices with at least 1 % pancreas, fine frames of 10-20 px
//            drawn around the truth's box and no slice beyond it;
//   real-ct: what lifted c2f on real scans (README): a 2 mm grid, every domain randomisation
//            part, coarse slices with at least 0.5 % pancreas, fine frames of 10-30 px and 4 slices
//            beyond the truth's box each side.
// Neither takes slices without pancreas. Beside TrainingOptions, as the inference presets are
// beside SegmentationOptions (segmentation_presets.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "training_graph.hpp"

namespace c2f {

enum class TrainingPreset { RealCt, Paper };

// "real-ct" | "paper"; throws OptionError naming both.
TrainingPreset parse_training_preset(std::string_view name);
const char* training_preset_name(TrainingPreset preset);
std::vector<std::string> training_preset_names();

// The fields of TrainingOptions that a preset sets and a command line may set explicitly.
struct TrainingPresetFields {
  bool spacing_mm = false;
  bool randomization = false;
  bool min_pancreas_share = false;
  bool negative_share = false;
  bool fine_frame_px = false;  // min_frame_px and max_frame_px together
  bool fine_slice_margin = false;
};

// `options` with the preset's values, except the fields in `explicitly_set`, which keep the value
// they hold: what a command line says wins over the preset. Every other field is left as it is.
TrainingOptions apply_preset(TrainingPreset preset, TrainingOptions options, const TrainingPresetFields& explicitly_set = {});

}  // namespace c2f
