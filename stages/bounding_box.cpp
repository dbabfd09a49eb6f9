#include "bounding_box.hpp"

#include <algorithm>
#include <cstring>

namespace c2f {

Box3 bounding_box(const Mask& mask) {
  const std::int64_t nx = mask.nx(), ny = mask.ny(), nz = mask.nz();
  Box3 b{{nx, ny, nz}, {0, 0, 0}};
  const std::uint8_t* p = mask.data();
  for (std::int64_t z = 0; z < nz; ++z)
    for (std::int64_t y = 0; y < ny; ++y) {
      const std::uint8_t* row = p + (z * ny + y) * nx;
      // Most rows are empty: find the first and last set voxel only where there is one.
      const std::uint8_t* first = std::find_if(row, row + nx, [](std::uint8_t v) { return v != 0; });
      if (first == row + nx) continue;
      const std::uint8_t* last = row + nx - 1;
      while (*last == 0) --last;
      b.lo = {std::min(b.lo[0], std::int64_t(first - row)), std::min(b.lo[1], y), std::min(b.lo[2], z)};
      b.hi = {std::max(b.hi[0], std::int64_t(last - row) + 1), std::max(b.hi[1], y + 1), std::max(b.hi[2], z + 1)};
    }
  return b.empty() ? Box3{} : b;
}

}  // namespace c2f
