#include "blank_slices.hpp"

#include <algorithm>
#include <stdexcept>

namespace c2f {

const std::vector<float>& BlankSliceSkipping::blank_map(Scale scale, const SliceBatch& like) {
  const Key key{scale, like.view, like.height(), like.width()};
  if (auto it = blank_maps_.find(key); it != blank_maps_.end()) return it->second;
  if (blank_maps_.size() >= 64) blank_maps_.clear();  // fine rounds bring new sizes; few are blank
  SliceBatch zero;
  zero.view = like.view;
  zero.rect = like.rect;
  zero.range = {0, 1};
  zero.data.assign(std::size_t(3 * like.height() * like.width()), 0.f);
  std::vector<float> map;
  network_.predict(scale, zero, map);
  return blank_maps_.emplace(key, std::move(map)).first->second;
}

void BlankSliceSkipping::predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) {
  const std::int64_t n = batch.range.count();
  const std::size_t plane = std::size_t(3 * batch.height() * batch.width());
  if (batch.data.size() != std::size_t(n) * plane) throw std::invalid_argument("BlankSliceSkipping: batch size mismatch");
  std::vector<char> blank(static_cast<std::size_t>(n));
  std::int64_t blanks = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* p = batch.data.data() + std::size_t(i) * plane;
    blank[std::size_t(i)] = std::all_of(p, p + plane, [](float v) { return v == 0.f; });
    blanks += blank[std::size_t(i)];
  }
  seen_ += n;
  skipped_ += blanks;
  if (blanks == 0) return network_.predict(scale, batch, probabilities);

  probabilities.resize(batch.data.size());
  const std::vector<float>& known = blank_map(scale, batch);
  if (blanks < n) {
    SliceBatch rest;
    rest.view = batch.view;
    rest.rect = batch.rect;
    rest.range = {0, n - blanks};
    rest.data.reserve(std::size_t(n - blanks) * plane);
    for (std::int64_t i = 0; i < n; ++i)
      if (!blank[std::size_t(i)])
        rest.data.insert(rest.data.end(), batch.data.begin() + std::ptrdiff_t(std::size_t(i) * plane),
                         batch.data.begin() + std::ptrdiff_t(std::size_t(i + 1) * plane));
    std::vector<float> computed;
    network_.predict(scale, rest, computed);
    std::size_t next = 0;
    for (std::int64_t i = 0; i < n; ++i)
      if (!blank[std::size_t(i)]) {
        std::copy_n(computed.begin() + std::ptrdiff_t(next * plane), plane,
                    probabilities.begin() + std::ptrdiff_t(std::size_t(i) * plane));
        ++next;
      }
  }
  for (std::int64_t i = 0; i < n; ++i)
    if (blank[std::size_t(i)]) std::copy(known.begin(), known.end(), probabilities.begin() + std::ptrdiff_t(std::size_t(i) * plane));
}

}  // namespace c2f
