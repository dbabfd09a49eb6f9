#include <doctest/doctest.h>

#include <H5Cpp.h>

#include "../../model/vgg_weights.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
// A file laid out like Keras 2's vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, random values.
void write_keras_notop(const std::filesystem::path& path) {
  const char* names[13] = {"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1",
                           "block3_conv2", "block3_conv3", "block4_conv1", "block4_conv2", "block4_conv3",
                           "block5_conv1", "block5_conv2", "block5_conv3"};
  const hsize_t widths[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
  H5::H5File f(path.string(), H5F_ACC_TRUNC);
  hsize_t in = 3;
  torch::manual_seed(9);
  for (int i = 0; i < 13; ++i) {
    H5::Group outer = f.createGroup(std::string("/") + names[i]);
    H5::Group inner = outer.createGroup(names[i]);
    const hsize_t kdims[4] = {3, 3, in, widths[i]}, bdims[1] = {widths[i]};
    const auto k = torch::randn({3, 3, std::int64_t(in), std::int64_t(widths[i])}).contiguous();
    const auto b = torch::randn({std::int64_t(widths[i])}).contiguous();
    inner.createDataSet("kernel:0", H5::PredType::IEEE_F32LE, H5::DataSpace(4, kdims))
        .write(k.data_ptr<float>(), H5::PredType::NATIVE_FLOAT);
    inner.createDataSet("bias:0", H5::PredType::IEEE_F32LE, H5::DataSpace(1, bdims))
        .write(b.data_ptr<float>(), H5::PredType::NATIVE_FLOAT);
    in = widths[i];
  }
}
float keras_value(const std::filesystem::path& path, const char* layer, hsize_t y, hsize_t x, hsize_t i, hsize_t o) {
  H5::H5File f(path.string(), H5F_ACC_RDONLY);
  H5::DataSet ds = f.openDataSet(std::string("/") + layer + "/" + layer + "/kernel:0");
  hsize_t dims[4];
  ds.getSpace().getSimpleExtentDims(dims);
  std::vector<float> all(dims[0] * dims[1] * dims[2] * dims[3]);
  ds.read(all.data(), H5::PredType::NATIVE_FLOAT);
  return all[((y * dims[1] + x) * dims[2] + i) * dims[3] + o];
}
}  // namespace

TEST_CASE("Keras VGG-16 kernels [kh, kw, in, out] land in fcn8s-vgg16 as [out, in, kh, kw]") {
  test::ScratchDir dir("vgg");
  const auto path = dir / "vgg16_notop.h5";
  write_keras_notop(path);
  Fcn8sVgg16Impl model;
  const VggLoadReport r = load_vgg16_weights(model, path);
  CHECK(r.conv_layers == 13);
  CHECK_FALSE(r.fully_connected);
  const auto& w11 = model.vgg_convs[0]->conv->weight;  // conv1_1: [64, 3, 3, 3]
  CHECK(w11[5][2][0][1].item<float>() == keras_value(path, "block1_conv1", 0, 1, 2, 5));
  const auto& w53 = model.vgg_convs[12]->conv->weight;
  CHECK(w53[300][17][2][1].item<float>() == keras_value(path, "block5_conv3", 2, 1, 17, 300));
}

TEST_CASE("files that are not VGG-16 weights are refused by name") {
  test::ScratchDir dir("vgg-bad");
  Fcn8sVgg16Impl model;
  {
    H5::H5File f((dir / "other.h5").string(), H5F_ACC_TRUNC);
    f.createGroup("/dense_1");
  }
  CHECK_THROWS_WITH_AS(load_vgg16_weights(model, dir / "other.h5"), doctest::Contains("no layer block1_conv1"), InputError);
  test::write_bytes(dir / "text.pt", "hello");
  CHECK_THROWS_WITH_AS(load_vgg16_weights(model, dir / "text.pt"), doctest::Contains("neither an HDF5 file"), InputError);
  CHECK_THROWS_WITH_AS(load_vgg16_weights(model, dir / "absent.h5"), doctest::Contains("no such file"), InputError);
}

TEST_CASE("VGG-16 weights with torchvision's names load from a LibTorch archive") {
  test::ScratchDir dir("vgg-archive");
  const int index[13] = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
  const std::int64_t widths[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
  torch::manual_seed(4);
  torch::serialize::OutputArchive a;
  std::int64_t in = 3;
  torch::Tensor conv4_2;
  for (int i = 0; i < 13; ++i) {
    const auto w = torch::randn({widths[i], in, 3, 3});
    if (i == 8) conv4_2 = w;
    a.write("features." + std::to_string(index[i]) + ".weight", w);
    a.write("features." + std::to_string(index[i]) + ".bias", torch::randn({widths[i]}));
    in = widths[i];
  }
  a.save_to((dir / "vgg16.pt").string());
  Fcn8sVgg16Impl model;
  const VggLoadReport r = load_vgg16_weights(model, dir / "vgg16.pt");
  CHECK(r.conv_layers == 13);
  CHECK_FALSE(r.fully_connected);
  CHECK(torch::equal(model.vgg_convs[8]->conv->weight, conv4_2));
}
