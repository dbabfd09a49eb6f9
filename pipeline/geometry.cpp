#include "geometry.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace c2f {

Vec3 Geometry::to_world(const Vec3& ijk) const {
  Vec3 w = origin_mm;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) w[r] += direction[r][c] * spacing_mm[c] * ijk[c];
  return w;
}

bool Geometry::same_grid(const Geometry& other, double tol_mm) const {
  if (dims != other.dims) return false;
  const Vec3 far{double(dims[0] - 1), double(dims[1] - 1), double(dims[2] - 1)};
  for (const Vec3& p : {Vec3{0, 0, 0}, far, Vec3{far[0], 0, 0}, Vec3{0, far[1], 0}, Vec3{0, 0, far[2]}}) {
    const Vec3 a = to_world(p), b = other.to_world(p);
    for (int i = 0; i < 3; ++i)
      if (std::abs(a[i] - b[i]) > tol_mm) return false;
  }
  return true;
}

std::string Geometry::orientation_code() const {
  static constexpr char kPositive[] = "RAS", kNegative[] = "LPI";
  std::string code(3, '?');
  for (int a = 0; a < 3; ++a) {
    int best = 0;
    for (int w = 1; w < 3; ++w)
      if (std::abs(direction[w][a]) > std::abs(direction[best][a])) best = w;
    code[a] = direction[best][a] >= 0 ? kPositive[best] : kNegative[best];
  }
  return code;
}

bool Box3::contains(const Index3& p) const {
  for (int a = 0; a < 3; ++a)
    if (p[a] < lo[a] || p[a] >= hi[a]) return false;
  return true;
}

Box3 Box3::intersect(const Box3& other) const {
  Box3 r;
  for (int a = 0; a < 3; ++a) {
    r.lo[a] = std::max(lo[a], other.lo[a]);
    r.hi[a] = std::max(r.lo[a], std::min(hi[a], other.hi[a]));
  }
  return r;
}

Box3 Box3::grown(const Index3& margin, const Index3& dims) const {
  Box3 r;
  for (int a = 0; a < 3; ++a) {
    r.lo[a] = std::clamp<std::int64_t>(lo[a] - margin[a], 0, dims[a]);
    r.hi[a] = std::clamp<std::int64_t>(hi[a] + margin[a], r.lo[a], dims[a]);
  }
  return r;
}

Geometry sub_geometry(const Geometry& parent, const Box3& box) {
  Geometry g = parent;
  g.dims = box.extents();
  g.origin_mm = parent.to_world({double(box.lo[0]), double(box.lo[1]), double(box.lo[2])});
  return g;
}

std::string Geometry::problem() const {
  double voxels = 1;
  for (int a = 0; a < 3; ++a) {
    if (dims[a] <= 0) return "axis " + std::to_string(a) + " has " + std::to_string(dims[a]) + " voxels";
    voxels *= double(dims[a]);
    if (!(spacing_mm[a] > 0) || !std::isfinite(spacing_mm[a])) return "voxel spacing is not a positive number";
    if (!std::isfinite(origin_mm[a])) return "origin is not finite";
  }
  // The readers' common bound (8 GiB as float): a header may claim any size, the data may not.
  if (voxels > double(kMaxVolumeVoxels)) return "absurd size: more than 2^31 voxels";
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b) {
      double d = 0;
      for (int r = 0; r < 3; ++r) d += direction[r][a] * direction[r][b];
      if (!(std::abs(d - (a == b ? 1.0 : 0.0)) < 1e-3)) return "direction axes are not orthonormal";
    }
  return {};
}

std::string NativeLayout::problem(const Geometry& canonical) const {
  std::array<bool, 3> seen{};
  for (int a : source_axis) {
    if (a < 0 || a > 2 || seen[std::size_t(a)]) return "source axes are not a permutation of 0, 1, 2";
    seen[std::size_t(a)] = true;
  }
  if (std::string p = native.problem(); !p.empty()) return "native grid: " + p;
  if (canonical_geometry(*this).dims != canonical.dims) return "native grid does not reorient onto the canonical one";
  return {};
}

bool NativeLayout::is_identity() const {
  return source_axis == std::array<int, 3>{0, 1, 2} && !flipped[0] && !flipped[1] && !flipped[2];
}

NativeLayout canonical_layout(const Geometry& native) {
  // Greedy: the largest |cosine| pairs a world axis with an index axis, then the next largest
  // among the rest. For an axis-aligned grid this is exact; for an oblique one it is the closest
  // canonical grid (as nibabel's io_orientation).
  NativeLayout layout;
  layout.native = native;
  bool world_used[3] = {false, false, false}, axis_used[3] = {false, false, false};
  for (int step = 0; step < 3; ++step) {
    int best_w = -1, best_a = -1;
    double best = -1;
    for (int w = 0; w < 3; ++w)
      for (int a = 0; a < 3; ++a)
        if (!world_used[w] && !axis_used[a] && std::abs(native.direction[w][a]) > best) {
          best = std::abs(native.direction[w][a]);
          best_w = w;
          best_a = a;
        }
    world_used[best_w] = axis_used[best_a] = true;
    layout.source_axis[best_w] = best_a;
    layout.flipped[best_w] = native.direction[best_w][best_a] < 0;
  }
  return layout;
}

Geometry canonical_geometry(const NativeLayout& layout) {
  const Geometry& n = layout.native;
  Geometry g;
  Vec3 corner{0, 0, 0};  // the native index of canonical voxel (0, 0, 0)
  for (int w = 0; w < 3; ++w) {
    const int a = layout.source_axis[w];
    g.dims[w] = n.dims[a];
    g.spacing_mm[w] = n.spacing_mm[a];
    const double sign = layout.flipped[w] ? -1.0 : 1.0;
    for (int r = 0; r < 3; ++r) g.direction[r][w] = sign * n.direction[r][a];
    if (layout.flipped[w]) corner[a] = double(n.dims[a] - 1);
  }
  g.origin_mm = n.to_world(corner);
  return g;
}

NativeLayout layout_with_orientation(const Geometry& canonical, std::string_view code) {
  if (code.size() != 3) throw std::invalid_argument("orientation code must have 3 letters: " + std::string(code));
  NativeLayout layout;
  Geometry& native = layout.native;
  bool used[3] = {false, false, false};
  Vec3 corner{0, 0, 0};  // canonical index of native voxel (0, 0, 0)
  for (int a = 0; a < 3; ++a) {
    const char c = char(std::toupper(static_cast<unsigned char>(code[a])));
    const int w = (c == 'R' || c == 'L') ? 0 : (c == 'A' || c == 'P') ? 1 : (c == 'S' || c == 'I') ? 2 : -1;
    if (w < 0 || used[w]) throw std::invalid_argument("not an orientation code: " + std::string(code));
    used[w] = true;
    const bool negative = (c == 'L' || c == 'P' || c == 'I');
    native.dims[a] = canonical.dims[w];
    native.spacing_mm[a] = canonical.spacing_mm[w];
    for (int r = 0; r < 3; ++r) native.direction[r][a] = (negative ? -1.0 : 1.0) * canonical.direction[r][w];
    if (negative) corner[w] = double(canonical.dims[w] - 1);
    layout.source_axis[w] = a;
    layout.flipped[w] = negative;
  }
  native.origin_mm = canonical.to_world(corner);
  return layout;
}

}  // namespace c2f
