#include "segmentation_presets.hpp"

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

SegmentationPreset parse_segmentation_preset(std::string_view name) {
  if (name == "paper") return SegmentationPreset::Paper;
  if (name == "released-code") return SegmentationPreset::ReleasedCode;
  throw OptionError(fmt::format("unknown preset '{}' (expected paper or released-code)", name));
}

const char* segmentation_preset_name(SegmentationPreset preset) {
  return preset == SegmentationPreset::Paper ? "paper" : "released-code";
}

std::vector<std::string> segmentation_preset_names() { return {"paper", "released-code"}; }

std::string describe_segmentation_preset(SegmentationPreset preset) {
  const SegmentationOptions o = apply_preset(preset, {});
  return fmt::format("frame {}, {} coarse fusion{}", o.frame_px, fusion_rule_name(o.coarse_fusion.rule),
                     o.fine_post_processing ? ", fine post-processing" : "");
}

SegmentationOptions apply_preset(SegmentationPreset preset, SegmentationOptions o,
                                 const SegmentationPresetFields& explicitly_set) {
  const SegmentationOptions paper;  // the paper's values are the options' defaults
  const bool released = preset == SegmentationPreset::ReleasedCode;
  if (!explicitly_set.frame_px) o.frame_px = released ? 20 : paper.frame_px;
  if (!explicitly_set.coarse_fusion) o.coarse_fusion.rule = released ? FusionRule::Majority : paper.coarse_fusion.rule;
  o.fine_post_processing = released || paper.fine_post_processing;
  return o;
}

}  // namespace c2f
