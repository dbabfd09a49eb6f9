#pragma once
// Moving voxels between a file's own grid and the canonical RAS grid (see geometry.hpp).
#include <cstdint>
#include <vector>

#include "geometry.hpp"
#include "volume.hpp"

namespace c2f {

namespace detail {
// For canonical axis w: the step through the native buffer, and the native offset of canonical (0,0,0).
struct NativeWalk {
  std::int64_t step[3];
  std::int64_t start = 0;
};
inline NativeWalk native_walk(const NativeLayout& layout) {
  const Index3& n = layout.native.dims;
  const std::int64_t stride[3] = {1, n[0], n[0] * n[1]};
  NativeWalk walk{};
  for (int w = 0; w < 3; ++w) {
    const int a = layout.source_axis[w];
    walk.step[w] = layout.flipped[w] ? -stride[a] : stride[a];
    if (layout.flipped[w]) walk.start += (n[a] - 1) * stride[a];
  }
  return walk;
}
}  // namespace detail

// The canonical volume from voxels stored in the file's order (x fastest in file axes).
// Each voxel is converted with static_cast<T>.
template <class T, class Src>
Volume<T> to_canonical(const Src* native, const NativeLayout& layout) {
  Volume<T> out(canonical_geometry(layout));
  const auto walk = detail::native_walk(layout);
  T* dst = out.data();
  for (std::int64_t z = 0; z < out.nz(); ++z)
    for (std::int64_t y = 0; y < out.ny(); ++y) {
      const Src* src = native + walk.start + z * walk.step[2] + y * walk.step[1];
      const std::int64_t s0 = walk.step[0];
      if (s0 == 1) {
        for (std::int64_t x = 0; x < out.nx(); ++x) *dst++ = static_cast<T>(src[x]);
      } else {
        for (std::int64_t x = 0; x < out.nx(); ++x) *dst++ = static_cast<T>(src[x * s0]);
      }
    }
  return out;
}

// The voxels of a canonical volume laid out in the file's order: the inverse of to_canonical.
template <class T>
std::vector<T> to_native(const Volume<T>& canonical, const NativeLayout& layout) {
  std::vector<T> native(static_cast<std::size_t>(layout.native.voxel_count()));
  const auto walk = detail::native_walk(layout);
  const T* src = canonical.data();
  for (std::int64_t z = 0; z < canonical.nz(); ++z)
    for (std::int64_t y = 0; y < canonical.ny(); ++y) {
      T* dst = native.data() + walk.start + z * walk.step[2] + y * walk.step[1];
      for (std::int64_t x = 0; x < canonical.nx(); ++x) dst[x * walk.step[0]] = *src++;
    }
  return native;
}

}  // namespace c2f
