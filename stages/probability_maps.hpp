#pragma once
// DeepOrgan's probability maps (Roth et al. 2015, section 2.6):
//
//   SuperpixelProbability: P1 / P2: each candidate superpixel's probability (averaged over
//                          scales) written to all its voxels; 0 elsewhere.
//   GaussianSmoothing:     G(P): 3-D isotropic Gaussian, sigma = 3 voxels (the paper's), so
//                          slice-wise decisions borrow from their 3-D neighbourhood.
//   in:  a superpixel label volume and per-superpixel probabilities / a ProbabilityMap
//   out: ProbabilityMap on the same grid
//   notes: the Gaussian is separable: OpenCV's GaussianBlur on each axial slice (x, y), then the
//          same 1-D kernel along z as weighted sums of whole slices; kernel radius ceil(3 sigma),
//          edges repeating (a constant map stays constant). No threads of its own beyond OpenCV's.
#include <cstdint>
#include <span>

#include "../pipeline/volume.hpp"

namespace c2f {

// Voxels whose label is ids[k] get probability[k]; other voxels 0. Labels < 0 are background.
ProbabilityMap superpixel_probability_map(const Volume<std::int32_t>& labels, std::span<const std::int32_t> ids,
                                          std::span<const float> probability);

struct GaussianOptions {
  double sigma_voxels = 3.0;  // 0: no smoothing
  void validate() const;      // throws OptionError
};

ProbabilityMap gaussian_smooth(const ProbabilityMap& p, const GaussianOptions& options = {});

struct GaussianSmoothing {
  GaussianOptions options;
  ProbabilityMap operator()(const ProbabilityMap& p) const { return gaussian_smooth(p, options); }
};

}  // namespace c2f
