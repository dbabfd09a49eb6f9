#include <doctest/doctest.h>

#include "../../model/checkpoint.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
CheckpointInfo info_for(const std::string& view, const std::string& scale) {
  CheckpointInfo i;
  i.model = "light-unet";
  i.view = view;
  i.scale = scale;
  i.iteration = 42;
  i.hyper = {{"learning_rate", 1e-3}, {"seed", 7}};
  return i;
}
}  // namespace

TEST_CASE("a checkpoint restores the same network, its info and the optimiser's state") {
  test::ScratchDir dir("ckpt");
  torch::manual_seed(5);
  auto model = make_model("light-unet");
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto x = torch::rand({1, 3, 32, 40});
  {  // one step so the optimiser has state
    opt.zero_grad();
    model->forward(x).mean().backward();
    opt.step();
  }
  save_checkpoint(dir / "axial_fine.pt", *model, info_for("axial", "fine"), &opt);
  CHECK(test::count_entries(dir.path()) == 1);  // no temporary left

  const LoadedCheckpoint back = load_checkpoint(dir / "axial_fine.pt", {"light-unet", "axial", "fine"});
  CHECK(back.info.iteration == 42);
  CHECK(back.info.hyper["seed"] == 7);
  CHECK(back.info.window.lower_hu == -100.0f);
  model->eval();
  back.model->eval();
  torch::InferenceMode guard;
  CHECK(torch::equal(model->forward(x), back.model->forward(x)));

  torch::optim::Adam resumed(back.model->parameters(), torch::optim::AdamOptions(1e-3));
  load_optimizer_state(dir / "axial_fine.pt", resumed);
  const auto& a = static_cast<torch::optim::AdamParamState&>(*opt.state().begin()->second);
  const auto& b = static_cast<torch::optim::AdamParamState&>(*resumed.state().begin()->second);
  CHECK(a.step() == b.step());
}

TEST_CASE("a checkpoint for another view, scale or model is refused with the mismatch named") {
  test::ScratchDir dir("ckpt-mismatch");
  auto model = make_model("light-unet");
  const auto path = dir / "coronal_coarse.pt";
  save_checkpoint(path, *model, info_for("coronal", "coarse"));
  CHECK_THROWS_WITH_AS(load_checkpoint(path, {"", "axial", ""}), doctest::Contains("holds view 'coronal', expected 'axial'"),
                       InputError);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, {"", "", "fine"}), doctest::Contains("scale 'coarse'"), InputError);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, {"fcn8s-vgg16", "", ""}), doctest::Contains("model 'light-unet'"), InputError);
  CHECK_THROWS_AS(save_checkpoint(dir / "x.pt", *model, [] {
                    auto i = info_for("axial", "fine");
                    i.model = "fcn8s-vgg16";
                    return i;
                  }()),
                  OptionError);
}

TEST_CASE("corrupt, truncated and foreign files are refused by name") {
  test::ScratchDir dir("ckpt-bad");
  auto model = make_model("light-unet");
  save_checkpoint(dir / "good.pt", *model, info_for("axial", "coarse"));
  const std::string bytes = test::read_bytes(dir / "good.pt");
  test::write_bytes(dir / "cut.pt", bytes.substr(0, bytes.size() / 2));
  test::write_bytes(dir / "text.pt", "not a checkpoint");
  torch::serialize::OutputArchive foreign;
  foreign.write("w", torch::ones({2}));
  foreign.save_to((dir / "foreign.pt").string());
  for (const char* name : {"cut.pt", "text.pt", "foreign.pt", "absent.pt"}) {
    CAPTURE(name);
    const auto path = (dir / name).string();
    CHECK_THROWS_WITH_AS(load_checkpoint(path), doctest::Contains(path.c_str()), InputError);
  }
}

TEST_CASE("a training checkpoint restores the random stream, so dropout continues as if never stopped") {
  test::ScratchDir dir("ckpt-rng");
  auto model = make_model("light-unet");
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  torch::manual_seed(77);
  save_checkpoint(dir / "t.pt", *model, info_for("axial", "fine"), &opt);
  const auto expected = torch::rand({8});
  torch::manual_seed(1);  // anything else in between
  torch::rand({100});
  torch::optim::Adam resumed(model->parameters(), torch::optim::AdamOptions(1e-3));
  load_optimizer_state(dir / "t.pt", resumed);
  CHECK(torch::equal(torch::rand({8}), expected));
}
