#include <doctest/doctest.h>

#include "../../graphs/segmentation_presets.hpp"
#include "../../pipeline/errors.hpp"

using namespace c2f;

TEST_CASE("the paper preset is SegmentationOptions' defaults") {
  SegmentationOptions changed;
  changed.frame_px = 7;
  changed.coarse_fusion.rule = FusionRule::Majority;
  changed.fine_post_processing = true;
  const SegmentationOptions o = apply_preset(SegmentationPreset::Paper, changed);
  const SegmentationOptions defaults;
  CHECK(o.frame_px == defaults.frame_px);
  CHECK(o.frame_px == 15);
  CHECK(o.coarse_fusion.rule == FusionRule::Mean);
  CHECK_FALSE(o.fine_post_processing);
}

TEST_CASE("the released-code preset: frame 20, majority fusion of the coarse views, fine post-processing") {
  const SegmentationOptions o = apply_preset(SegmentationPreset::ReleasedCode, {});
  CHECK(o.frame_px == 20);
  CHECK(o.coarse_fusion.rule == FusionRule::Majority);
  CHECK(o.fine_fusion.rule == FusionRule::Mean);
  CHECK(o.fine_post_processing);
  CHECK(describe_segmentation_preset(SegmentationPreset::ReleasedCode) ==
        "frame 20, majority coarse fusion, fine post-processing");
  CHECK(describe_segmentation_preset(SegmentationPreset::Paper) == "frame 15, mean coarse fusion");
}

TEST_CASE("a frame or coarse fusion set explicitly wins over any preset, and other options are left as they are") {
  SegmentationOptions mine;
  mine.frame_px = 12;
  mine.coarse_fusion.rule = FusionRule::Weighted;
  mine.coarse_fusion.weights = {1, 1, 2};
  mine.convergence.max_iterations = 4;
  mine.window = {-50, 200};
  mine.coarse_post_processing = true;
  for (const SegmentationPreset p : {SegmentationPreset::Paper, SegmentationPreset::ReleasedCode}) {
    CAPTURE(segmentation_preset_name(p));
    const SegmentationOptions o = apply_preset(p, mine, {.frame_px = true, .coarse_fusion = true});
    CHECK(o.frame_px == 12);
    CHECK(o.coarse_fusion.rule == FusionRule::Weighted);
    CHECK(o.coarse_fusion.weights == std::array<float, 3>{1, 1, 2});
    CHECK(o.convergence.max_iterations == 4);
    CHECK(o.window == WindowOptions{-50, 200});
    CHECK(o.coarse_post_processing);
  }
  // Only the frame set: the preset's fusion rule.
  const SegmentationOptions o = apply_preset(SegmentationPreset::ReleasedCode, mine, {.frame_px = true});
  CHECK(o.frame_px == 12);
  CHECK(o.coarse_fusion.rule == FusionRule::Majority);
}

TEST_CASE("preset names: each parses back to its preset, and an unknown one throws OptionError naming the known") {
  for (const auto& name : segmentation_preset_names()) CHECK(segmentation_preset_name(parse_segmentation_preset(name)) == name);
  CHECK(segmentation_preset_names() == std::vector<std::string>{"paper", "released-code"});
  CHECK_THROWS_WITH_AS(parse_segmentation_preset("fastest"), doctest::Contains("paper or released-code"), OptionError);
}
