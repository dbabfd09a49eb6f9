#include "surface_distance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "../stages/bounding_box.hpp"
#include "metrics.hpp"

namespace c2f {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// 1-D squared distance transform of f (Felzenszwalb & Huttenlocher 2012) with sample spacing h:
// d[i] = min_j (h (i - j))^2 + f[j].
void distance_1d(const double* f, double* d, std::int64_t n, double h, std::vector<std::int64_t>& v, std::vector<double>& z) {
  v.resize(std::size_t(n));
  z.resize(std::size_t(n) + 1);
  std::int64_t k = -1;
  for (std::int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    const double pos_q = h * double(q);
    while (k >= 0) {
      const double pos_v = h * double(v[std::size_t(k)]);
      const double s = ((f[q] + pos_q * pos_q) - (f[v[std::size_t(k)]] + pos_v * pos_v)) / (2 * (pos_q - pos_v));
      if (s <= z[std::size_t(k)]) {
        --k;
        continue;
      }
      ++k;
      v[std::size_t(k)] = q;
      z[std::size_t(k)] = s;
      z[std::size_t(k) + 1] = kInf;
      break;
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
    }
  }
  if (k < 0) {
    std::fill(d, d + n, kInf);
    return;
  }
  std::int64_t j = 0;
  for (std::int64_t q = 0; q < n; ++q) {
    while (z[std::size_t(j) + 1] < h * double(q)) ++j;
    const double diff = h * double(q - v[std::size_t(j)]);
    d[q] = diff * diff + f[v[std::size_t(j)]];
  }
}

// Squared distance in mm from every voxel of a box-sized grid to the nearest seed voxel.
std::vector<double> squared_distance_to(const std::vector<std::uint8_t>& seed, const Index3& n, const Vec3& spacing) {
  std::vector<double> d(seed.size());
  for (std::size_t i = 0; i < seed.size(); ++i) d[i] = seed[i] ? 0.0 : kInf;
  const std::int64_t stride[3] = {1, n[0], n[0] * n[1]};
  std::vector<double> line, out;
  std::vector<std::int64_t> v;
  std::vector<double> z;
  for (int axis = 0; axis < 3; ++axis) {
    const int a1 = (axis + 1) % 3, a2 = (axis + 2) % 3;
    line.resize(std::size_t(n[axis]));
    out.resize(std::size_t(n[axis]));
    for (std::int64_t i2 = 0; i2 < n[a2]; ++i2)
      for (std::int64_t i1 = 0; i1 < n[a1]; ++i1) {
        const std::int64_t base = i1 * stride[a1] + i2 * stride[a2];
        for (std::int64_t i = 0; i < n[axis]; ++i) line[std::size_t(i)] = d[std::size_t(base + i * stride[axis])];
        distance_1d(line.data(), out.data(), n[axis], spacing[axis], v, z);
        for (std::int64_t i = 0; i < n[axis]; ++i) d[std::size_t(base + i * stride[axis])] = out[std::size_t(i)];
      }
  }
  return d;
}

// Surface voxels of a mask inside a box, as a box-sized 0/1 grid; neighbours outside the volume
// count as background.
std::vector<std::uint8_t> surface_in_box(const Mask& m, const Box3& box) {
  const Index3 n = box.extents();
  std::vector<std::uint8_t> s(std::size_t(box.voxel_count()), 0);
  const Index3& dims = m.dims();
  std::size_t i = 0;
  for (std::int64_t z = box.lo[2]; z < box.hi[2]; ++z)
    for (std::int64_t y = box.lo[1]; y < box.hi[1]; ++y)
      for (std::int64_t x = box.lo[0]; x < box.hi[0]; ++x, ++i) {
        if (!m(x, y, z)) continue;
        const auto inside = [&](std::int64_t a, std::int64_t b, std::int64_t c) {
          return a >= 0 && b >= 0 && c >= 0 && a < dims[0] && b < dims[1] && c < dims[2] && m(a, b, c);
        };
        s[i] = !(inside(x - 1, y, z) && inside(x + 1, y, z) && inside(x, y - 1, z) && inside(x, y + 1, z) &&
                 inside(x, y, z - 1) && inside(x, y, z + 1));
      }
  (void)n;
  return s;
}

Box3 union_box(const Box3& a, const Box3& b) {
  Box3 u;
  for (int k = 0; k < 3; ++k) {
    u.lo[k] = std::min(a.lo[k], b.lo[k]);
    u.hi[k] = std::max(a.hi[k], b.hi[k]);
  }
  return u;
}

// Distances (mm) from each surface voxel of `from` to the nearest surface voxel of `to`.
void surface_distances(const std::vector<std::uint8_t>& from, const std::vector<double>& to_squared,
                       std::vector<double>& out) {
  for (std::size_t i = 0; i < from.size(); ++i)
    if (from[i]) out.push_back(std::sqrt(to_squared[i]));
}

double percentile(std::vector<double> values, double q) {
  // numpy's default (linear interpolation between closest ranks), as medpy uses.
  std::sort(values.begin(), values.end());
  const double pos = q / 100.0 * double(values.size() - 1);
  const std::size_t lo = std::size_t(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - double(lo)) * (values[hi] - values[lo]);
}

double mean(const std::vector<double>& v, std::size_t begin, std::size_t end) {
  double s = 0;
  for (std::size_t i = begin; i < end; ++i) s += v[i];
  return s / double(end - begin);
}
}  // namespace

SegmentationMetrics segmentation_metrics(const Mask& prediction, const Mask& truth) {
  const Overlap o = overlap(prediction, truth);
  SegmentationMetrics m;
  m.dice = o.dice();
  m.jaccard = o.a + o.b - o.both == 0 ? 1.0 : double(o.both) / double(o.a + o.b - o.both);
  m.precision = o.a == 0 ? (o.b == 0 ? 1.0 : 0.0) : double(o.both) / double(o.a);
  m.recall = o.b == 0 ? (o.a == 0 ? 1.0 : 0.0) : double(o.both) / double(o.b);
  if (o.a == 0 || o.b == 0) {
    m.hd95_mm = m.assd_mm = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  const Box3 box = union_box(bounding_box(prediction), bounding_box(truth));
  const Vec3& spacing = truth.geometry().spacing_mm;
  const auto sp = surface_in_box(prediction, box), st = surface_in_box(truth, box);
  std::vector<double> d;
  surface_distances(sp, squared_distance_to(st, box.extents(), spacing), d);
  const std::size_t n_pred = d.size();
  surface_distances(st, squared_distance_to(sp, box.extents(), spacing), d);
  m.hd95_mm = percentile(d, 95);
  m.assd_mm = (mean(d, 0, n_pred) + mean(d, n_pred, d.size())) / 2;
  return m;
}

}  // namespace c2f
