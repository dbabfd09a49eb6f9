#pragma once
// The ConvNet of DeepOrgan (Roth et al. 2015, Figure 1): five convolutional layers with
// max-pooling, fully connected layers with dropout and a two-way softmax (pancreas, not
// pancreas). One architecture, three networks that differ only in their input channels:
//
//   P-ConvNet  "p-convnet"   3 channels: a 2.5-D patch, the axial, coronal and sagittal planes
//                            through a voxel, kPatchPx x kPatchPx each (section 2.3)
//   R1-ConvNet "r1-convnet"  1 channel: a superpixel's box warped to 64 x 64, CT (section 2.4)
//   R2-ConvNet "r2-convnet"  2 channels: the same box, CT and the P-ConvNet map P0
//
// Input:  [N, C, H, W] float in [0, 1] (windowed CT, probabilities); any H, W >= 8 (the last
//         pooling is adaptive, so a 32 x 32 patch and a 64 x 64 region share the layers).
// Output: [N, 2] logits; softmax(.)[:, 1] is the probability of pancreas.
//
// The paper gives its filter counts only in a figure whose numbers the text does not carry, and
// trained on a GPU for 55 h; c2f chooses counts small enough to train on two CPU cores
// (README, DeepOrgan): conv 5x5x24, max-pool 2, conv 3x3x32, max-pool 2, conv 3x3x48, 3x3x48,
// 3x3x32, adaptive max-pool to 4 x 4, fully connected 512 -> 256 -> 2 with dropout 0.5 before
// each, ReLU after every layer but the last. About 22 M multiply-adds for a 64 x 64 region, 7 M
// for a 3-channel 32 x 32 patch; about 190 k parameters.
#include <cstdint>

#include "mac_counting.hpp"
#include "segmentation_model.hpp"

namespace c2f {

// The side of P-ConvNet's patch, pixels on the networks' grid (the paper does not state it).
inline constexpr std::int64_t kPatchPx = 32;
// The side R-ConvNets' regions are warped to (the paper's 64 x 64).
inline constexpr std::int64_t kRegionPx = 64;

// Derives from SegmentationModelImpl so that the registry, checkpoints and parameter counts
// treat it as every other network; its output is a classification, not a map.
class DeepOrganConvNetImpl : public SegmentationModelImpl {
 public:
  DeepOrganConvNetImpl(std::string name, std::int64_t input_channels);
  torch::Tensor forward(torch::Tensor x) override;
  std::string name() const override { return name_; }
  std::int64_t input_channels() const { return input_channels_; }

 private:
  std::string name_;
  std::int64_t input_channels_;
  CountedConv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

// Input channels of a DeepOrgan network by registry name (p-convnet 3, r1-convnet 1,
// r2-convnet 2); throws OptionError for any other name.
std::int64_t deeporgan_input_channels(std::string_view model_name);

// A batch of examples for a classifier: N images of C x H x W, and their classes (0 or 1).
struct ClassifierBatch {
  const float* images = nullptr;     // [N][C][H][W]
  const std::int64_t* labels = nullptr;  // [N]; unused by inference
  std::int64_t count = 0, channels = 0, height = 0, width = 0;
};

// One optimisation step with cross-entropy on the two-way softmax; returns the mean loss before
// the step. Dropout is on (training mode).
double classifier_train_step(SegmentationModelImpl& model, torch::optim::Optimizer& optimizer, const ClassifierBatch& batch);

// The mean cross-entropy without a step (evaluation mode: no dropout).
double classifier_loss(SegmentationModelImpl& model, const ClassifierBatch& batch);

// The probability of pancreas for each image (softmax of the two logits, class 1), in
// evaluation mode. Writes batch.count values to `out`.
void classifier_probabilities(SegmentationModelImpl& model, const ClassifierBatch& batch, float* out);

}  // namespace c2f
