#pragma once
// BlankSliceSkipping: per-view inference that does not run the network on 3-slice images whose
// every voxel is 0 after windowing (all at or below the window's lower bound: the air around
// the body, which fills many coronal and sagittal slices of a coarse pass). Their result is
// known: the network's map of an all-zero image of that size, computed once per scale, view and
// size and copied. Exact for networks that treat each image of a batch on its own, as c2f's do
// (convolutions, per-image GroupNorm); the rest of the batch runs as one smaller batch.
//   in: Scale, SliceBatch    out: the wrapped network's probabilities, same layout
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "view_inference.hpp"

namespace c2f {

class BlankSliceSkipping final : public ViewInference {
 public:
  explicit BlankSliceSkipping(ViewInference& network) : network_(network) {}

  void predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) override;
  std::string describe() const override { return network_.describe(); }
  std::int64_t multiply_adds() const override { return network_.multiply_adds(); }

  std::int64_t images_seen() const { return seen_; }
  std::int64_t images_skipped() const { return skipped_; }

 private:
  const std::vector<float>& blank_map(Scale scale, const SliceBatch& like);

  ViewInference& network_;
  using Key = std::tuple<Scale, View, std::int64_t, std::int64_t>;
  std::map<Key, std::vector<float>> blank_maps_;  // the network's map of one all-zero image
  std::int64_t seen_ = 0, skipped_ = 0;
};

}  // namespace c2f
