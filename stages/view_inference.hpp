#pragma once
// Per-view inference, the interface the graphs call: the network of a scale and view run on a
// batch of 3-slice images. The networks themselves live in model/ (NetworkInference); this
// interface keeps LibTorch out of the graphs and lets tests put any predictor in their place.
//   in:  Scale, SliceBatch [n][3][h][w] in [0, 1]    out: sigmoid probabilities, same layout
//   notes: called by one thread at a time (the graph's device node is serial per device).
#include <cstdint>
#include <string>
#include <vector>

#include "../pipeline/scale.hpp"
#include "tri_planar.hpp"

namespace c2f {

class ViewInference {
 public:
  virtual ~ViewInference() = default;
  // Resizes `probabilities` to the batch's size and fills it.
  virtual void predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) = 0;
  // For reports: e.g. "light-unet on cpu".
  virtual std::string describe() const = 0;
  // Multiply-adds of the network work done so far (0 when unknown): with the model's busy time,
  // the achieved FLOP/s.
  virtual std::int64_t multiply_adds() const { return 0; }
};

}  // namespace c2f
