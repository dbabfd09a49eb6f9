#pragma once
// Voxel grids in world space.
//
// Index order and axes, said once for the whole project:
//   * Voxels are stored x fastest: offset = x + nx * (y + ny * z).
//   * World coordinates are RAS+ millimetres (the NIfTI convention): +x towards the patient's
//     Right, +y Anterior, +z Superior. DICOM's LPS positions are converted on reading.
//   * Every volume that enters the pipeline is reoriented to the canonical RAS grid: index x
//     increases towards the patient's right, y towards anterior, z towards superior (the closest
//     permutation and flips of the file's axes; an oblique direction is kept, not resampled).
//   * The three views of the paper, in that canonical grid:
//       axial    = slices along z (each slice is an x-y image),
//       coronal  = slices along y (x-z images),
//       sagittal = slices along x (y-z images).
//     In the paper's W x H x L notation for NIH arrays (rows first), W is the anterior-posterior
//     axis (coronal slices along it), H the left-right axis (sagittal) and L the slice axis.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace c2f {

using Index3 = std::array<std::int64_t, 3>;
using Vec3 = std::array<double, 3>;
using Mat3 = std::array<std::array<double, 3>, 3>;  // m[row][col]

inline constexpr Mat3 identity3() { return {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}; }

// Where a grid lies in the world: voxel (i, j, k) is at origin + direction * (spacing * ijk).
// The most voxels a volume may have (2^31: 8 GiB as float; NIH cases have 2^26). Files that
// claim more are refused before anything is allocated.
inline constexpr std::int64_t kMaxVolumeVoxels = std::int64_t(1) << 31;

struct Geometry {
  Index3 dims{0, 0, 0};
  Vec3 spacing_mm{1, 1, 1};
  Vec3 origin_mm{0, 0, 0};       // world position of the centre of voxel (0, 0, 0)
  Mat3 direction = identity3();  // column a: world direction of index axis a (unit length)

  std::int64_t voxel_count() const { return dims[0] * dims[1] * dims[2]; }
  Vec3 to_world(const Vec3& ijk) const;
  // Whether two grids are the same within tol_mm at the far corner (dims must match exactly).
  bool same_grid(const Geometry& other, double tol_mm = 1e-3) const;
  // The three-letter axis code of the grid, e.g. "RAS", "LPS", "LAS": the world direction each
  // index axis points to (the closest one for oblique grids).
  std::string orientation_code() const;
  // What makes this grid unusable (a non-positive size or spacing, a non-finite origin, axes that
  // are not orthonormal), or an empty string for a sound grid.
  std::string problem() const;
};

// Axis-aligned voxel box [lo, hi) in index space.
struct Box3 {
  Index3 lo{0, 0, 0};
  Index3 hi{0, 0, 0};

  static Box3 whole(const Index3& dims) { return {{0, 0, 0}, dims}; }
  bool empty() const { return hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2]; }
  std::int64_t extent(int axis) const { return hi[axis] > lo[axis] ? hi[axis] - lo[axis] : 0; }
  Index3 extents() const { return {extent(0), extent(1), extent(2)}; }
  std::int64_t voxel_count() const { return extent(0) * extent(1) * extent(2); }
  bool contains(const Index3& p) const;
  Box3 intersect(const Box3& other) const;
  // The box grown by margin voxels on every side, clipped to [0, dims).
  Box3 grown(const Index3& margin, const Index3& dims) const;
  bool operator==(const Box3&) const = default;
};

// The grid of a sub-box of a volume: same spacing and direction, origin moved to the box corner.
Geometry sub_geometry(const Geometry& parent, const Box3& box);

// How the canonical RAS grid maps onto the grid a file stored, so that results can be written
// back voxel for voxel onto the input (nnU-Net-style tools compare voxel arrays, viewers compare
// world coordinates; both then line up).
struct NativeLayout {
  std::array<int, 3> source_axis{0, 1, 2};  // canonical axis a is the file's axis source_axis[a]
  std::array<bool, 3> flipped{false, false, false};  // ...read in reverse
  Geometry native;                                   // the file's own grid, in file axis order

  bool is_identity() const;
  // What makes this layout unusable (source axes not a permutation, a native grid that does not
  // reorient onto `canonical`), or an empty string.
  std::string problem(const Geometry& canonical) const;
};

// The reorientation of a grid to canonical RAS: the closest permutation and flips.
NativeLayout canonical_layout(const Geometry& native);
// The canonical grid that a layout produces.
Geometry canonical_geometry(const NativeLayout& layout);

// The layout that stores a canonical grid with the given axis code ("LAS", "LPS", "SRA", ...):
// native axis a points towards code[a]. For writers that mimic what scanners and converters
// produce. Throws std::invalid_argument for a code that is not a permutation of R/L, A/P, S/I.
NativeLayout layout_with_orientation(const Geometry& canonical, std::string_view code);

}  // namespace c2f
