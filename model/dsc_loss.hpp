#pragma once
// The soft DSC loss of the paper (section 3.1), per training image:
//   L = 1 - 2 * sum_i(p_i * y_i) / (sum_i p_i + sum_i y_i)
// over all pixels and channels of one image; a batch's loss is the mean over its images.
// Where an image's prediction and truth are both all zero the ratio is 0/0; the loss is then
// defined as 0 (a perfect empty prediction), so training never sees a NaN. Where only the truth is
// empty (a slice without pancreas) the ratio is 0 for any prediction and teaches nothing; the loss
// is then sum(p) / (1 + sum(p)), which penalises every false positive.
#include "torch_pch.hpp"

namespace c2f {

// probability, target: [N, C, H, W] (or [C, H, W] for one image), values in [0, 1].
torch::Tensor dsc_loss(const torch::Tensor& probability, const torch::Tensor& target);

// DSC(A, G) = 2|A n G| / (|A| + |G|) for binary masks or probabilities, per image ([N] result).
torch::Tensor dsc(const torch::Tensor& a, const torch::Tensor& g);

}  // namespace c2f
