#pragma once
// FCN-8s on a VGG-16 backbone (Long et al. 2015), as the paper and its released code use it:
// conv1_1 padded by 100 so any input size works, fc6/fc7 as 7x7 and 1x1 convolutions, score
// layers for 3 outputs (the masks of the 3 input slices), skip fusion from pool4 and pool3 with
// the Caffe crop offsets (5, 9, 31), and up-sampling deconvolutions fixed to bilinear
// interpolation. The reference model: about 185 GMAC per 512 x 512 slice, meant for a GPU.
#include "mac_counting.hpp"
#include "segmentation_model.hpp"

namespace c2f {

class Fcn8sVgg16Impl : public SegmentationModelImpl {
 public:
  Fcn8sVgg16Impl();
  torch::Tensor forward(torch::Tensor x) override;
  std::string name() const override { return "fcn8s-vgg16"; }

  // The 13 VGG-16 convolutions in order (conv1_1 ... conv5_3): where ImageNet weights go.
  std::vector<CountedConv2d> vgg_convs;
  CountedConv2d fc6{nullptr}, fc7{nullptr}, score_fr{nullptr}, score_pool4{nullptr}, score_pool3{nullptr};
  CountedConvTranspose2d upscore2{nullptr}, upscore_pool4{nullptr}, upscore8{nullptr};
};
TORCH_MODULE(Fcn8sVgg16);

}  // namespace c2f
