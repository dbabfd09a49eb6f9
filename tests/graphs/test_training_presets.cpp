#include <doctest/doctest.h>

#include "../../graphs/training_presets.hpp"
#include "../../pipeline/errors.hpp"

using namespace c2f;

TEST_CASE("the paper preset is TrainingOptions' defaults: own grids, no randomisation, 1 % pancreas, frames 10-20") {
  TrainingOptions changed;
  changed.spacing_mm = Vec3{1, 1, 1};
  changed.randomization = DomainRandomization{};
  changed.coarse.min_pancreas_share = 0.2;
  changed.coarse.negative_share = 0.25;
  changed.fine = {1, 2, 3};
  const TrainingOptions o = apply_preset(TrainingPreset::Paper, changed);
  CHECK_FALSE(o.spacing_mm);
  CHECK_FALSE(o.randomization.any());
  CHECK(o.coarse.min_pancreas_share == 0.01);
  CHECK(o.coarse.negative_share == 0);
  CHECK(o.fine.min_frame_px == 10);
  CHECK(o.fine.max_frame_px == 20);
  CHECK(o.fine.slice_margin == 0);
}

TEST_CASE("the real-ct preset: a 2 mm grid, every randomisation part, 0.5 % pancreas, frames 10-30, 4 slices beyond the box") {
  const TrainingOptions o = apply_preset(TrainingPreset::RealCt, {});
  REQUIRE(o.spacing_mm);
  CHECK(*o.spacing_mm == Vec3{2, 2, 2});
  CHECK(domain_randomization_parts(o.randomization) == domain_randomization_parts(DomainRandomization{}));
  CHECK(o.randomization.elastic);
  CHECK(o.coarse.min_pancreas_share == 0.005);
  CHECK(o.coarse.negative_share == 0);
  CHECK(o.fine.min_frame_px == 10);
  CHECK(o.fine.max_frame_px == 30);
  CHECK(o.fine.slice_margin == 4);
}

TEST_CASE("every training option set explicitly wins over the preset, and the others are left as they are") {
  TrainingOptions mine;
  mine.spacing_mm = std::nullopt;  // --spacing input
  mine.randomization = parse_domain_randomization("crop,noise");
  mine.coarse.min_pancreas_share = 0.02;
  mine.coarse.negative_share = 0.1;
  mine.fine.min_frame_px = 5;
  mine.fine.max_frame_px = 8;
  mine.fine.slice_margin = 2;
  mine.iterations = 77;
  mine.model = "fcn8s-vgg16";
  const TrainingPresetFields all{true, true, true, true, true, true};
  for (const TrainingPreset p : {TrainingPreset::RealCt, TrainingPreset::Paper}) {
    CAPTURE(training_preset_name(p));
    const TrainingOptions o = apply_preset(p, mine, all);
    CHECK_FALSE(o.spacing_mm);
    CHECK(domain_randomization_parts(o.randomization) == "crop,noise");
    CHECK(o.coarse.min_pancreas_share == 0.02);
    CHECK(o.coarse.negative_share == 0.1);
    CHECK(o.fine.min_frame_px == 5);
    CHECK(o.fine.max_frame_px == 8);
    CHECK(o.fine.slice_margin == 2);
    CHECK(o.iterations == 77);
    CHECK(o.model == "fcn8s-vgg16");
  }
  // One field set: the rest from the preset.
  const TrainingOptions o = apply_preset(TrainingPreset::RealCt, mine, {.fine_slice_margin = true});
  CHECK(o.fine.slice_margin == 2);
  CHECK(o.fine.max_frame_px == 30);
  CHECK(o.spacing_mm);
}

TEST_CASE("training preset names parse back, and an unknown one throws OptionError naming the known") {
  for (const auto& name : training_preset_names()) CHECK(training_preset_name(parse_training_preset(name)) == name);
  CHECK_THROWS_WITH_AS(parse_training_preset("fast"), doctest::Contains("real-ct or paper"), OptionError);
}

TEST_CASE("the optimiser and learning rate default to the model's registry entry unless set") {
  TrainingOptions o;
  o.model = "fcn8s-vgg16";
  CHECK(o.resolved_optimizer() == Optimizer::Sgd);
  CHECK(o.resolved_learning_rate() == 1e-5);
  o.model = "light-unet";
  CHECK(o.resolved_optimizer() == Optimizer::Adam);
  CHECK(o.resolved_learning_rate() == 1e-3);
  o.optimizer = Optimizer::Sgd;
  o.learning_rate = 0.02;
  CHECK(o.resolved_optimizer() == Optimizer::Sgd);
  CHECK(o.resolved_learning_rate() == 0.02);
  o.checkpoint = "unused.pt";
  o.learning_rate = -1;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("learning rate"), OptionError);
  o.learning_rate.reset();
  o.vgg_weights = "vgg16.h5";  // light-unet takes none
  CHECK_THROWS_WITH_AS(o.validate(), "VGG-16 weights apply to fcn8s-vgg16 only", OptionError);
}
