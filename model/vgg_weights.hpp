#pragma once
// ImageNet VGG-16 weights for fcn8s-vgg16's backbone, from a file the user supplies (none can be
// downloaded here):
//  * the Keras HDF5 file vgg16_weights_tf_dim_ordering_tf_kernels.h5 (or its _notop variant):
//    groups block{1..5}_conv{1..3} and fc1, fc2, kernels stored [kh, kw, in, out] and fc1 as
//    [7*7*512, 4096] in (h, w, c) order; they are permuted to LibTorch's [out, in, kh, kw];
//  * a LibTorch archive (torch::save of a module, or an OutputArchive) holding torchvision's
//    names: features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.{weight,bias}, classifier.{0,3}.*
// fc1/fc2 become fc6/fc7 (7x7 and 1x1 convolutions) when present. Without a file, the network
// keeps LibTorch's default initialisation (Kaiming-uniform), and c2f-train says so.
#include <filesystem>

#include "fcn8s_vgg16.hpp"

namespace c2f {

struct VggLoadReport {
  int conv_layers = 0;  // of 13
  bool fully_connected = false;  // fc6 and fc7 loaded too
};

// Throws InputError naming the file and the layer when something is missing or misshapen.
VggLoadReport load_vgg16_weights(Fcn8sVgg16Impl& model, const std::filesystem::path& path);

}  // namespace c2f
