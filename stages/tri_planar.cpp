#include "c2f/stages/tri_planar.hpp"

#include <algorithm>
#include <stdexcept>

namespace c2f {

std::vector<SliceRange> plan_slice_batches(const Box3& region, View view, std::int64_t max_batch) {
  if (max_batch < 1) throw std::invalid_argument("plan_slice_batches: batch size must be at least 1");
  if (region.empty()) throw std::invalid_argument("plan_slice_batches: empty region");
  const int axis = slice_axis(view);
  std::vector<SliceRange> out;
  // Equal batches: 130 slices in batches of at most 16 give 9 x 14-15, not 8 x 16 + 2.
  const std::int64_t n = region.extent(axis);
  const std::int64_t batches = (n + max_batch - 1) / max_batch;
  for (std::int64_t b = 0; b < batches; ++b)
    out.push_back({region.lo[axis] + n * b / batches, region.lo[axis] + n * (b + 1) / batches});
  return out;
}

SliceBatch make_slice_batch(const Volume<float>& volume, View view, const Box3& region, const SliceRange& range) {
  const int axis = slice_axis(view);
  if (range.k0 < region.lo[axis] || range.k1 > region.hi[axis] || range.count() < 1)
    throw std::out_of_range("make_slice_batch: slices outside the region");
  SliceBatch b{view, range, box_rect(region, view), {}};
  const std::size_t plane = std::size_t(b.rect.width() * b.rect.height());
  b.data.resize(std::size_t(range.count()) * 3 * plane);
  const std::int64_t depth = volume.dims()[axis];
  float* dst = b.data.data();
  for (std::int64_t k = range.k0; k < range.k1; ++k)
    for (int c = 0; c < 3; ++c, dst += plane) {
      // Slices k-1 and k+1 come from the whole volume, also outside the region: the network sees
      // real neighbours wherever they exist, and repeats the edge slice only at the volume's edge.
      const SliceView<const float> s = volume.slice(view, std::clamp<std::int64_t>(k - 1 + c, 0, depth - 1));
      float* out = dst;
      for (std::int64_t v = b.rect.v0; v < b.rect.v1; ++v) {
        const float* row = s.base + v * s.stride_v + b.rect.u0 * s.stride_u;
        if (s.stride_u == 1) {
          out = std::copy(row, row + b.rect.width(), out);
        } else {
          for (std::int64_t u = 0; u < b.rect.width(); ++u) *out++ = row[u * s.stride_u];
        }
      }
    }
  return b;
}

ViewAccumulator::ViewAccumulator(const Geometry& full, const Box3& region, View view)
    : view_(view),
      region_(region),
      depth_(full.dims[slice_axis(view)]),
      sum_(sub_geometry(full, region), 0.0f) {
  const int axis = slice_axis(view);
  const std::int64_t n = region.extent(axis);
  centre_seen_.assign(std::size_t(n), 0);
  expected_count_.assign(std::size_t(n), 0);
  // Slice j is predicted by the images centred on j-1, j, j+1 that lie in the region (centres run
  // over the region's slices) and in the volume.
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t j = region.lo[axis] + i;
    for (std::int64_t k = j - 1; k <= j + 1; ++k)
      if (k >= region.lo[axis] && k < region.hi[axis] && k >= 0 && k < depth_) ++expected_count_[std::size_t(i)];
  }
  expected_ = n;
}

void ViewAccumulator::add(const SlicePrediction& p) {
  const int axis = slice_axis(view_);
  const Rect rect = box_rect(region_, view_);
  const std::int64_t plane = rect.width() * rect.height();
  if (p.range.k0 < region_.lo[axis] || p.range.k1 > region_.hi[axis] ||
      std::int64_t(p.probabilities.size()) != p.range.count() * 3 * plane)
    throw std::invalid_argument("ViewAccumulator::add: prediction does not fit the region");
  for (std::int64_t k = p.range.k0; k < p.range.k1; ++k)
    if (centre_seen_[std::size_t(k - region_.lo[axis])])
      throw std::logic_error("ViewAccumulator::add: an image's prediction arrived twice");
  const float* src = p.probabilities.data();
  for (std::int64_t k = p.range.k0; k < p.range.k1; ++k) {
    centre_seen_[std::size_t(k - region_.lo[axis])] = 1;
    ++added_;
    for (int c = 0; c < 3; ++c, src += plane) {
      const std::int64_t j = k - 1 + c;
      if (j < region_.lo[axis] || j >= region_.hi[axis]) continue;  // outside the region or volume
      const std::int64_t i = j - region_.lo[axis];
      // In-plane (u, v) of the prediction is the region slice's own (u, v): box_rect order.
      const SliceView<float> s = sum_.slice(view_, i);
      const float* in = src;
      for (std::int64_t v = 0; v < s.height; ++v) {
        float* row = s.base + v * s.stride_v;
        if (s.stride_u == 1) {
          for (std::int64_t u = 0; u < s.width; ++u) row[u] += in[u];
        } else {
          for (std::int64_t u = 0; u < s.width; ++u) row[u * s.stride_u] += in[u];
        }
        in += s.width;
      }
    }
  }
}

ProbabilityMap ViewAccumulator::finish() {
  if (!complete()) throw std::logic_error("ViewAccumulator::finish: predictions missing");
  const int axis = slice_axis(view_);
  for (std::int64_t i = 0; i < region_.extent(axis); ++i) {
    const float n = float(expected_count_[std::size_t(i)]);
    if (n == 1) continue;
    const SliceView<float> s = sum_.slice(view_, i);
    for (std::int64_t v = 0; v < s.height; ++v)
      for (std::int64_t u = 0; u < s.width; ++u) s(u, v) /= n;
  }
  return std::move(sum_);
}

}  // namespace c2f
