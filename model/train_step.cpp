#include "train_step.hpp"

#include "autocast.hpp"
#include "dsc_loss.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

double accumulate_gradient(SegmentationModelImpl& model, const TrainStepInput& in, double weight,
                           const torch::Device& device, c10::ScalarType autocast) {
  // Grad mode is per thread and oneTBB runs bodies on its own workers: set it here.
  torch::AutoGradMode grad(true);
  model.train();
  const auto opts = torch::TensorOptions().dtype(torch::kFloat);
  const auto x = torch::from_blob(const_cast<float*>(in.image), {1, 3, in.height, in.width}, opts).to(device);
  const auto y = torch::from_blob(const_cast<float*>(in.label), {1, 3, in.height, in.width}, opts).to(device);
  torch::Tensor logits;
  if (autocast == torch::kFloat) {
    logits = model.forward(x);
  } else {
    const AutocastScope scope(device.is_cuda(), autocast);
    logits = model.forward(x);
  }
  // The loss in fp32 whatever the forward pass ran in; backward outside autocast, as torch.autocast asks.
  const auto loss = dsc_loss(torch::sigmoid(logits.to(torch::kFloat)), y);
  if (weight == 1.0) loss.backward();  // the batch of one: bit for bit the step it always was
  else (loss * weight).backward();
  return loss.item<double>();
}

double train_step(SegmentationModelImpl& model, torch::optim::Optimizer& optimizer, const TrainStepInput& in,
                  const torch::Device& device, c10::ScalarType autocast) {
  optimizer.zero_grad();
  const double loss = accumulate_gradient(model, in, 1.0, device, autocast);
  optimizer.step();
  return loss;
}

double predict_dsc(SegmentationModelImpl& model, const TrainStepInput& in, const torch::Device& device) {
  torch::InferenceMode guard;
  model.eval();
  const auto opts = torch::TensorOptions().dtype(torch::kFloat);
  const auto x = torch::from_blob(const_cast<float*>(in.image), {1, 3, in.height, in.width}, opts).to(device);
  const auto y = torch::from_blob(const_cast<float*>(in.label), {1, 3, in.height, in.width}, opts).to(device);
  const auto mask = (torch::sigmoid(model.forward(x)) >= 0.5).to(torch::kFloat);
  return dsc(mask, y)[0].item<double>();
}

void move_optimizer_state(torch::optim::Optimizer& optimizer, const torch::Device& device) {
  const auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  for (auto& [key, state] : optimizer.state()) {
    if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(state.get())) {
      adam->exp_avg(move(adam->exp_avg()));
      adam->exp_avg_sq(move(adam->exp_avg_sq()));
      adam->max_exp_avg_sq(move(adam->max_exp_avg_sq()));
    } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(state.get())) {
      sgd->momentum_buffer(move(sgd->momentum_buffer()));
    }
  }
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(SegmentationModelImpl& model, Optimizer optimizer,
                                                        double lr) {
  if (!(lr > 0)) throw OptionError("learning rate must be positive");
  std::vector<torch::Tensor> params;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  if (optimizer == Optimizer::Sgd)
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr).momentum(0.99).weight_decay(5e-4));
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr));
}

}  // namespace c2f
