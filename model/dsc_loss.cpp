#include "c2f/model/dsc_loss.hpp"

#include "c2f/pipeline/errors.hpp"

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
  return (1 - dsc_per_image(probability, target)).mean();
}

torch::Tensor dsc(const torch::Tensor& a, const torch::Tensor& g) { return dsc_per_image(a, g); }

}  // namespace c2f
