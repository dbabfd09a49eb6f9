#include "patch_sampling.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"

namespace c2f {

void PatchSamplingOptions::validate() const {
  if (every_n < 1) throw OptionError("the patch sampling step n must be at least 1 voxel");
  if (patch_px < 8) throw OptionError("the patch must be at least 8 pixels wide");
}

std::vector<Index3> sample_voxels(const Mask& m, int n) {
  if (n < 1) throw OptionError("the patch sampling step n must be at least 1 voxel");
  std::vector<Index3> out;
  for (std::int64_t z = 0; z < m.nz(); z += n)
    for (std::int64_t y = 0; y < m.ny(); y += n)
      for (std::int64_t x = 0; x < m.nx(); x += n)
        if (m(x, y, z)) out.push_back({x, y, z});
  if (out.empty()) {
    const auto v = m.voxels();
    const auto it = std::find_if(v.begin(), v.end(), [](std::uint8_t b) { return b != 0; });
    if (it != v.end()) {
      const std::int64_t i = it - v.begin();
      out.push_back({i % m.nx(), (i / m.nx()) % m.ny(), i / (m.nx() * m.ny())});
    }
  }
  return out;
}

void extract_patch_25d(const Volume<float>& v, const Index3& c, int p, float* out) {
  const auto clamp = [](std::int64_t i, std::int64_t n) { return std::clamp<std::int64_t>(i, 0, n - 1); };
  const std::int64_t h = p / 2;
  float* axial = out;
  float* coronal = out + p * p;
  float* sagittal = out + 2 * p * p;
  for (std::int64_t r = 0; r < p; ++r)
    for (std::int64_t q = 0; q < p; ++q) {
      const std::int64_t x = clamp(c[0] - h + q, v.nx()), y = clamp(c[1] - h + r, v.ny()), z = clamp(c[2] - h + r, v.nz());
      const std::int64_t yq = clamp(c[1] - h + q, v.ny());
      axial[r * p + q] = v(x, y, clamp(c[2], v.nz()));
      coronal[r * p + q] = v(x, clamp(c[1], v.ny()), z);
      sagittal[r * p + q] = v(clamp(c[0], v.nx()), yq, z);
    }
}

ProbabilityMap nearest_fill(const Mask& m, std::span<const Index3> samples, std::span<const float> values) {
  if (samples.size() != values.size()) throw std::invalid_argument("nearest_fill: samples and values differ in number");
  ProbabilityMap out(m.geometry(), 0.0f);
  if (samples.empty()) return out;
  // The sweep runs over the box of candidates and samples; each voxel keeps the first sample that reaches it.
  Index3 lo = samples[0], hi = samples[0];
  for (const Index3& s : samples)
    for (int a = 0; a < 3; ++a) {
      if (s[a] < 0 || s[a] >= m.dims()[a]) throw std::invalid_argument("nearest_fill: a sample lies outside the grid");
      lo[a] = std::min(lo[a], s[a]);
      hi[a] = std::max(hi[a], s[a]);
    }
  for (std::int64_t z = 0; z < m.nz(); ++z)
    for (std::int64_t y = 0; y < m.ny(); ++y)
      for (std::int64_t x = 0; x < m.nx(); ++x)
        if (m(x, y, z)) {
          lo = {std::min(lo[0], x), std::min(lo[1], y), std::min(lo[2], z)};
          hi = {std::max(hi[0], x), std::max(hi[1], y), std::max(hi[2], z)};
        }
  const Index3 e{hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
  std::vector<std::int32_t> owner(std::size_t(e[0] * e[1] * e[2]), -1);
  const auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
    return std::size_t((x - lo[0]) + e[0] * ((y - lo[1]) + e[1] * (z - lo[2])));
  };
  std::deque<Index3> queue;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    auto& o = owner[at(samples[i][0], samples[i][1], samples[i][2])];
    if (o < 0) {
      o = std::int32_t(i);
      queue.push_back(samples[i]);
    }
  }
  while (!queue.empty()) {
    const Index3 p = queue.front();
    queue.pop_front();
    const std::int32_t o = owner[at(p[0], p[1], p[2])];
    for (std::int64_t dz = -1; dz <= 1; ++dz)
      for (std::int64_t dy = -1; dy <= 1; ++dy)
        for (std::int64_t dx = -1; dx <= 1; ++dx) {
          const Index3 q{p[0] + dx, p[1] + dy, p[2] + dz};
          if (q[0] < lo[0] || q[1] < lo[1] || q[2] < lo[2] || q[0] > hi[0] || q[1] > hi[1] || q[2] > hi[2]) continue;
          auto& oq = owner[at(q[0], q[1], q[2])];
          if (oq >= 0) continue;
          oq = o;
          queue.push_back(q);
        }
  }
  for (std::int64_t z = lo[2]; z <= hi[2]; ++z)
    for (std::int64_t y = lo[1]; y <= hi[1]; ++y)
      for (std::int64_t x = lo[0]; x <= hi[0]; ++x)
        if (m(x, y, z)) out(x, y, z) = values[std::size_t(owner[at(x, y, z)])];
  return out;
}

PatchExamples patch_examples(const Mask& candidates, const Mask& label, int n, std::int64_t per_class, std::uint64_t seed) {
  if (label.dims() != candidates.dims()) throw std::invalid_argument("patch_examples: label and candidates differ in size");
  std::array<std::vector<Index3>, 2> by_class;
  for (const Index3& v : sample_voxels(candidates, n)) by_class[label(v[0], v[1], v[2]) ? 1 : 0].push_back(v);
  PatchExamples out;
  for (int cls : {1, 0}) {
    auto& pool = by_class[std::size_t(cls)];
    // A partial Fisher-Yates shuffle with splitmix64: the same draw on every standard library.
    const std::size_t take = std::min<std::size_t>(pool.size(), std::size_t(std::max<std::int64_t>(per_class, 0)));
    for (std::size_t i = 0; i < take; ++i) {
      const std::size_t j = i + std::size_t(mix64(seed + 0x51ed * std::uint64_t(cls) + i) % (pool.size() - i));
      std::swap(pool[i], pool[j]);
      out.voxels.push_back(pool[i]);
      out.labels.push_back(cls);
    }
  }
  return out;
}

}  // namespace c2f
