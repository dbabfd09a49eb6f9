#include <doctest/doctest.h>

#include <filesystem>

#include "../../model/checkpoint.hpp"
#include "../../model/network_inference.hpp"
#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"
#include "../../stages/window.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
const fs::path kShipped = fs::path(C2F_SOURCE_DIR) / "weights" / "phantom-light-unet";

SliceBatch phantom_batch(View view) {
  PhantomOptions o;
  o.size = {64, 64, 32};
  const auto p = make_phantom(o, 0);
  const Volume<float> v = window_normalize(*p.c.image);
  return make_slice_batch(v, view, Box3{{4, 6, 2}, {60, 50, 30}}, {10, 14});
}
}  // namespace

TEST_CASE("a model set is six checkpoints that agree on network and window") {
  const NetworkSetInfo info = read_network_set(kShipped);
  CHECK(info.model == "light-unet");
  CHECK(info.window.lower_hu == -100);
  CHECK(info.window.upper_hu == 240);

  test::ScratchDir dir("network-set");
  for (const auto& e : fs::directory_iterator(kShipped))
    if (e.path().extension() == ".pt") fs::copy_file(e.path(), dir / e.path().filename().string());
  fs::remove(dir / "fine_sagittal.pt");
  try {
    read_network_set(dir.path());
    FAIL("a set without fine_sagittal.pt was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("fine_sagittal.pt") != std::string::npos);
  }
  // A checkpoint under another network's name is refused, naming the file.
  fs::copy_file(dir / "fine_axial.pt", dir / "fine_sagittal.pt");
  CHECK_THROWS_WITH_AS(read_network_set(dir.path()), doctest::Contains("fine_sagittal.pt"), InputError);
}

TEST_CASE("a model set records its training grid, and six networks of different grids are refused") {
  test::ScratchDir dir("network-set-spacing");
  for (const auto& e : fs::directory_iterator(kShipped))
    if (e.path().extension() == ".pt") {
      LoadedCheckpoint c = load_checkpoint(e.path());
      c.info.spacing_mm = Vec3{2, 2, 2};
      if (e.path().filename() == "fine_coronal.pt") c.info.spacing_mm = Vec3{1.5, 1.5, 1.5};
      save_checkpoint(dir / e.path().filename().string(), *c.model, c.info);
    }
  CHECK_THROWS_WITH_AS(read_network_set(dir.path()), doctest::Contains("fine_coronal.pt: was trained at 1.5x1.5x1.5 mm"),
                       InputError);
  LoadedCheckpoint c = load_checkpoint(dir / "fine_coronal.pt");
  c.info.spacing_mm = Vec3{2, 2, 2};
  save_checkpoint(dir / "fine_coronal.pt", *c.model, c.info);
  const NetworkSetInfo info = read_network_set(dir.path());
  REQUIRE(info.spacing_mm.has_value());
  CHECK(*info.spacing_mm == Vec3{2, 2, 2});
  CHECK(read_checkpoint_info(dir / "fine_coronal.pt").spacing_mm == Vec3{2, 2, 2});
}

TEST_CASE("NetworkInference gives sigmoid maps of the batch's size, channels-last changes nothing but speed") {
  const SliceBatch batch = phantom_batch(View::Coronal);
  NetworkInference plain(kShipped);
  InferenceOptions cl;
  cl.channels_last = true;
  NetworkInference last(kShipped, cl);
  std::vector<float> a, b;
  plain.predict(Scale::Fine, batch, a);
  last.predict(Scale::Fine, batch, b);
  REQUIRE(a.size() == batch.data.size());
  REQUIRE(b.size() == a.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i] >= 0.f);
    REQUIRE(a[i] <= 1.f);
    worst = std::max(worst, double(std::abs(a[i] - b[i])));
  }
  CHECK(worst < 1e-4);
  CHECK(plain.describe() == "light-unet on cpu (fp32)");
}

TEST_CASE("inference options are checked") {
  InferenceOptions o;
  o.precision = "int8";
  CHECK_THROWS_AS(o.validate(), OptionError);
  o.precision = "fp16";  // CUDA only
  CHECK_THROWS_AS(o.validate(), OptionError);
  o.precision = "bf16";
  CHECK_THROWS_AS(o.validate(), OptionError);
  o.precision = "auto";
  CHECK(o.resolved_precision() == "fp32");
  o.device = "tpu";
  CHECK_THROWS_AS(o.validate(), OptionError);
}
