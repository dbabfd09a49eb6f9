#pragma once
// Tri-planar 3-slice inference, the data side (paper section 3.1; METHOD.md): cutting a region of
// a volume into batches of 3-slice images for one view, and putting the network's per-slice
// predictions back together into that view's probability map.
//
// A network sees slices k-1, k, k+1 and predicts the masks of all three. Every slice j of the
// region is therefore predicted by up to three images (centred on j-1, j, j+1); its probability
// in this view is the average of those predictions. Predictions of slices outside the region, and
// of the copies an edge image makes of its own slice (three_slice.hpp), are not used.
//
// plan_slice_batches (stage TriPlanarSlicing, plan):   region, view -> [k0, k1) ranges
// make_slice_batch   (stage TriPlanarSlicing, data):   volume, range -> SliceBatch [n][3][h][w]
// ViewAccumulator    (stage TriPlanarAverage):         predictions -> ProbabilityMap on the region
//   notes: slicing copies strided voxels (memory-bound); the accumulator adds each prediction once.
#include <cstdint>
#include <vector>

#include "../pipeline/volume.hpp"
#include "three_slice.hpp"

namespace c2f {

struct SliceRange {
  std::int64_t k0 = 0, k1 = 0;  // centre slices [k0, k1) along the view's axis
  std::int64_t count() const { return k1 - k0; }
};

// The region's slices along the view's axis, in batches of at most max_batch slices.
std::vector<SliceRange> plan_slice_batches(const Box3& region, View view, std::int64_t max_batch);

struct SliceBatch {
  View view = View::Axial;
  SliceRange range;
  Rect rect;                 // the region's in-plane rectangle in this view
  std::vector<float> data;   // [range.count()][3][rect.height()][rect.width()]
  std::int64_t height() const { return rect.height(); }
  std::int64_t width() const { return rect.width(); }
};

SliceBatch make_slice_batch(const Volume<float>& volume, View view, const Box3& region, const SliceRange& range);

// The network's sigmoid outputs for a batch, same layout as its data: [n][3][h][w].
struct SlicePrediction {
  SliceRange range;
  std::vector<float> probabilities;
};

class ViewAccumulator {
 public:
  // A map for `view` over `region` of a volume on grid `full`.
  ViewAccumulator(const Geometry& full, const Box3& region, View view);

  void add(const SlicePrediction& p);
  // Whether the prediction of every image centred in the region has arrived.
  bool complete() const { return added_ == expected_; }
  // The averaged map, on the region's grid (sub_geometry of full). Throws std::logic_error when
  // incomplete. The accumulator is empty afterwards.
  ProbabilityMap finish();

  View view() const { return view_; }
  const Box3& region() const { return region_; }

 private:
  View view_;
  Box3 region_;
  std::int64_t depth_;                       // the full volume's size along the view's axis
  ProbabilityMap sum_;                       // on the region's grid
  std::vector<std::uint8_t> centre_seen_;    // per region slice: its image's prediction arrived
  std::vector<std::uint8_t> expected_count_; // predictions that cover each region slice
  std::int64_t added_ = 0, expected_ = 0;
};

}  // namespace c2f
