#pragma once
// Resample: a volume brought onto the grid its networks were trained at, and results brought
// back onto the input's own grid (what nnU-Net and TotalSegmentator do for every scan).
//
//   NetworkGrid:  Geometry (input)  -> Geometry (network): the same field of view, each axis
//                 cut into round(extent / spacing) voxels, so the spacing is the network's to
//                 within half a voxel over the field of view and the edges line up exactly.
//   Resample:     Volume<float> on one grid -> the same field of view on another grid.
//                 Shrinking an axis averages the voxels it covers (OpenCV's INTER_AREA, no
//                 aliasing of the noise into the coarse grid); growing it interpolates linearly;
//                 chosen per axis.
//   notes: OpenCV's resize as three separable 1-D passes (x, y, z) over strided views, no
//          transposes; parallel over slices through OpenCV's own pool; a support box limits
//          the work to the lines it reaches.
//
// Why OpenCV and not ITK: the two grids always share direction and field of view, so the
// resampling is two separable resizes, which OpenCV (already a dependency) does with vectorised
// kernels; ITK's ResampleImageFilter would add a large dependency for the same arithmetic.
#include <optional>
#include <string>

#include "../pipeline/case.hpp"


namespace c2f {

// Spacings c2f accepts, on any axis: outside this a header is wrong, not a scan.
inline constexpr double kMinSpacingMm = 0.05, kMaxSpacingMm = 20.0;

struct ResampleOptions {
  Vec3 spacing_mm{2.0, 2.0, 2.0};  // the networks' grid
  // Grids whose spacing is within this share of the target on every axis are used as they are.
  double tolerance = 0.02;
  void validate() const;  // throws OptionError
};

// The network grid of an input grid. Throws InputError (naming `source`) for a spacing outside
// [kMinSpacingMm, kMaxSpacingMm] or a grid that would exceed kMaxVolumeVoxels.
Geometry network_grid(const Geometry& input, const ResampleOptions& options, const std::string& source = "input");

// Whether the input needs resampling at all (some axis off by more than the tolerance).
bool needs_resampling(const Geometry& input, const ResampleOptions& options);

// Resamples v onto `target`, which must cover the same field of view with the same direction
// (a grid network_grid made from v's grid, or v's grid from which that one was made).
Volume<float> resample(const Volume<float>& v, const Geometry& target);
// The same when v is zero outside `support` (a box of v's grid): only the output lines the box
// can reach are computed, the rest are zero, and the result equals the whole computation. What
// brings a fine round's map back to a large input grid in a fraction of the time.
Volume<float> resample(const Volume<float>& v, const Geometry& target, const Box3& support);
// The part of a resampled volume that can be non-zero: `values` on `box` of the target grid (on
// its sub_geometry); the volume is zero elsewhere.
struct ResampledRegion {
  Box3 box;
  Volume<float> values;
};
// Resamples a volume that is `region` on `box` of grid `source` and zero elsewhere onto `target`,
// computing only the box of `target` it reaches: every value there equals the whole computation's.
// What brings a fine round's map onto a large input grid without touching the rest of it.
ResampledRegion resample_region(const Volume<float>& region, const Box3& box, const Geometry& source,
                                const Geometry& target);
// A mask through its partial-volume fractions: resampled as 0/1 floats, then >= 0.5.
Mask resample_mask(const Mask& m, const Geometry& target);

// A whole case (image and label) on the network grid, for training. Throws InputError naming the
// case's source for a spacing c2f refuses.
Case resample_case(const Case& c, const ResampleOptions& options);

// Parses "2" (isotropic) or "0.8,0.8,2.5" (x, y, z) millimetres; throws OptionError.
Vec3 parse_spacing(const std::string& text);

// The stage: the image on the network grid (the input itself when it is already there).
struct Resample {
  ResampleOptions options;
  Image operator()(const Image& input, const std::string& source = "input") const {
    return resample(input, network_grid(input.geometry(), options, source));
  }
};

}  // namespace c2f
