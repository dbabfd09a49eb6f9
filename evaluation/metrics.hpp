#pragma once
// Overlap of two masks on the same grid.
//   dice: DSC(A, B) = 2 |A n B| / (|A| + |B|), the paper's measure and its d(t) (METHOD.md).
//   share_inside: |G n box| / |G|, whether the coarse box found the organ.
//   notes: two empty masks agree perfectly (DSC 1): that is what d(t) must say when a fine round
//   finds nothing twice in a row.
#include "../pipeline/volume.hpp"

namespace c2f {

struct Overlap {
  std::int64_t a = 0, b = 0, both = 0;  // |A|, |B|, |A n B|
  double dice() const { return a + b == 0 ? 1.0 : 2.0 * double(both) / double(a + b); }
};

// Throws std::invalid_argument when the grids' sizes differ.
Overlap overlap(const Mask& a, const Mask& b);
inline double dice(const Mask& a, const Mask& b) { return overlap(a, b).dice(); }

// The share of truth's voxels inside box (1 for an empty truth): how much of the organ a round's
// bounding box holds, so how much the fine stage can still find.
double share_inside(const Mask& truth, const Box3& box);

// The same two for a mask known only on `box` of truth's grid (zero elsewhere), with truth's
// foreground count known: they read the box alone, and equal the whole computations.
Overlap overlap(const Mask& part, const Box3& box, const Mask& truth, std::int64_t truth_voxels);
double share_inside(const Mask& truth, const Box3& box, std::int64_t truth_voxels);

}  // namespace c2f
