// ONNX exports of c2f's networks (c2f-models --export-onnx) run in OpenCV's DNN module, the
// second CPU back end, and give LibTorch's probabilities.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "../../model/checkpoint.hpp"
#include "../../model/network_inference.hpp"
#include "../../model/onnx_export.hpp"
#include "../../model/onnx_inference.hpp"
#include "../../pipeline/errors.hpp"
#include "../../pipeline/random.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
const fs::path kShipped = fs::path(C2F_SOURCE_DIR) / "weights" / "phantom-light-unet";
const OnnxExporter kExporter{C2F_PYTHON, fs::path(C2F_SOURCE_DIR) / "examples" / "python" / "export_onnx.py"};

// A batch of n 3-slice images of h x w, values in [0, 1] with some structure (not pure noise).
SliceBatch random_batch(View view, std::int64_t n, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  SliceBatch b;
  b.view = view;
  b.range = {0, n};
  b.rect = Rect{0, 0, w, h};
  b.data.resize(std::size_t(n * 3 * h * w));
  for (std::size_t i = 0; i < b.data.size(); ++i) {
    const std::int64_t x = std::int64_t(i) % w, y = (std::int64_t(i) / w) % h;
    const double noise = double(mix64(seed * 0x100000000ULL + i) >> 11) * 0x1.0p-53;  // [0, 1)
    b.data[i] = float(0.5 + 0.3 * std::sin(0.2 * double(x) + 0.1 * double(y)) + 0.2 * (noise - 0.5));
  }
  return b;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

InferenceOptions opencv_on(const fs::path& onnx_folder) {
  InferenceOptions o;
  o.backend = InferenceBackend::OpenCV;
  o.onnx_folder = onnx_folder;
  return o;
}
}  // namespace

TEST_CASE("the shipped networks exported to ONNX give LibTorch's probabilities in OpenCV DNN") {
  test::ScratchDir dir("onnx-shipped");
  const auto files = export_onnx_set(kShipped, dir.path(), kExporter);
  REQUIRE(files.size() == 6);
  for (const auto& f : files) CHECK(fs::file_size(f) > 100000);

  NetworkInference torch_backend(kShipped);
  NetworkInference opencv_backend(kShipped, opencv_on(dir.path()));
  CHECK(opencv_backend.describe() == "light-unet on cpu (fp32, OpenCV DNN)");
  CHECK(opencv_backend.info().window == torch_backend.info().window);
  // Shapes of every parity (the network halves four times) and batch sizes; one shape twice.
  const std::array<std::array<std::int64_t, 3>, 4> shapes{{{2, 40, 56}, {1, 33, 47}, {3, 64, 81}, {2, 40, 56}}};
  std::uint64_t seed = 1;
  for (Scale scale : {Scale::Coarse, Scale::Fine})
    for (View view : kViews)
      for (const auto& [n, h, w] : shapes) {
        CAPTURE(scale_name(scale));
        CAPTURE(view_name(view));
        CAPTURE(h);
        CAPTURE(w);
        const SliceBatch batch = random_batch(view, n, h, w, seed++);
        std::vector<float> a, b;
        torch_backend.predict(scale, batch, a);
        opencv_backend.predict(scale, batch, b);
        CHECK(max_abs_difference(a, b) <= 1e-4);
        CHECK(*std::min_element(b.begin(), b.end()) >= 0.f);
        CHECK(*std::max_element(b.begin(), b.end()) <= 1.f);
      }
  // OpenCV counts the convolutions' multiply-adds and a little more (norms, activations).
  const double ratio = double(opencv_backend.multiply_adds()) / double(torch_backend.multiply_adds());
  CHECK(ratio >= 1.0);
  CHECK(ratio <= 1.1);
}

TEST_CASE("fcn8s-vgg16 exported to ONNX gives LibTorch's probabilities in OpenCV DNN") {
  test::ScratchDir dir("onnx-fcn8s");
  torch::manual_seed(5);
  auto model = make_model("fcn8s-vgg16");
  {
    torch::NoGradGuard no_grad;  // off the initialisation: FCN's score layers start at zero
    for (auto& p : model->parameters()) p.add_(0.01 * torch::randn_like(p));
  }
  model->eval();
  CheckpointInfo info;
  info.model = "fcn8s-vgg16";
  info.scale = "fine";
  info.view = "sagittal";
  const fs::path checkpoint = dir.path() / "fine_sagittal.pt", graph = dir.path() / "fine_sagittal.onnx";
  save_checkpoint(checkpoint, *model, info);
  export_onnx(checkpoint, graph, kExporter);
  OnnxNetwork network(graph, read_checkpoint_record(checkpoint));
  CHECK(network.model() == "fcn8s-vgg16");
  for (const auto& [h, w] : std::array<std::array<std::int64_t, 2>, 2>{{{45, 61}, {32, 32}}}) {
    const SliceBatch batch = random_batch(View::Sagittal, 1, h, w, 9);
    torch::Tensor expected;
    {
      torch::InferenceMode guard;
      expected = torch::sigmoid(model->forward(torch::from_blob(const_cast<float*>(batch.data.data()), {1, 3, h, w})))
                     .contiguous();
    }
    std::vector<float> p;
    network.predict(1, h, w, batch.data.data(), p);
    const std::vector<float> e(expected.data_ptr<float>(), expected.data_ptr<float>() + expected.numel());
    CHECK(max_abs_difference(e, p) <= 1e-4);
  }
  CHECK(network.imported_shapes() == 2);
}

TEST_CASE("an ONNX graph exported from another checkpoint than the one it stands for is refused") {
  test::ScratchDir dir("onnx-mismatch");
  const fs::path graph = dir.path() / "fine_axial.onnx";
  export_onnx(kShipped / "coarse_axial.pt", graph, kExporter);  // under the fine network's name
  try {
    OnnxNetwork n(graph, read_checkpoint_record(kShipped / "fine_axial.pt"));
    FAIL("a mismatched graph was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(graph.string()) != std::string::npos);
    CHECK(std::string(e.what()).find("was not exported from the fine axial checkpoint") != std::string::npos);
  }
  CHECK_NOTHROW(OnnxNetwork(graph, read_checkpoint_record(kShipped / "coarse_axial.pt")));
  test::write_bytes(graph, "not a protobuf at all \xff\xff\xff");
  CHECK_THROWS_AS(OnnxNetwork(graph, read_checkpoint_record(kShipped / "coarse_axial.pt")), InputError);
  fs::remove(graph);
  CHECK_THROWS_AS(NetworkInference(kShipped, opencv_on(dir.path())), InputError);  // no graphs at all
}

TEST_CASE("a damaged checkpoint is not exported: one error naming it, no file") {
  test::ScratchDir dir("onnx-damaged");
  std::string bytes = test::read_bytes(kShipped / "fine_axial.pt");
  bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0xff);
  const fs::path damaged = dir.path() / "fine_axial.pt", out = dir.path() / "fine_axial.onnx";
  test::write_bytes(damaged, bytes);
  try {
    export_onnx(damaged, out, kExporter);
    FAIL("a damaged checkpoint was exported");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(damaged.string()) != std::string::npos);
  }
  CHECK(test::count_entries(dir.path()) == 1);  // the damaged checkpoint alone
}

TEST_CASE("an ONNX graph's input shape is set without touching the rest") {
  test::ScratchDir dir("onnx-shape");
  const fs::path graph = dir.path() / "coarse_axial.onnx";
  export_onnx(kShipped / "coarse_axial.pt", graph, kExporter);
  const std::string model = test::read_bytes(graph);
  const auto metadata = onnx_metadata(model, graph.string());
  CHECK(metadata.at("c2f_format") == "1");
  CHECK(nlohmann::json::parse(metadata.at("c2f_info")) == read_checkpoint_record(kShipped / "coarse_axial.pt"));
  const std::string fixed = onnx_with_input_shape(model, {2, 3, 40, 56}, graph.string());
  CHECK(fixed.size() < model.size() + 64);  // three names became numbers
  CHECK(onnx_metadata(fixed, "fixed") == metadata);
  CHECK_THROWS_AS(onnx_with_input_shape(model, {2, 3, 40}, graph.string()), InputError);
  CHECK_THROWS_AS(onnx_metadata("\x0a\xff\xff\xff\xff", "junk"), InputError);
}

TEST_CASE("the OpenCV back end runs fp32 on the CPU only") {
  InferenceOptions o;
  o.backend = InferenceBackend::OpenCV;
  CHECK_NOTHROW(o.validate());
  o.channels_last = true;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o.channels_last = false;
  o.precision = "fp16";
  CHECK_THROWS_AS(o.validate(), OptionError);
  o.precision = "auto";
  o.device = "cuda:0";
  CHECK_THROWS_AS(o.validate(), OptionError);
  CHECK(parse_inference_backend("opencv") == InferenceBackend::OpenCV);
  CHECK(parse_inference_backend("torch") == InferenceBackend::Torch);
  CHECK_THROWS_AS(parse_inference_backend("onnxruntime"), OptionError);
}
