#include "training_samples.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"

namespace c2f {

void CoarseSampleOptions::validate() const {
  if (!(min_pancreas_share >= 0 && min_pancreas_share <= 1))
    throw OptionError(fmt::format("minimum pancreas share {} must be in [0, 1]", min_pancreas_share));
  if (!(negative_share >= 0 && negative_share <= 0.9))
    throw OptionError(fmt::format("share of slices without pancreas {} must be in [0, 0.9]", negative_share));
}

void FineSampleOptions::validate() const {
  if (min_frame_px < 0 || max_frame_px < min_frame_px)
    throw OptionError(fmt::format("fine frame {{{}..{}}} px: need 0 <= min <= max", min_frame_px, max_frame_px));
  if (slice_margin < 0) throw OptionError("the fine slice margin must not be negative");
}

std::vector<std::int64_t> coarse_slices(const Mask& label, View view, const CoarseSampleOptions& o) {
  o.validate();
  const std::int64_t depth = label.dims()[slice_axis(view)];
  std::vector<std::int64_t> counts(std::size_t(depth), 0);
  // One pass over the volume, counting each voxel into its slice along the view's axis.
  const std::uint8_t* p = label.data();
  const int axis = slice_axis(view);
  for (std::int64_t z = 0; z < label.nz(); ++z)
    for (std::int64_t y = 0; y < label.ny(); ++y)
      for (std::int64_t x = 0; x < label.nx(); ++x)
        if (*p++) ++counts[std::size_t(axis == 0 ? x : axis == 1 ? y : z)];
  const Rect r = slice_rect(label.dims(), view);
  const double pixels = double(r.width() * r.height());
  std::vector<std::int64_t> out, empty;
  for (std::int64_t k = 0; k < depth; ++k) {
    if (counts[std::size_t(k)] > 0 && double(counts[std::size_t(k)]) >= o.min_pancreas_share * pixels) out.push_back(k);
    if (counts[std::size_t(k)] == 0) empty.push_back(k);
  }
  if (o.negative_share > 0 && !out.empty() && !empty.empty()) {
    const auto want = std::min<std::size_t>(
        empty.size(), std::size_t(std::llround(double(out.size()) * o.negative_share / (1 - o.negative_share))));
    for (std::size_t i = 0; i < want; ++i) out.push_back(empty[(2 * i + 1) * empty.size() / (2 * want)]);
    std::sort(out.begin(), out.end());
  }
  return out;
}

std::vector<std::int64_t> fine_slices(const Box3& box, View view, std::int64_t slice_count, int slice_margin) {
  std::vector<std::int64_t> out;
  const int a = slice_axis(view);
  const std::int64_t lo = std::max<std::int64_t>(0, box.lo[a] - slice_margin);
  const std::int64_t hi = std::min<std::int64_t>(slice_count, box.hi[a] + slice_margin);
  for (std::int64_t k = lo; k < hi; ++k) out.push_back(k);
  return out;
}

FineCrop fine_crop(const Box3& box, const Index3& dims, View view, std::uint64_t seed, const FineSampleOptions& o) {
  o.validate();
  if (box.empty()) throw OptionError("fine_crop: the ground-truth box is empty");
  FineCrop c{};
  std::uint64_t state = seed;
  const auto draw = [&] {  // splitmix64's stream: portable, unlike std:: distributions
    const std::uint64_t z = mix64(state);
    state += 0x9E3779B97F4A7C15ULL;
    return o.min_frame_px + int(z % std::uint64_t(o.max_frame_px - o.min_frame_px + 1));
  };
  for (int& m : c.margins) m = draw();
  const Rect inner = box_rect(box, view), full = slice_rect(dims, view);
  c.rect = {std::max(full.u0, inner.u0 - c.margins[0]), std::max(full.v0, inner.v0 - c.margins[2]),
            std::min(full.u1, inner.u1 + c.margins[1]), std::min(full.v1, inner.v1 + c.margins[3])};
  return c;
}

}  // namespace c2f
