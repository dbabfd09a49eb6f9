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

Overlap overlap(const Mask& part, const Box3& box, const Mask& truth, std::int64_t truth_voxels) {
  if (box.intersect(Box3::whole(truth.dims())) != box || part.dims() != box.extents())
    throw std::invalid_argument("overlap: the part is not a box of the truth's grid");
  Overlap o;
  o.b = truth_voxels;
  for (std::int64_t z = 0; z < box.extent(2); ++z)
    for (std::int64_t y = 0; y < box.extent(1); ++y) {
      const std::uint8_t* pa = part.data() + part.offset(0, y, z);
      const std::uint8_t* pb = truth.data() + truth.offset(box.lo[0], box.lo[1] + y, box.lo[2] + z);
      for (std::int64_t x = 0; x < box.extent(0); ++x) {
        const int a = pa[x] != 0;
        o.a += a;
        o.both += a & (pb[x] != 0);
      }
    }
  return o;
}

double share_inside(const Mask& truth, const Box3& box, std::int64_t truth_voxels) {
  if (truth_voxels == 0) return 1.0;
  const Box3 b = box.intersect(Box3::whole(truth.dims()));
  std::int64_t inside = 0;
  for (std::int64_t z = b.lo[2]; z < b.hi[2]; ++z)
    for (std::int64_t y = b.lo[1]; y < b.hi[1]; ++y) {
      const std::uint8_t* row = truth.data() + truth.offset(0, y, z);
      for (std::int64_t x = b.lo[0]; x < b.hi[0]; ++x) inside += row[x] != 0;
    }
  return double(inside) / double(truth_voxels);
}

}  // namespace c2f
