#include "tri_planar.hpp"

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
  const std::int64_t w = b.rect.width(), h = b.rect.height();
  const std::size_t plane = std::size_t(w * h);
  b.data.resize(std::size_t(range.count()) * 3 * plane);
  const std::int64_t depth = volume.dims()[axis];
  // Slices k-1 and k+1 come from the whole volume, also outside the region: the network sees
  // real neighbours wherever they exist, and repeats the edge slice only at the volume's edge.
  const auto source = [&](std::int64_t k, int c) { return std::clamp<std::int64_t>(k - 1 + c, 0, depth - 1); };
  if (view == View::Sagittal) {
    // Sagittal slices run across x, the fastest axis: gather each (y, z) row's x-run once and
    // spread it over the batch's planes, instead of striding through memory per slice.
    const std::int64_t nk = range.count();
    std::vector<std::int64_t> xs(std::size_t(nk * 3));
    for (std::int64_t k = 0; k < nk; ++k)
      for (int c = 0; c < 3; ++c) xs[std::size_t(k * 3 + c)] = source(range.k0 + k, c);
    // Tiles of 16 positions along u: each plane then receives whole 64-byte lines (planes lie a
    // multiple of 4 KiB apart in the batch, so scattering single floats thrashes the L1 sets).
    constexpr std::int64_t kTile = 16;
    std::vector<float> tile(xs.size() * kTile);
    for (std::int64_t v = 0; v < h; ++v)
      for (std::int64_t u0 = 0; u0 < w; u0 += kTile) {
        const std::int64_t tw = std::min(kTile, w - u0);
        for (std::int64_t t = 0; t < tw; ++t) {
          const float* row = &volume(0, b.rect.u0 + u0 + t, b.rect.v0 + v);
          // Rows are 4 nx bytes apart, beyond what the hardware prefetcher follows: ask for the
          // x-run of a row further on while this one is copied.
          __builtin_prefetch(row + 8 * volume.nx() + xs.front());
          __builtin_prefetch(row + 8 * volume.nx() + xs.back());
          for (std::size_t i = 0; i < xs.size(); ++i) tile[i * kTile + std::size_t(t)] = row[xs[i]];
        }
        float* dst = b.data.data() + v * w + u0;
        for (std::size_t i = 0; i < xs.size(); ++i)
          std::copy(tile.data() + i * kTile, tile.data() + i * kTile + tw, dst + i * plane);
      }
    return b;
  }
  float* dst = b.data.data();
  for (std::int64_t k = range.k0; k < range.k1; ++k)
    for (int c = 0; c < 3; ++c, dst += plane) {
      // Axial and coronal rows are contiguous runs of x.
      const SliceView<const float> s = volume.slice(view, source(k, c));
      float* out = dst;
      for (std::int64_t v = b.rect.v0; v < b.rect.v1; ++v) {
        const float* row = s.base + v * s.stride_v + b.rect.u0;
        out = std::copy(row, row + w, out);
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
  for (std::int64_t k = p.range.k0; k < p.range.k1; ++k) {
    centre_seen_[std::size_t(k - region_.lo[axis])] = 1;
    ++added_;
  }
  // (image, channel) pairs that land inside the region, with the region slice they land on.
  struct Part {
    std::size_t offset;  // of the channel's plane in p.probabilities
    std::int64_t slice;  // region slice index
  };
  std::vector<Part> parts;
  for (std::int64_t k = p.range.k0; k < p.range.k1; ++k)
    for (int c = 0; c < 3; ++c) {
      const std::int64_t j = k - 1 + c;
      if (j < region_.lo[axis] || j >= region_.hi[axis]) continue;  // outside the region or volume
      parts.push_back({std::size_t(((k - p.range.k0) * 3 + c) * plane), j - region_.lo[axis]});
    }
  const float* src = p.probabilities.data();
  if (view_ == View::Sagittal) {
    // The region's x runs fastest: add each (y, z) position's predictions along x in one pass.
    const std::int64_t w = rect.width(), h = rect.height();
    constexpr std::int64_t kTile = 16;  // see make_slice_batch: whole lines from each plane
    std::vector<float> tile(parts.size() * kTile);
    for (std::int64_t v = 0; v < h; ++v)
      for (std::int64_t u0 = 0; u0 < w; u0 += kTile) {
        const std::int64_t tw = std::min(kTile, w - u0);
        const std::size_t at = std::size_t(v * w + u0);
        for (std::size_t i = 0; i < parts.size(); ++i)
          std::copy(src + parts[i].offset + at, src + parts[i].offset + at + std::size_t(tw), tile.data() + i * kTile);
        for (std::int64_t t = 0; t < tw; ++t) {
          float* row = &sum_(0, u0 + t, v);
          __builtin_prefetch(row + 8 * sum_.nx() + parts.front().slice, 1);
          __builtin_prefetch(row + 8 * sum_.nx() + parts.back().slice, 1);
          for (std::size_t i = 0; i < parts.size(); ++i) row[parts[i].slice] += tile[i * kTile + std::size_t(t)];
        }
      }
    return;
  }
  for (const Part& part : parts) {
    // In-plane (u, v) of the prediction is the region slice's own (u, v): box_rect order; rows
    // are contiguous in axial and coronal slices.
    const SliceView<float> s = sum_.slice(view_, part.slice);
    const float* in = src + part.offset;
    for (std::int64_t v = 0; v < s.height; ++v, in += s.width) {
      float* row = s.base + v * s.stride_v;
      for (std::int64_t u = 0; u < s.width; ++u) row[u] += in[u];
    }
  }
}

ProbabilityMap ViewAccumulator::finish() {
  if (!complete()) throw std::logic_error("ViewAccumulator::finish: predictions missing");
  // One pass in memory order; each voxel is divided by the number of predictions of its slice.
  const int axis = slice_axis(view_);
  std::vector<float> n(expected_count_.begin(), expected_count_.end());
  float* p = sum_.data();
  for (std::int64_t z = 0; z < sum_.nz(); ++z)
    for (std::int64_t y = 0; y < sum_.ny(); ++y, p += sum_.nx()) {
      if (axis == 0) {
        for (std::int64_t x = 0; x < sum_.nx(); ++x) p[x] /= n[std::size_t(x)];
      } else {
        const float d = n[std::size_t(axis == 1 ? y : z)];
        if (d != 1.0f)
          for (std::int64_t x = 0; x < sum_.nx(); ++x) p[x] /= d;
      }
    }
  return std::move(sum_);
}

}  // namespace c2f
