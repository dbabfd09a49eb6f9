#include "metrics.hpp"

#include <stdexcept>

namespace c2f {

Overlap overlap(const Mask& a, const Mask& b) {
  if (a.dims() != b.dims()) throw std::invalid_argument("overlap: masks of different sizes");
  const std::uint8_t* pa = a.data();
  const std::uint8_t* pb = b.data();
  const std::int64_t n = a.size();
  Overlap o;
  // Branch-free counts over 0/1 bytes (any non-zero value counts as foreground).
  for (std::int64_t i = 0; i < n; ++i) {
    const int x = pa[i] != 0, y = pb[i] != 0;
    o.a += x;
    o.b += y;
    o.both += x & y;
  }
  return o;
}

double share_inside(const Mask& truth, const Box3& box) {
  std::int64_t all = 0, inside = 0;
  for (std::int64_t z = 0; z < truth.nz(); ++z)
    for (std::int64_t y = 0; y < truth.ny(); ++y) {
      const std::uint8_t* row = truth.data() + truth.offset(0, y, z);
      const bool row_in = z >= box.lo[2] && z < box.hi[2] && y >= box.lo[1] && y < box.hi[1];
      for (std::int64_t x = 0; x < truth.nx(); ++x)
        if (row[x]) {
          ++all;
          inside += row_in && x >= box.lo[0] && x < box.hi[0];
        }
    }
  return all == 0 ? 1.0 : double(inside) / double(all);
}

}  // namespace c2f
