#include "deeporgan_convnet.hpp"

#include <cstring>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

namespace {
CountedConv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel) {
  return CountedConv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
}

torch::Tensor batch_tensor(const ClassifierBatch& b) {
  if (!b.images || b.count <= 0 || b.channels <= 0 || b.height <= 0 || b.width <= 0)
    throw std::invalid_argument("ClassifierBatch: empty batch");
  return torch::from_blob(const_cast<float*>(b.images), {b.count, b.channels, b.height, b.width}, torch::kFloat32);
}

torch::Tensor label_tensor(const ClassifierBatch& b) {
  if (!b.labels) throw std::invalid_argument("ClassifierBatch: no labels");
  return torch::from_blob(const_cast<std::int64_t*>(b.labels), {b.count}, torch::kInt64);
}
}  // namespace

DeepOrganConvNetImpl::DeepOrganConvNetImpl(std::string name, std::int64_t c) : name_(std::move(name)), input_channels_(c) {
  conv1 = register_module("conv1", conv(c, 24, 5));
  conv2 = register_module("conv2", conv(24, 32, 3));
  conv3 = register_module("conv3", conv(32, 48, 3));
  conv4 = register_module("conv4", conv(48, 48, 3));
  conv5 = register_module("conv5", conv(48, 32, 3));
  fc1 = register_module("fc1", torch::nn::Linear(32 * 4 * 4, 256));
  fc2 = register_module("fc2", torch::nn::Linear(256, 2));
  dropout = register_module("dropout", torch::nn::Dropout(0.5));
}

torch::Tensor DeepOrganConvNetImpl::forward(torch::Tensor x) {
  if (x.dim() != 4 || x.size(1) != input_channels_ || x.size(2) < 8 || x.size(3) < 8)
    throw std::invalid_argument(fmt::format("{} takes [N, {}, H >= 8, W >= 8] inputs", name_, input_channels_));
  x = torch::max_pool2d(torch::relu(conv1->forward(x)), 2);
  x = torch::max_pool2d(torch::relu(conv2->forward(x)), 2);
  x = torch::relu(conv3->forward(x));
  x = torch::relu(conv4->forward(x));
  x = std::get<0>(torch::adaptive_max_pool2d(torch::relu(conv5->forward(x)), {4, 4}));
  x = torch::relu(fc1->forward(dropout->forward(x.flatten(1))));
  return fc2->forward(dropout->forward(x));
}

std::int64_t deeporgan_input_channels(std::string_view name) {
  if (name == "p-convnet") return 3;
  if (name == "r1-convnet") return 1;
  if (name == "r2-convnet") return 2;
  throw OptionError(fmt::format("'{}' is not a DeepOrgan network (p-convnet, r1-convnet, r2-convnet)", name));
}

double classifier_train_step(SegmentationModelImpl& model, torch::optim::Optimizer& optimizer, const ClassifierBatch& b) {
  // Grad mode is per thread and oneTBB runs bodies on its own workers: set it here.
  torch::AutoGradMode grad(true);
  model.train();
  optimizer.zero_grad();
  const auto loss = torch::nn::functional::cross_entropy(model.forward(batch_tensor(b)), label_tensor(b));
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

double classifier_loss(SegmentationModelImpl& model, const ClassifierBatch& b) {
  torch::InferenceMode guard;
  const bool was_training = model.is_training();
  model.eval();
  const double loss = torch::nn::functional::cross_entropy(model.forward(batch_tensor(b)), label_tensor(b)).item<double>();
  model.train(was_training);
  return loss;
}

void classifier_probabilities(SegmentationModelImpl& model, const ClassifierBatch& b, float* out) {
  torch::InferenceMode guard;
  model.eval();
  const auto p = torch::softmax(model.forward(batch_tensor(b)), 1).select(1, 1).contiguous();
  std::memcpy(out, p.data_ptr<float>(), std::size_t(b.count) * sizeof(float));
}

}  // namespace c2f
