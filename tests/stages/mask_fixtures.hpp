#pragma once
// Small masks for the stage tests: an empty grid and boxes filled in it.
#include "../../pipeline/volume.hpp"

namespace c2f::test {

inline Mask empty_mask(const Index3& dims, const Vec3& spacing = {1, 1, 1}) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  return Mask(g, 0);
}

inline void fill(Mask& m, const Box3& b) {
  for (std::int64_t z = b.lo[2]; z < b.hi[2]; ++z)
    for (std::int64_t y = b.lo[1]; y < b.hi[1]; ++y)
      for (std::int64_t x = b.lo[0]; x < b.hi[0]; ++x) m(x, y, z) = 1;
}

}  // namespace c2f::test
