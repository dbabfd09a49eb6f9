#include "resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../pipeline/errors.hpp"

namespace c2f {

void ResampleOptions::validate() const {
  for (double s : spacing_mm)
    if (!(s >= kMinSpacingMm && s <= kMaxSpacingMm))
      throw OptionError(fmt::format("network spacing {}x{}x{} mm: each axis must lie in [{}, {}] mm", spacing_mm[0],
                                    spacing_mm[1], spacing_mm[2], kMinSpacingMm, kMaxSpacingMm));
  if (!(tolerance >= 0 && tolerance < 0.5)) throw OptionError("the resampling tolerance must lie in [0, 0.5)");
}

bool needs_resampling(const Geometry& input, const ResampleOptions& o) {
  for (int a = 0; a < 3; ++a)
    if (std::abs(input.spacing_mm[a] - o.spacing_mm[a]) > o.tolerance * o.spacing_mm[a]) return true;
  return false;
}

Geometry network_grid(const Geometry& input, const ResampleOptions& o, const std::string& source) {
  o.validate();
  for (double s : input.spacing_mm)
    if (!(s >= kMinSpacingMm && s <= kMaxSpacingMm))
      throw InputError(source, fmt::format("voxel spacing {:.4g}x{:.4g}x{:.4g} mm lies outside [{}, {}] mm on some axis",
                                           input.spacing_mm[0], input.spacing_mm[1], input.spacing_mm[2],
                                           kMinSpacingMm, kMaxSpacingMm));
  if (!needs_resampling(input, o)) return input;
  Geometry g = input;
  double voxels = 1;
  for (int a = 0; a < 3; ++a) {
    const double extent = double(input.dims[a]) * input.spacing_mm[a];
    voxels *= std::max(1.0, std::round(extent / o.spacing_mm[a]));
  }
  if (voxels > double(kMaxVolumeVoxels))
    throw InputError(source, fmt::format("resampled to {}x{}x{} mm it would have {:.3g} voxels, more than the {} a "
                                         "volume may have", o.spacing_mm[0], o.spacing_mm[1], o.spacing_mm[2], voxels,
                                         kMaxVolumeVoxels));
  for (int a = 0; a < 3; ++a) {
    const double extent = double(input.dims[a]) * input.spacing_mm[a];
    g.dims[a] = std::max<std::int64_t>(1, std::llround(extent / o.spacing_mm[a]));
    g.spacing_mm[a] = extent / double(g.dims[a]);
  }
  // The field of view's corner stays where it is; voxel centres move by half the change.
  for (int r = 0; r < 3; ++r) {
    double shift = 0;
    for (int a = 0; a < 3; ++a) shift += input.direction[r][a] * 0.5 * (g.spacing_mm[a] - input.spacing_mm[a]);
    g.origin_mm[r] = input.origin_mm[r] + shift;
  }
  return g;
}

namespace {
// Same direction and field of view (corner and extent) within a hundredth of the finer voxel.
void check_same_field(const Geometry& from, const Geometry& to) {
  for (int a = 0; a < 3; ++a) {
    const double tol = 0.01 * std::min(from.spacing_mm[a], to.spacing_mm[a]);
    const double e0 = double(from.dims[a]) * from.spacing_mm[a], e1 = double(to.dims[a]) * to.spacing_mm[a];
    if (std::abs(e0 - e1) > tol * std::max<double>(1, double(std::max(from.dims[a], to.dims[a]))))
      throw std::invalid_argument("resample: the grids cover different fields of view");
    for (int r = 0; r < 3; ++r)
      if (std::abs(from.direction[r][a] - to.direction[r][a]) > 1e-6)
        throw std::invalid_argument("resample: the grids have different directions");
  }
  Vec3 c0{}, c1{};
  for (int r = 0; r < 3; ++r) {
    c0[r] = from.origin_mm[r];
    c1[r] = to.origin_mm[r];
    for (int a = 0; a < 3; ++a) {
      c0[r] -= from.direction[r][a] * 0.5 * from.spacing_mm[a];
      c1[r] -= to.direction[r][a] * 0.5 * to.spacing_mm[a];
    }
  }
  const double tol = 0.05 * std::min({from.spacing_mm[0], from.spacing_mm[1], from.spacing_mm[2], to.spacing_mm[0],
                                      to.spacing_mm[1], to.spacing_mm[2]});
  for (int r = 0; r < 3; ++r)
    if (std::abs(c0[r] - c1[r]) > tol) throw std::invalid_argument("resample: the grids' corners differ");
}

// Per axis: shrinking averages the voxels each output covers, growing interpolates linearly.
int interpolation(std::int64_t from, std::int64_t to) { return to < from ? cv::INTER_AREA : cv::INTER_LINEAR; }

// The output voxels along one axis that source voxels [lo, hi) can reach: an output's footprint
// (its area, or its two linear neighbours) spans at most n/m + 2 source voxels, so a margin of
// two voxels each side on both grids is conservative for both interpolations.
std::pair<std::int64_t, std::int64_t> reach(std::int64_t lo, std::int64_t hi, std::int64_t n, std::int64_t m) {
  if (hi <= lo) return {0, 0};
  if (n == m) return {lo, hi};
  const double f = double(m) / double(n);
  const auto a = std::int64_t(std::floor(double(lo - 2) * f)) - 2, b = std::int64_t(std::ceil(double(hi + 2) * f)) + 2;
  return {std::clamp<std::int64_t>(a, 0, m), std::clamp<std::int64_t>(b, 0, m)};
}

// A float matrix header on volume memory: rows of `cols` floats, `step` floats apart.
cv::Mat plane(float* data, std::int64_t rows, std::int64_t cols, std::int64_t step) {
  return cv::Mat(int(rows), int(cols), CV_32F, data, std::size_t(step) * sizeof(float));
}
cv::Mat plane(const float* data, std::int64_t rows, std::int64_t cols, std::int64_t step) {
  return plane(const_cast<float*>(data), rows, cols, step);
}
}  // namespace

Volume<float> resample(const Volume<float>& v, const Geometry& target) {
  return resample(v, target, Box3::whole(v.dims()));
}

Volume<float> resample(const Volume<float>& v, const Geometry& target, const Box3& support) {
  const Geometry& g = v.geometry();
  if (g.dims == target.dims) {
    Volume<float> same = v;
    same.set_geometry(target);
    return same;
  }
  check_same_field(g, target);
  const Box3 s = support.intersect(Box3::whole(g.dims));
  const std::int64_t nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  const std::int64_t mx = target.dims[0], my = target.dims[1], mz = target.dims[2];
  if (s.empty()) return Volume<float>(target, 0.0f);
  // Three separable passes (x, then y, then z), each a 1-D resize of whole lines along its axis,
  // run only on the lines the support reaches: everything else is zero on both grids. With the
  // whole volume as support every line is written, so the passes' volumes need no zero fill.
  const bool whole = s == Box3::whole(g.dims);
  const auto fresh = [whole](const Geometry& grid) { return whole ? Volume<float>(grid) : Volume<float>(grid, 0.0f); };
  const auto [x0, x1] = reach(s.lo[0], s.hi[0], nx, mx);
  const auto [y0, y1] = reach(s.lo[1], s.hi[1], ny, my);

  // x: for each slice of the support, its rows of the support resized along x.
  Geometry gx = g;
  gx.dims = {mx, ny, nz};
  Volume<float> along_x;
  const Volume<float>* cur = &v;
  if (mx != nx) {
    along_x = fresh(gx);
    cv::parallel_for_(cv::Range(int(s.lo[2]), int(s.hi[2])), [&](const cv::Range& r) {
      for (int z = r.start; z < r.end; ++z) {
        const std::int64_t rows = s.extent(1);
        const cv::Mat src = plane(v.data() + (z * ny + s.lo[1]) * nx, rows, nx, nx);
        cv::Mat dst = plane(along_x.data() + (z * ny + s.lo[1]) * mx, rows, mx, mx);
        cv::resize(src, dst, dst.size(), 0, 0, interpolation(nx, mx));
      }
    });
    cur = &along_x;
  }
  // y: for each slice of the support, an ny x (reached columns) plane resized along y; the
  // columns of a vertical resize are independent, so a column window computes exactly them.
  Geometry gy = g;
  gy.dims = {mx, my, nz};
  Volume<float> along_y;
  if (my != ny) {
    along_y = fresh(gy);
    const Volume<float>& in = *cur;
    cv::parallel_for_(cv::Range(int(s.lo[2]), int(s.hi[2])), [&](const cv::Range& r) {
      for (int z = r.start; z < r.end; ++z) {
        const cv::Mat src = plane(in.data() + z * ny * mx + x0, ny, x1 - x0, mx);
        cv::Mat dst = plane(along_y.data() + z * my * mx + x0, my, x1 - x0, mx);
        cv::resize(src, dst, dst.size(), 0, 0, interpolation(ny, my));
      }
    });
    cur = &along_y;
  }
  if (mz == nz) {  // then x or y was resized: cur is one of the two passes' volumes
    Volume<float> out = cur == &along_y ? std::move(along_y) : std::move(along_x);
    out.set_geometry(target);
    return out;
  }
  // z: one coronal plane (rows z, the reached columns x) per reached y, strided, no transposes.
  Volume<float> out = fresh(target);
  const Volume<float>& in = *cur;
  cv::parallel_for_(cv::Range(int(y0), int(y1)), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) {
      const cv::Mat src = plane(in.data() + y * mx + x0, nz, x1 - x0, mx * my);
      cv::Mat dst = plane(out.data() + y * mx + x0, mz, x1 - x0, mx * my);
      cv::resize(src, dst, dst.size(), 0, 0, interpolation(nz, mz));
    }
  });
  return out;
}

Mask resample_mask(const Mask& m, const Geometry& target) {
  if (m.dims() == target.dims) {
    Mask same = m;
    same.set_geometry(target);
    return same;
  }
  Volume<float> f(m.geometry());
  std::transform(m.data(), m.data() + m.size(), f.data(), [](std::uint8_t x) { return x ? 1.0f : 0.0f; });
  const Volume<float> r = resample(f, target);
  Mask out(target);
  std::transform(r.data(), r.data() + r.size(), out.data(), [](float x) -> std::uint8_t { return x >= 0.5f ? 1 : 0; });
  return out;
}

Case resample_case(const Case& c, const ResampleOptions& options) {
  const Geometry grid = network_grid(c.image->geometry(), options, c.source);
  if (grid.dims == c.image->dims()) return c;
  Case out = c;
  out.image = std::make_shared<const Image>(resample(*c.image, grid));
  if (c.label) out.label = std::make_shared<const Mask>(resample_mask(*c.label, grid));
  return out;
}

Vec3 parse_spacing(const std::string& text) {
  double v[3] = {0, 0, 0};
  int consumed = 0;
  Vec3 s{};
  if (std::sscanf(text.c_str(), "%lf,%lf,%lf%n", &v[0], &v[1], &v[2], &consumed) == 3 && consumed == int(text.size())) {
    s = {v[0], v[1], v[2]};
  } else if (std::sscanf(text.c_str(), "%lf%n", &v[0], &consumed) == 1 && consumed == int(text.size())) {
    s = {v[0], v[0], v[0]};
  } else {
    throw OptionError("spacing '" + text + "' is not of the form S or X,Y,Z (millimetres)");
  }
  ResampleOptions{s}.validate();
  return s;
}

}  // namespace c2f
