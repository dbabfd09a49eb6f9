#pragma once
// Which slices and regions the six networks train on (paper section 3.3, METHOD.md).
//
// Coarse: whole slices of a view whose centre slice has at least min_pancreas_share of its pixels
// in the pancreas (paper: 1 %), and optionally a share of slices without pancreas.
// Fine: the slices of a view inside the ground truth's 3-D bounding box, each cropped to the box's
// in-plane rectangle plus a frame whose top, bottom, left and right margins are drawn uniformly
// from {min_frame_px, ..., max_frame_px} (paper: 10-20) per sample, clipped at the slice's edges.
// Crops are drawn from a per-sample seed, so a training run is reproducible and resumable.
#include <array>
#include <cstdint>
#include <vector>

#include "../pipeline/volume.hpp"
#include "../stages/three_slice.hpp"

namespace c2f {

struct CoarseSampleOptions {
  double min_pancreas_share = 0.01;
  // Share of the coarse samples taken from slices without any pancreas (evenly spread over them).
  // The paper shows the coarse networks pancreas slices only (0), so nothing teaches them what
  // lies in the slices above and below the organ: real scans' chest and pelvis.
  double negative_share = 0;
  void validate() const;  // share in [0, 1]
};

std::vector<std::int64_t> coarse_slices(const Mask& label, View view, const CoarseSampleOptions& options = {});

struct FineSampleOptions {
  int min_frame_px = 10;
  int max_frame_px = 20;
  // Slices beyond the ground truth's box along the view's axis, each side (paper: 0). At test
  // time the fine region is the coarse box plus the frame, so the fine networks see slices above
  // and below the pancreas that the paper's training never shows them.
  int slice_margin = 0;
  void validate() const;  // 0 <= min <= max, margin >= 0
};

// The view's slice indices inside the box along its axis, widened by the margin and clipped to
// [0, slice_count).
std::vector<std::int64_t> fine_slices(const Box3& truth_box, View view, std::int64_t slice_count, int slice_margin = 0);

struct FineCrop {
  Rect rect;                   // clipped to the slice
  std::array<int, 4> margins;  // drawn margins before clipping: u-low, u-high, v-low, v-high
};

// The fine crop for one sample; the same seed gives the same crop.
FineCrop fine_crop(const Box3& truth_box, const Index3& dims, View view, std::uint64_t sample_seed,
                   const FineSampleOptions& options = {});

}  // namespace c2f
