#include <doctest/doctest.h>

#include "../../model/model_registry.hpp"
#include "../../model/segmentation_model.hpp"
#include "../../model/vgg_weights.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

TEST_CASE("each registry entry builds its network, which names itself as the entry does") {
  REQUIRE(model_names() == std::vector<std::string>{"fcn8s-vgg16", "light-unet", "p-convnet", "r1-convnet", "r2-convnet"});
  CHECK(model_names("coarse-to-fine") == std::vector<std::string>{"fcn8s-vgg16", "light-unet"});
  CHECK(model_names("deeporgan") == std::vector<std::string>{"p-convnet", "r1-convnet", "r2-convnet"});
  for (const ModelEntry& e : model_registry()) {
    CAPTURE(e.name);
    const SegmentationModel m = e.make();
    REQUIRE(m);
    CHECK(m->name() == e.name);
    CHECK(&model_entry(e.name) == &e);
    CHECK_FALSE(e.description.empty());
  }
}

TEST_CASE("the registry holds each network's training defaults and whether it takes VGG-16 weights") {
  const ModelEntry& fcn = model_entry("fcn8s-vgg16");
  CHECK(fcn.optimizer == Optimizer::Sgd);  // the released code's solver
  CHECK(fcn.learning_rate == 1e-5);
  CHECK(bool(fcn.load_vgg_weights));
  const ModelEntry& light = model_entry("light-unet");
  CHECK(light.optimizer == Optimizer::Adam);
  CHECK(light.learning_rate == 1e-3);
  CHECK_FALSE(bool(light.load_vgg_weights));
}

TEST_CASE("the VGG-16 loader of the registry reaches the network it built (a missing file is named)") {
  const ModelEntry& fcn = model_entry("fcn8s-vgg16");
  const SegmentationModel m = fcn.make();
  test::ScratchDir dir("registry-vgg");
  CHECK_THROWS_WITH_AS(fcn.load_vgg_weights(*m, dir / "absent.h5"), doctest::Contains("no such file"), InputError);
}

TEST_CASE("unknown model and optimiser names throw OptionError naming the known ones") {
  CHECK_THROWS_WITH_AS(model_entry("resnet"),
                       "unknown model 'resnet' (known: fcn8s-vgg16, light-unet, p-convnet, r1-convnet, r2-convnet)",
                       OptionError);
  CHECK_THROWS_WITH_AS(check_model_name("p-convnet", "coarse-to-fine"),
                       "model 'p-convnet' is a deeporgan network, not one for coarse-to-fine (known: fcn8s-vgg16, light-unet)",
                       OptionError);
  CHECK_NOTHROW(check_model_name("r2-convnet", "deeporgan"));
  CHECK_THROWS_AS(check_model_name("unet"), OptionError);
  CHECK_NOTHROW(check_model_name("light-unet"));
  for (const Optimizer o : {Optimizer::Sgd, Optimizer::Adam}) CHECK(parse_optimizer(optimizer_name(o)) == o);
  CHECK(std::string(optimizer_name(Optimizer::Sgd)) == "sgd");
  CHECK_THROWS_WITH_AS(parse_optimizer("rmsprop"), "unknown optimiser 'rmsprop' (expected sgd or adam)", OptionError);
}
