#include <doctest/doctest.h>

#include "../../model/dsc_loss.hpp"
#include "../../model/segmentation_model.hpp"
#include "../../pipeline/errors.hpp"

using namespace c2f;

TEST_CASE("both models map 3 slices to 3 masks of the input's size, at any size") {
  torch::InferenceMode guard;
  for (const auto& name : model_names("coarse-to-fine")) {
    CAPTURE(name);
    auto m = make_model(name);
    m->eval();
    CHECK(m->name() == name);
    for (auto [h, w] : {std::pair<std::int64_t, std::int64_t>{37, 53}, {64, 48}}) {
      const auto y = m->forward(torch::rand({2, 3, h, w}));
      CHECK(y.sizes() == torch::IntArrayRef({2, 3, h, w}));
    }
  }
}

TEST_CASE("the light model needs at least 10x fewer multiply-adds than fcn8s-vgg16 at the same size") {
  auto fcn = make_model("fcn8s-vgg16");
  auto light = make_model("light-unet");
  const auto fcn_macs = forward_macs(*fcn, 160, 160), light_macs = forward_macs(*light, 160, 160);
  MESSAGE("MAC at 160x160: fcn8s-vgg16 " << fcn_macs << ", light-unet " << light_macs);
  CHECK(light_macs > 0);
  CHECK(fcn_macs >= 10 * light_macs);
  // VGG-16 + fc6/fc7 as convolutions: about 134 M parameters; the light model well under 1 M.
  const auto fcn_params = parameter_count(*fcn), light_params = parameter_count(*light);
  CHECK(fcn_params > 130'000'000);
  CHECK(fcn_params < 140'000'000);
  CHECK(light_params < 1'000'000);
}

TEST_CASE("an untrained fcn8s-vgg16 predicts 0.5 everywhere: its score layers start at zero") {
  torch::InferenceMode guard;
  auto m = make_model("fcn8s-vgg16");
  m->eval();
  const auto y = m->forward(torch::rand({1, 3, 40, 40}));
  CHECK(y.abs().max().item<float>() == 0.0f);
}

TEST_CASE("the light model learns a disc through the DSC loss in a hundred steps") {
  torch::manual_seed(1);
  auto m = make_model("light-unet");
  m->train();
  auto yy = torch::arange(48).view({48, 1}).expand({48, 48}), xx = torch::arange(48).view({1, 48}).expand({48, 48});
  const auto disc = ((xx - 20).pow(2) + (yy - 26).pow(2) < 100).to(torch::kFloat);
  const auto x = (disc * 0.6 + 0.2 + 0.05 * torch::randn({48, 48})).expand({1, 3, 48, 48}).contiguous();
  const auto target = disc.expand({1, 3, 48, 48}).contiguous();
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(3e-3));
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    const auto loss = dsc_loss(torch::sigmoid(m->forward(x)), target);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  MESSAGE("DSC loss: first step " << first << ", after 100 steps " << last);
  CHECK(last < 0.2);
  CHECK(last < first);
}

TEST_CASE("unknown model names are refused with the known ones listed") {
  CHECK_THROWS_WITH_AS(make_model("resnet"), doctest::Contains("fcn8s-vgg16, light-unet"), OptionError);
}
