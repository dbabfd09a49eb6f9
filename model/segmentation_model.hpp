#pragma once
// The interface every segmentation network of c2f has, and building one by its registry name.
//
// Input:  [N, 3, H, W] float, three successive slices of one view (k-1, k, k+1) as channels,
//         windowed and scaled to [0, 1]; any H and W.
// Output: [N, 3, H, W] logits of the three slices' masks; sigmoid gives probabilities.
#include <memory>
#include <string>
#include <vector>

#include "model_registry.hpp"
#include "torch_pch.hpp"

namespace c2f {

class SegmentationModelImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  virtual std::string name() const = 0;
};

using SegmentationModel = std::shared_ptr<SegmentationModelImpl>;

// model_entry(name).make(): "fcn8s-vgg16" (the paper's network, for GPUs) or "light-unet" (for
// CPUs). Throws OptionError for an unknown name, listing the known ones.
SegmentationModel make_model(std::string_view name);

// Trainable parameters.
std::int64_t parameter_count(torch::nn::Module& m);

// Multiply-adds of one forward pass on a [1, 3, height, width] input (runs the model once).
std::int64_t forward_macs(SegmentationModelImpl& m, std::int64_t height, std::int64_t width);

}  // namespace c2f
