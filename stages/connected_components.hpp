#pragma once
// KeepLargeComponents: the released code's post-processing of fine results (METHOD.md): keep the
// 6-connected components of at least `min_fraction` (0.5) of the largest one's size. Skipped
// (the mask is returned as it is) when the mask is empty or covers half the volume or more.
//   in:  Mask            out: Mask on the same grid
//   notes: one labelling pass with a union-find, inside the mask's bounding box only; memory:
//          one int32 per voxel of that box.
#include <cstdint>
#include <vector>

#include "../pipeline/volume.hpp"

namespace c2f {

Mask keep_large_components(const Mask& mask, double min_fraction = 0.5);
// The same for a mask that is part of a larger grid of grid_voxels voxels, zero outside the part:
// "half the volume" is half of that grid's.
Mask keep_large_components(const Mask& mask, double min_fraction, std::int64_t grid_voxels);

// The sizes in voxels of the mask's 6-connected components, largest first (none when empty).
std::vector<std::int64_t> component_sizes(const Mask& mask);

struct KeepLargeComponents {
  double min_fraction = 0.5;
  Mask operator()(const Mask& m) const { return keep_large_components(m, min_fraction); }
  Mask operator()(const Mask& part, std::int64_t grid_voxels) const {
    return keep_large_components(part, min_fraction, grid_voxels);
  }
};

}  // namespace c2f
