// A Python user loads c2f's checkpoints (TorchScript archives) with examples/python/c2f_models.py
// and gets the same network: same output as C++ on the same input and weights.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "../../model/checkpoint.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
void write_floats(const std::filesystem::path& p, const torch::Tensor& t) {
  const auto c = t.contiguous();
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), std::streamsize(c.numel() * 4));
}
}  // namespace

TEST_CASE("Python loads c2f checkpoints and computes the same output as C++") {
  test::ScratchDir dir("python-export");
  torch::manual_seed(12);
  for (const auto& name : model_names("coarse-to-fine")) {
    CAPTURE(name);
    auto model = make_model(name);
    {
      torch::NoGradGuard no_grad;  // move every weight off its initialisation (FCN's scores start at 0)
      for (auto& p : model->parameters()) p.add_(0.01 * torch::randn_like(p));
    }
    model->eval();
    CheckpointInfo info;
    info.model = name;
    info.view = "axial";
    info.scale = "coarse";
    const auto ckpt = dir / (name + ".pt");
    save_checkpoint(ckpt, *model, info);
    const auto x = torch::rand({1, 3, 45, 61});
    torch::Tensor y;
    {
      torch::InferenceMode guard;
      y = model->forward(x);
    }
    write_floats(dir / "x.bin", x);
    write_floats(dir / "y.bin", y);
    const std::string cmd = std::string(C2F_PYTHON) + " " + C2F_SOURCE_DIR + "/tests/model/check_python_export.py " +
                            C2F_SOURCE_DIR + "/examples/python " + ckpt.string() + " " + (dir / "x.bin").string() + " " +
                            (dir / "y.bin").string() + " 1x3x45x61 1e-4";
    CHECK(std::system(cmd.c_str()) == 0);
  }
}
