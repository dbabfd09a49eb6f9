#include "connected_components.hpp"

#include "bounding_box.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace c2f {

namespace {
struct UnionFind {
  std::vector<std::int32_t> parent;
  std::int32_t add() {
    parent.push_back(std::int32_t(parent.size()));
    return parent.back();
  }
  std::int32_t find(std::int32_t a) {
    while (parent[std::size_t(a)] != a) a = parent[std::size_t(a)] = parent[std::size_t(parent[std::size_t(a)])];
    return a;
  }
  void unite(std::int32_t a, std::int32_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::size_t(std::max(a, b))] = std::min(a, b);
  }
};

// 6-connected components inside the mask's bounding box (a fine result on a 512 x 512 x 250 grid
// fills a small share of it): each box voxel's component (-1: background) and each one's size.
struct Labelling {
  Box3 box;
  std::vector<std::int32_t> label;  // per box voxel, x fastest
  std::vector<std::int64_t> size;   // per label; 0 for labels merged into another
};

Labelling label_components(const Mask& mask) {
  Labelling out;
  const Box3 box = out.box = bounding_box(mask);
  const std::int64_t nx = mask.nx(), ny = mask.ny();
  const std::int64_t bx = box.extent(0), by = box.extent(1), bz = box.extent(2);
  out.label.assign(std::size_t(bx * by * bz), -1);
  std::vector<std::int32_t>& label = out.label;
  UnionFind sets;
  const std::uint8_t* m = mask.data();
  const auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
    return ((box.lo[2] + z) * ny + box.lo[1] + y) * nx + box.lo[0] + x;
  };
  // Label in memory order; join with the x-, y- and z-neighbours already labelled.
  for (std::int64_t z = 0, i = 0; z < bz; ++z)
    for (std::int64_t y = 0; y < by; ++y)
      for (std::int64_t x = 0; x < bx; ++x, ++i) {
        if (!m[at(x, y, z)]) continue;
        std::int32_t l = -1;
        const auto join = [&](std::int64_t j) {
          if (label[std::size_t(j)] < 0) return;
          if (l < 0) l = label[std::size_t(j)];
          else sets.unite(l, label[std::size_t(j)]);
        };
        if (x > 0) join(i - 1);
        if (y > 0) join(i - bx);
        if (z > 0) join(i - bx * by);
        label[std::size_t(i)] = l >= 0 ? l : sets.add();
      }
  out.size.assign(sets.parent.size(), 0);
  for (auto& l : label)
    if (l >= 0) ++out.size[std::size_t(l = sets.find(l))];
  return out;
}
}  // namespace

std::vector<std::int64_t> component_sizes(const Mask& mask) {
  if (count_foreground(mask) == 0) return {};
  std::vector<std::int64_t> sizes;
  for (std::int64_t s : label_components(mask).size)
    if (s > 0) sizes.push_back(s);
  std::sort(sizes.rbegin(), sizes.rend());
  return sizes;
}

Mask keep_large_components(const Mask& mask, double min_fraction) {
  return keep_large_components(mask, min_fraction, mask.size());
}

Mask keep_large_components(const Mask& mask, double min_fraction, std::int64_t grid_voxels) {
  if (!(min_fraction >= 0 && min_fraction <= 1)) throw std::invalid_argument("keep_large_components: fraction outside [0, 1]");
  if (grid_voxels < mask.size()) throw std::invalid_argument("keep_large_components: the grid is smaller than the mask");
  const std::int64_t foreground = count_foreground(mask);
  if (foreground == 0 || 2 * foreground >= grid_voxels) return mask;
  const Labelling c = label_components(mask);
  const Box3& box = c.box;
  const std::int64_t nx = mask.nx(), ny = mask.ny();
  const std::int64_t bx = box.extent(0), by = box.extent(1), bz = box.extent(2);
  const auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
    return ((box.lo[2] + z) * ny + box.lo[1] + y) * nx + box.lo[0] + x;
  };
  const std::int64_t largest = *std::max_element(c.size.begin(), c.size.end());
  Mask out(mask.geometry(), 0);
  std::uint8_t* o = out.data();
  for (std::int64_t z = 0, i = 0; z < bz; ++z)
    for (std::int64_t y = 0; y < by; ++y)
      for (std::int64_t x = 0; x < bx; ++x, ++i)
        if (c.label[std::size_t(i)] >= 0 && double(c.size[std::size_t(c.label[std::size_t(i)])]) >= min_fraction * double(largest))
          o[at(x, y, z)] = 1;
  return out;
}

}  // namespace c2f
