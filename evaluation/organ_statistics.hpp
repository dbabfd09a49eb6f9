#pragma once
// OrganStatistics: what a clinician reads off a segmentation, and whether it can be trusted whole.
//   in:  the mask and the CT (HU) on the same grid
//   out: volume in ml; mean, SD (n - 1, as ITK's LabelStatistics), min and max HU inside the mask;
//        bounding box and centroid in DICOM patient coordinates (LPS, mm); whether the mask touches
//        the scan's first or last axial slice or the edge of its field of view (then the organ may
//        be cut off: `incomplete`); the number of 6-connected components.
//   notes: the grid is c2f's canonical RAS grid (pipeline/geometry.hpp), so its z ends are the
//          scan's first and last axial slices and its x, y ends the field of view's edges.
#include <array>
#include <cstdint>

#include "../pipeline/volume.hpp"

namespace c2f {

struct OrganStatistics {
  std::int64_t voxels = 0;
  double volume_ml = 0;
  // HU inside the mask; all 0 when the mask is empty.
  double mean_hu = 0, sd_hu = 0, min_hu = 0, max_hu = 0;
  std::array<double, 3> box_min_lps_mm{0, 0, 0}, box_max_lps_mm{0, 0, 0};  // voxel centres at the box's corners
  std::array<double, 3> centroid_lps_mm{0, 0, 0};
  bool touches_first_slice = false, touches_last_slice = false, touches_field_of_view_edge = false;
  int components = 0;

  bool empty() const { return voxels == 0; }
  bool incomplete() const { return touches_first_slice || touches_last_slice || touches_field_of_view_edge; }
};

// Throws std::invalid_argument when the two grids differ.
OrganStatistics organ_statistics(const Mask& mask, const Image& hu);

}  // namespace c2f
