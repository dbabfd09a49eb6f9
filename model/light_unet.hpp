#pragma once
// The light model for CPUs: a small encoder-decoder (U-Net shape) with the same interface as
// fcn8s-vgg16. A stride-2 stem and four levels down to 1/16 resolution, skip connections fused
// by 1x1 convolutions, and the head at half resolution followed by bilinear up-sampling keep it
// under 1 GMAC per 512 x 512 slice (fcn8s-vgg16: about 185). Any input size: features are
// resized to their skip's size before fusion. Each convolution but the head is followed by
// GroupNorm and ReLU: the paper trains with a batch of one image, where BatchNorm has no batch
// to average over and a plain conv/ReLU stack collapses easily.
#include "mac_counting.hpp"
#include "segmentation_model.hpp"

namespace c2f {

// Convolution, GroupNorm (8 groups), ReLU.
class ConvNormReluImpl : public torch::nn::Module {
 public:
  ConvNormReluImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(norm->forward(conv->forward(x))); }
  CountedConv2d conv{nullptr};
  torch::nn::GroupNorm norm{nullptr};
};
TORCH_MODULE(ConvNormRelu);

class LightUNetImpl : public SegmentationModelImpl {
 public:
  explicit LightUNetImpl(std::int64_t width = 16);
  torch::Tensor forward(torch::Tensor x) override;
  std::string name() const override { return "light-unet"; }

 private:
  ConvNormRelu stem{nullptr}, down1{nullptr}, down2{nullptr}, conv2{nullptr}, down3{nullptr}, conv3{nullptr},
      fuse2{nullptr}, refine2{nullptr}, fuse1{nullptr}, refine1{nullptr}, fuse0{nullptr};
  CountedConv2d head{nullptr};
};
TORCH_MODULE(LightUNet);

}  // namespace c2f
