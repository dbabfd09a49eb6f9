#pragma once
// One optimisation step of a segmentation network on one training image (the paper's batch of
// one), with the soft DSC loss on the sigmoid of its output.
#include <cstdint>

#include "model_registry.hpp"
#include "segmentation_model.hpp"

namespace c2f {

struct TrainStepInput {
  const float* image = nullptr;  // [3][height][width]
  const float* label = nullptr;  // [3][height][width]
  std::int64_t height = 0, width = 0;
};

// Returns the loss before the step. `autocast` kBFloat16 or kHalf (CUDA): the forward pass under
// autocast, as inference runs it; the loss and the backward pass in fp32 (kFloat: no autocast).
double train_step(SegmentationModelImpl& model, torch::optim::Optimizer& optimizer, const TrainStepInput& in,
                  const torch::Device& device = torch::kCPU, c10::ScalarType autocast = torch::kFloat);

// One image's part of a batch's step: its loss's gradient, times `weight` (1 / batch: the batch's
// loss is the mean of its images'), added to the parameters' gradients; no optimiser step. Returns
// the image's loss. train_step is zero_grad, this with weight 1, and the step.
double accumulate_gradient(SegmentationModelImpl& model, const TrainStepInput& in, double weight,
                           const torch::Device& device = torch::kCPU, c10::ScalarType autocast = torch::kFloat);

// Moves an optimiser's state (Adam's moments, SGD's momentum) to the device its parameters are on,
// after it was restored from a checkpoint, which holds it on the CPU.
void move_optimizer_state(torch::optim::Optimizer& optimizer, const torch::Device& device);

// DSC of the model's thresholded prediction (sigmoid >= 0.5) against the label, on one image.
double predict_dsc(SegmentationModelImpl& model, const TrainStepInput& in, const torch::Device& device = torch::kCPU);

// The paper's solver (Sgd: momentum 0.99, weight decay 5e-4, as the released code) or Adam, over
// the model's trainable parameters. Throws OptionError for a learning rate that is not positive.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(SegmentationModelImpl& model, Optimizer optimizer,
                                                        double learning_rate);

}  // namespace c2f
