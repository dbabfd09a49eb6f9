#include <doctest/doctest.h>

#include "../../model/checkpoint.hpp"
#include "../../model/deeporgan_convnet.hpp"
#include "../../model/train_step.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

TEST_CASE("DeepOrgan's three ConvNets map N images of their channels to N two-way softmaxes, at patch and region sizes") {
  torch::InferenceMode guard;
  for (const auto& name : model_names("deeporgan")) {
    CAPTURE(name);
    auto m = make_model(name);
    m->eval();
    const std::int64_t c = deeporgan_input_channels(name);
    for (std::int64_t side : {kPatchPx, kRegionPx}) {
      const auto y = m->forward(torch::rand({5, c, side, side}));
      REQUIRE(y.sizes() == torch::IntArrayRef({5, 2}));
      const auto sums = torch::softmax(y, 1).sum(1);
      CHECK(torch::allclose(sums, torch::ones({5}), 1e-5, 1e-6));
    }
    CHECK_THROWS_AS(m->forward(torch::rand({1, c + 1, 64, 64})), std::invalid_argument);
    CHECK(parameter_count(*m) < 300'000);
  }
  CHECK(deeporgan_input_channels("p-convnet") == 3);
  CHECK(deeporgan_input_channels("r1-convnet") == 1);
  CHECK(deeporgan_input_channels("r2-convnet") == 2);
  CHECK_THROWS_AS(deeporgan_input_channels("light-unet"), OptionError);
}

TEST_CASE("classifier probabilities lie in [0, 1], and a few cross-entropy steps on a separable task reduce the loss") {
  torch::manual_seed(3);
  auto m = make_model("r1-convnet");
  auto opt = make_optimizer(*m, Optimizer::Adam, 1e-3);
  // Class 1: a bright disc in the middle; class 0: noise only.
  const std::int64_t n = 16, side = 32;
  std::vector<float> images(static_cast<std::size_t>(n * side * side));
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    labels[std::size_t(i)] = i % 2;
    for (std::int64_t y = 0; y < side; ++y)
      for (std::int64_t x = 0; x < side; ++x) {
        const bool disc = (x - 16) * (x - 16) + (y - 16) * (y - 16) < 64;
        images[std::size_t((i * side + y) * side + x)] = 0.2f * float((x * 7 + y * 13 + i * 5) % 11) / 11.0f + (i % 2 && disc ? 0.8f : 0.0f);
      }
  }
  const ClassifierBatch batch{images.data(), labels.data(), n, 1, side, side};
  const double before = classifier_loss(*m, batch);
  for (int step = 0; step < 25; ++step) classifier_train_step(*m, *opt, batch);
  const double after = classifier_loss(*m, batch);
  MESSAGE("cross-entropy before " << before << ", after 25 steps " << after);
  CHECK(after < 0.5 * before);
  std::vector<float> p(static_cast<std::size_t>(n));
  classifier_probabilities(*m, batch, p.data());
  for (std::int64_t i = 0; i < n; ++i) {
    CHECK(p[std::size_t(i)] >= 0.0f);
    CHECK(p[std::size_t(i)] <= 1.0f);
    CHECK((p[std::size_t(i)] > 0.5f) == bool(labels[std::size_t(i)]));
  }
}

TEST_CASE("a DeepOrgan checkpoint round-trips with its method and role, and either method refuses the other's file in one line") {
  test::ScratchDir dir("deeporgan-ckpt");
  torch::manual_seed(9);
  auto m = make_model("r2-convnet");
  CheckpointInfo info;
  info.method = "deeporgan";
  info.role = "R2-ConvNet";
  info.model = "r2-convnet";
  info.iteration = 12;
  save_checkpoint(dir / "r2-convnet.pt", *m, info);
  const auto back = load_checkpoint(dir / "r2-convnet.pt", {.model = "r2-convnet", .method = "deeporgan", .role = "R2-ConvNet"});
  CHECK(back.info.method == "deeporgan");
  CHECK(back.info.role == "R2-ConvNet");
  CHECK(back.info.iteration == 12);
  {
    torch::InferenceMode guard;
    m->eval();
    back.model->eval();
    const auto x = torch::rand({2, 2, 64, 64});
    CHECK(torch::equal(m->forward(x), back.model->forward(x)));
  }
  // The coarse-to-fine loader asks for a view and a scale: a coarse-to-fine network.
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "r2-convnet.pt", {"light-unet", "axial", "coarse"}),
                       doctest::Contains("holds a deeporgan network (R2-ConvNet), expected a coarse-to-fine one"), InputError);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "r2-convnet.pt", {.method = "deeporgan", .role = "P-ConvNet"}),
                       doctest::Contains("holds role 'R2-ConvNet', expected 'P-ConvNet'"), InputError);
  // A coarse-to-fine checkpoint (no method field in older files: coarse-to-fine) for DeepOrgan.
  auto unet = make_model("light-unet");
  CheckpointInfo c2f_info;
  c2f_info.model = "light-unet";
  c2f_info.view = "axial";
  c2f_info.scale = "coarse";
  save_checkpoint(dir / "coarse_axial.pt", *unet, c2f_info);
  CHECK(read_checkpoint_info(dir / "coarse_axial.pt").method == "coarse-to-fine");
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "coarse_axial.pt", {.method = "deeporgan", .role = "P-ConvNet"}),
                       doctest::Contains("holds a coarse-to-fine network, expected a deeporgan one"), InputError);
}
