#include "dsc_loss.hpp"

#include "../pipeline/errors.hpp"

namespace c2f {

namespace {
// Per-image 2 sum(a g) / (sum a + sum g), with 0/0 taken as 1.
torch::Tensor dsc_per_image(const torch::Tensor& a, const torch::Tensor& g) {
  if (a.sizes() != g.sizes())
    throw OptionError("dsc: prediction and target shapes differ");
  const auto batched = a.dim() == 3 ? a.unsqueeze(0) : a;
  const auto target = g.dim() == 3 ? g.unsqueeze(0) : g;
  if (batched.dim() != 4) throw OptionError("dsc: expected [N, C, H, W] or [C, H, W] tensors");
  const auto flat_a = batched.flatten(1), flat_g = target.to(batched.dtype()).flatten(1);
  const auto overlap = (flat_a * flat_g).sum(1);
  const auto total = flat_a.sum(1) + flat_g.sum(1);
  const auto empty = total == 0;
  // torch::where evaluates both branches; the safe denominator keeps the unused one finite so
  // that no NaN reaches the gradient.
  const auto safe_total = torch::where(empty, torch::ones_like(total), total);
  return torch::where(empty, torch::ones_like(total), 2 * overlap / safe_total);
}
}  // namespace

torch::Tensor dsc_loss(const torch::Tensor& probability, const torch::Tensor& target) {
  // An image without any target (a coarse slice without pancreas, when those are sampled) has
  // DSC 0 whatever the prediction, and so no gradient: there the loss is sum(p) / (1 + sum(p)),
  // which is 0 for an empty prediction and grows with every false positive.
  const auto batched = probability.dim() == 3 ? probability.unsqueeze(0) : probability;
  const auto target_sum = (target.dim() == 3 ? target.unsqueeze(0) : target).flatten(1).to(batched.dtype()).sum(1);
  const auto predicted = batched.flatten(1).sum(1);
  const auto per_image = torch::where(target_sum == 0, predicted / (1 + predicted), 1 - dsc_per_image(probability, target));
  return per_image.mean();
}

torch::Tensor dsc(const torch::Tensor& a, const torch::Tensor& g) { return dsc_per_image(a, g); }

}  // namespace c2f
