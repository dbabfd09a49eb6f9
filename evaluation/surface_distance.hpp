#pragma once
// Overlap and surface measures of a segmentation against its ground truth, beside the DSC:
// Jaccard, precision, recall, and, in millimetres (spacing-aware), the 95th-percentile Hausdorff
// distance and the average symmetric surface distance.
//
// Definitions follow medpy (medpy.metric.binary), what most papers in this field report:
//   surface(A)  the voxels of A with a 6-neighbour outside A (the volume's edge counts as outside)
//   d(a, B)     Euclidean distance in mm from a surface voxel a of A to the nearest surface voxel of B
//   HD95        95th percentile of { d(a, B) } u { d(b, A) } (both directions pooled)
//   ASSD        ( mean d(a, B) + mean d(b, A) ) / 2
// The distances are undefined when either mask is empty: they are NaN then.
//   notes: exact Euclidean distance transform (separable, Felzenszwalb-Huttenlocher) on the
//   bounding box of A u B only: the nearest surface voxel of one lies inside that box.
#include "../pipeline/volume.hpp"

namespace c2f {

struct SegmentationMetrics {
  double dice = 0, jaccard = 0, precision = 0, recall = 0;
  double hd95_mm = 0, assd_mm = 0;  // NaN when prediction or truth is empty
};

// Throws std::invalid_argument when the grids' sizes differ. Spacing comes from truth's geometry.
SegmentationMetrics segmentation_metrics(const Mask& prediction, const Mask& truth);

}  // namespace c2f
