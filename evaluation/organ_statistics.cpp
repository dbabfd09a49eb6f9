#include "organ_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "../stages/bounding_box.hpp"
#include "../stages/connected_components.hpp"

namespace c2f {

namespace {
// RAS world millimetres (c2f's) to DICOM's LPS patient coordinates.
std::array<double, 3> lps(const Vec3& ras) { return {-ras[0], -ras[1], ras[2]}; }
}  // namespace

OrganStatistics organ_statistics(const Mask& mask, const Image& hu) {
  if (mask.dims() != hu.dims()) throw std::invalid_argument("organ_statistics: the mask and the image lie on different grids");
  OrganStatistics s;
  const Box3 box = bounding_box(mask);
  if (box.empty()) return s;
  const Geometry& g = mask.geometry();
  const Index3 dims = mask.dims();
  double mean = 0, m2 = 0;  // Welford: no cancellation over a million voxels
  double min_hu = std::numeric_limits<double>::infinity(), max_hu = -min_hu;
  Vec3 index_sum{0, 0, 0};
  for (std::int64_t z = box.lo[2]; z < box.hi[2]; ++z)
    for (std::int64_t y = box.lo[1]; y < box.hi[1]; ++y)
      for (std::int64_t x = box.lo[0]; x < box.hi[0]; ++x) {
        if (!mask(x, y, z)) continue;
        const double v = hu(x, y, z);
        ++s.voxels;
        const double delta = v - mean;
        mean += delta / double(s.voxels);
        m2 += delta * (v - mean);
        min_hu = std::min(min_hu, v);
        max_hu = std::max(max_hu, v);
        index_sum[0] += double(x), index_sum[1] += double(y), index_sum[2] += double(z);
      }
  const double n = double(s.voxels);
  s.volume_ml = n * g.spacing_mm[0] * g.spacing_mm[1] * g.spacing_mm[2] / 1000.0;
  s.mean_hu = mean;
  s.sd_hu = s.voxels > 1 ? std::sqrt(m2 / (n - 1)) : 0.0;
  s.min_hu = min_hu;
  s.max_hu = max_hu;
  s.centroid_lps_mm = lps(g.to_world({index_sum[0] / n, index_sum[1] / n, index_sum[2] / n}));
  const auto a = lps(g.to_world({double(box.lo[0]), double(box.lo[1]), double(box.lo[2])}));
  const auto b = lps(g.to_world({double(box.hi[0] - 1), double(box.hi[1] - 1), double(box.hi[2] - 1)}));
  for (int i = 0; i < 3; ++i) {
    s.box_min_lps_mm[std::size_t(i)] = std::min(a[std::size_t(i)], b[std::size_t(i)]);
    s.box_max_lps_mm[std::size_t(i)] = std::max(a[std::size_t(i)], b[std::size_t(i)]);
  }
  s.touches_first_slice = box.lo[2] == 0;
  s.touches_last_slice = box.hi[2] == dims[2];
  s.touches_field_of_view_edge = box.lo[0] == 0 || box.lo[1] == 0 || box.hi[0] == dims[0] || box.hi[1] == dims[1];
  s.components = int(component_sizes(mask).size());
  return s;
}

}  // namespace c2f
