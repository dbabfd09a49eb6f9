#include "resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../pipeline/errors.hpp"
#include "crop_with_frame.hpp"

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
// The part [lo, hi) of an axis of n lines.
struct AxisPart {
  std::int64_t lo, hi, n;
  bool whole() const { return lo == 0 && hi == n; }
};

// One separable pass over a plane: `in` holds part `from` of an axis (along the plane's rows or its
// columns), zero on the rest of it; `out` receives part `to` of that axis resized. A part short of
// the whole axis goes through a zero-padded plane, so every value is the whole line's resize.
struct LinePass {
  cv::Mat padded, resized;  // reused from plane to plane
  void run(const cv::Mat& in, cv::Mat out, bool along_rows, const AxisPart& from, const AxisPart& to) {
    const auto range = [along_rows](cv::Mat& m, std::int64_t lo, std::int64_t hi) {
      return along_rows ? m.rowRange(int(lo), int(hi)) : m.colRange(int(lo), int(hi));
    };
    const cv::Size full_in = along_rows ? cv::Size(in.cols, int(from.n)) : cv::Size(int(from.n), in.rows);
    const cv::Size full_out = along_rows ? cv::Size(in.cols, int(to.n)) : cv::Size(int(to.n), in.rows);
    const cv::Mat* src = &in;
    if (!from.whole()) {
      if (padded.size() != full_in) padded = cv::Mat(full_in, CV_32F, cv::Scalar(0));
      in.copyTo(range(padded, from.lo, from.hi));  // the rest stays zero: only this part is ever written
      src = &padded;
    }
    cv::Mat& dst = to.whole() ? out : resized;
    cv::resize(*src, dst, full_out, 0, 0, interpolation(from.n, to.n));
    if (!to.whole()) range(resized, to.lo, to.hi).copyTo(out);
  }
};
}  // namespace

Volume<float> resample(const Volume<float>& v, const Geometry& target) {
  return resample(v, target, Box3::whole(v.dims()));
}

Volume<float> resample(const Volume<float>& v, const Geometry& target, const Box3& support) {
  const Box3 s = support.intersect(Box3::whole(v.dims()));
  if (s.empty()) {
    if (v.dims() != target.dims) check_same_field(v.geometry(), target);
    return Volume<float>(target, 0.0f);
  }
  ResampledRegion r = s == Box3::whole(v.dims()) ? resample_region(v, s, v.geometry(), target)
                                                 : resample_region(crop(v, s), s, v.geometry(), target);
  if (r.box == Box3::whole(target.dims)) {
    r.values.set_geometry(target);
    return std::move(r.values);
  }
  return paste_back(r.values, r.box, target, 0.0f);
}

ResampledRegion resample_region(const Volume<float>& region, const Box3& box, const Geometry& g, const Geometry& target) {
  if (box.empty() || box.intersect(Box3::whole(g.dims)) != box || region.dims() != box.extents())
    throw std::invalid_argument("resample_region: the region is not a box of the source grid");
  if (g.dims == target.dims) {
    Volume<float> same = region;
    same.set_geometry(sub_geometry(target, box));
    return {box, std::move(same)};
  }
  check_same_field(g, target);
  const std::int64_t nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  const std::int64_t mx = target.dims[0], my = target.dims[1], mz = target.dims[2];
  const auto [x0, x1] = reach(box.lo[0], box.hi[0], nx, mx);
  const auto [y0, y1] = reach(box.lo[1], box.hi[1], ny, my);
  const auto [z0, z1] = reach(box.lo[2], box.hi[2], nz, mz);
  const Box3 out_box{{x0, y0, z0}, {x1, y1, z1}};
  const std::int64_t sy = box.extent(1), sz = box.extent(2), wx = x1 - x0, wy = y1 - y0, wz = z1 - z0;
  // Three separable passes (x, then y, then z), each a 1-D resize of whole lines of the grid
  // along its axis, zero outside the region: the values are those of the whole computation. Each
  // pass keeps only the lines the next one reads, so the work and memory scale with the region.
  const auto grid = [&](std::int64_t ex, std::int64_t ey, std::int64_t ez) {
    Geometry d = target;
    d.dims = {ex, ey, ez};
    return d;
  };
  // x: each row of the region, as a row of the grid, resized; the reached columns kept.
  Volume<float> along_x;
  const Volume<float>* cur = &region;
  if (mx != nx) {
    along_x = Volume<float>(grid(wx, sy, sz));
    cv::parallel_for_(cv::Range(0, int(sz)), [&](const cv::Range& r) {
      LinePass pass;
      for (int z = r.start; z < r.end; ++z)
        pass.run(plane(region.data() + z * sy * box.extent(0), sy, box.extent(0), box.extent(0)),
                 plane(along_x.data() + z * sy * wx, sy, wx, wx), false, {box.lo[0], box.hi[0], nx}, {x0, x1, mx});
    });
    cur = &along_x;
  }
  // y: each slice's columns, as columns of the grid, resized; the reached rows kept.
  Volume<float> along_y;
  if (my != ny) {
    along_y = Volume<float>(grid(wx, wy, sz));
    const Volume<float>& in = *cur;
    cv::parallel_for_(cv::Range(0, int(sz)), [&](const cv::Range& r) {
      LinePass pass;
      for (int z = r.start; z < r.end; ++z)
        pass.run(plane(in.data() + z * sy * wx, sy, wx, wx), plane(along_y.data() + z * wy * wx, wy, wx, wx), true,
                 {box.lo[1], box.hi[1], ny}, {y0, y1, my});
    });
    cur = &along_y;
  }
  // z: one coronal plane (rows z, columns x) per reached y, strided, no transposes.
  Volume<float> out;
  if (mz != nz) {
    out = Volume<float>(grid(wx, wy, wz));
    const Volume<float>& in = *cur;
    cv::parallel_for_(cv::Range(0, int(wy)), [&](const cv::Range& r) {
      LinePass pass;
      for (int y = r.start; y < r.end; ++y)
        pass.run(plane(in.data() + y * wx, sz, wx, wx * wy), plane(out.data() + y * wx, wz, wx, wx * wy), true,
                 {box.lo[2], box.hi[2], nz}, {z0, z1, mz});
    });
  } else {
    out = cur == &along_y ? std::move(along_y) : std::move(along_x);
  }
  out.set_geometry(sub_geometry(target, out_box));
  return {out_box, std::move(out)};
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
