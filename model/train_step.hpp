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

// Returns the loss before the step.
double train_step(SegmentationModelImpl& model, torch::optim::Optimizer& optimizer, const TrainStepInput& in,
                  const torch::Device& device = torch::kCPU);

// DSC of the model's thresholded prediction (sigmoid >= 0.5) against the label, on one image.
double predict_dsc(SegmentationModelImpl& model, const TrainStepInput& in, const torch::Device& device = torch::kCPU);

// The paper's solver (Sgd: momentum 0.99, weight decay 5e-4, as the released code) or Adam, over
// the model's trainable parameters. Throws OptionError for a learning rate that is not positive.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(SegmentationModelImpl& model, Optimizer optimizer,
                                                        double learning_rate);

}  // namespace c2f
