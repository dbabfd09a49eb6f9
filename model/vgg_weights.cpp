#include "vgg_weights.hpp"

#include <H5Cpp.h>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {

const char* kKerasConv[13] = {"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1",
                              "block3_conv2", "block3_conv3", "block4_conv1", "block4_conv2", "block4_conv3",
                              "block5_conv1", "block5_conv2", "block5_conv3"};
const int kTorchvisionConv[13] = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};

void assign(torch::Tensor& dst, const torch::Tensor& src, const fs::path& path, const std::string& layer) {
  if (dst.sizes() != src.sizes())
    throw InputError(path.string(), fmt::format("layer {}: shape {} does not fit {}", layer, fmt::join(src.sizes(), "x"),
                                                fmt::join(dst.sizes(), "x")));
  torch::NoGradGuard no_grad;
  dst.copy_(src);
}

// The datasets of one Keras layer group: kernel first, then bias (Keras 1 and 2 names differ).
std::pair<torch::Tensor, torch::Tensor> keras_layer(H5::H5File& f, const std::string& layer) {
  H5::Group g = f.openGroup("/" + layer);
  std::vector<std::string> names;
  const auto collect = [&](H5::Group& grp, const std::string& prefix, auto& self) -> void {
    for (hsize_t i = 0; i < grp.getNumObjs(); ++i) {
      const std::string n = grp.getObjnameByIdx(i);
      if (grp.getObjTypeByIdx(i) == H5G_GROUP) {
        H5::Group sub = grp.openGroup(n);
        self(sub, prefix + n + "/", self);
      } else {
        names.push_back(prefix + n);
      }
    }
  };
  collect(g, "", collect);
  std::string kernel, bias;
  for (const auto& n : names) {
    if (n.find("kernel") != std::string::npos || n.find("_W") != std::string::npos) kernel = n;
    if (n.find("bias") != std::string::npos || n.find("_b") != std::string::npos) bias = n;
  }
  if (kernel.empty() || bias.empty()) throw H5::GroupIException("keras_layer", "no kernel/bias datasets in " + layer);
  auto read = [&](const std::string& n) {
    H5::DataSet ds = g.openDataSet(n);
    const int rank = ds.getSpace().getSimpleExtentNdims();
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    ds.getSpace().getSimpleExtentDims(dims.data());
    std::vector<std::int64_t> shape(dims.begin(), dims.end());
    auto t = torch::empty(shape, torch::kFloat);
    ds.read(t.data_ptr<float>(), H5::PredType::NATIVE_FLOAT);
    return t;
  };
  return {read(kernel), read(bias)};
}

VggLoadReport load_keras(Fcn8sVgg16Impl& m, const fs::path& path) {
  H5::Exception::dontPrint();
  VggLoadReport r;
  try {
    H5::H5File f(path.string(), H5F_ACC_RDONLY);
    for (int i = 0; i < 13; ++i) {
      if (!f.nameExists(std::string("/") + kKerasConv[i]))
        throw InputError(path.string(), std::string("no layer ") + kKerasConv[i] + ": not a Keras VGG-16 weights file");
      auto [k, b] = keras_layer(f, kKerasConv[i]);
      assign(m.vgg_convs[std::size_t(i)]->conv->weight, k.permute({3, 2, 0, 1}).contiguous(), path, kKerasConv[i]);
      assign(m.vgg_convs[std::size_t(i)]->conv->bias, b, path, kKerasConv[i]);
      ++r.conv_layers;
    }
    if (f.nameExists("/fc1") && f.nameExists("/fc2")) {
      auto [k1, b1] = keras_layer(f, "fc1");  // [7*7*512, 4096], rows in (h, w, c) order
      assign(m.fc6->conv->weight, k1.view({7, 7, 512, 4096}).permute({3, 2, 0, 1}).contiguous(), path, "fc1");
      assign(m.fc6->conv->bias, b1, path, "fc1");
      auto [k2, b2] = keras_layer(f, "fc2");
      assign(m.fc7->conv->weight, k2.t().contiguous().view({4096, 4096, 1, 1}), path, "fc2");
      assign(m.fc7->conv->bias, b2, path, "fc2");
      r.fully_connected = true;
    }
  } catch (const H5::Exception& e) {
    throw InputError(path.string(), "unreadable Keras weights: " + e.getDetailMsg());
  }
  return r;
}

VggLoadReport load_torch_archive(Fcn8sVgg16Impl& m, const fs::path& path) {
  VggLoadReport r;
  torch::serialize::InputArchive a;
  try {
    a.load_from(path.string());
  } catch (const c10::Error&) {
    throw InputError(path.string(), "neither an HDF5 file nor a LibTorch archive");
  }
  auto read = [&](const std::string& key, torch::Tensor& t) { return a.try_read(key, t); };
  for (int i = 0; i < 13; ++i) {
    const std::string base = fmt::format("features.{}", kTorchvisionConv[i]);
    torch::Tensor w, b;
    if (!read(base + ".weight", w) || !read(base + ".bias", b))
      throw InputError(path.string(), "no " + base + ".weight/bias: not a torchvision VGG-16 archive");
    assign(m.vgg_convs[std::size_t(i)]->conv->weight, w, path, base);
    assign(m.vgg_convs[std::size_t(i)]->conv->bias, b, path, base);
    ++r.conv_layers;
  }
  torch::Tensor w6, b6, w7, b7;
  if (read("classifier.0.weight", w6) && read("classifier.0.bias", b6) && read("classifier.3.weight", w7) &&
      read("classifier.3.bias", b7)) {
    assign(m.fc6->conv->weight, w6.view({4096, 512, 7, 7}), path, "classifier.0");  // torchvision flattens (c, h, w)
    assign(m.fc6->conv->bias, b6, path, "classifier.0");
    assign(m.fc7->conv->weight, w7.view({4096, 4096, 1, 1}), path, "classifier.3");
    assign(m.fc7->conv->bias, b7, path, "classifier.3");
    r.fully_connected = true;
  }
  return r;
}

}  // namespace

VggLoadReport load_vgg16_weights(Fcn8sVgg16Impl& model, const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path.string(), "no such file");
  H5::Exception::dontPrint();
  bool hdf5 = false;
  try {
    hdf5 = H5::H5File::isHdf5(path.string());
  } catch (const H5::Exception&) {
  }
  return hdf5 ? load_keras(model, path) : load_torch_archive(model, path);
}

}  // namespace c2f
