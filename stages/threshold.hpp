#pragma once
// Threshold: the mask of a probability map, S = P >= threshold (paper: 0.5).
//   in:  ProbabilityMap      out: Mask on the same grid (0/1)
//   notes: memory-bound, one pass.
#include "../pipeline/volume.hpp"

namespace c2f {

Mask threshold(const ProbabilityMap& p, float threshold = 0.5f);

struct Threshold {
  float level = 0.5f;
  Mask operator()(const ProbabilityMap& p) const { return threshold(p, level); }
};

}  // namespace c2f
