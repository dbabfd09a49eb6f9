#pragma once
// BoundingBox3D: the minimal box [lo, hi) holding every foreground voxel of a mask.
//   in:  Mask            out: Box3, empty (all zero) when the mask is empty
//   notes: one pass over the mask.
#include "../pipeline/volume.hpp"

namespace c2f {

Box3 bounding_box(const Mask& mask);

struct BoundingBox3D {
  Box3 operator()(const Mask& mask) const { return bounding_box(mask); }
};

}  // namespace c2f
