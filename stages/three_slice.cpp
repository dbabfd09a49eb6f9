#include "three_slice.hpp"

#include <algorithm>
#include <stdexcept>

namespace c2f {

Rect slice_rect(const Index3& dims, View view) {
  switch (view) {
    case View::Axial: return {0, 0, dims[0], dims[1]};
    case View::Coronal: return {0, 0, dims[0], dims[2]};
    case View::Sagittal: return {0, 0, dims[1], dims[2]};
  }
  return {};
}

Rect box_rect(const Box3& b, View view) {
  switch (view) {
    case View::Axial: return {b.lo[0], b.lo[1], b.hi[0], b.hi[1]};
    case View::Coronal: return {b.lo[0], b.lo[2], b.hi[0], b.hi[2]};
    case View::Sagittal: return {b.lo[1], b.lo[2], b.hi[1], b.hi[2]};
  }
  return {};
}

template <class T>
ThreeSlice<T> three_slice(const Volume<T>& volume, View view, std::int64_t k, const Rect& rect) {
  const Rect full = slice_rect(volume.dims(), view);
  if (rect.u0 < 0 || rect.v0 < 0 || rect.u1 > full.u1 || rect.v1 > full.v1 || rect.width() <= 0 || rect.height() <= 0)
    throw std::out_of_range("three_slice: region outside the slice");
  const std::int64_t depth = volume.dims()[slice_axis(view)];
  ThreeSlice<T> out{view, k, rect, std::vector<T>(std::size_t(3 * rect.width() * rect.height()))};
  for (int c = 0; c < 3; ++c) {
    const SliceView<const T> s = volume.slice(view, std::clamp<std::int64_t>(k - 1 + c, 0, depth - 1));
    T* dst = out.data.data() + std::size_t(c) * std::size_t(rect.width() * rect.height());
    for (std::int64_t v = rect.v0; v < rect.v1; ++v)
      for (std::int64_t u = rect.u0; u < rect.u1; ++u) *dst++ = s(u, v);
  }
  return out;
}

template ThreeSlice<float> three_slice(const Volume<float>&, View, std::int64_t, const Rect&);
template ThreeSlice<std::uint8_t> three_slice(const Volume<std::uint8_t>&, View, std::int64_t, const Rect&);

}  // namespace c2f
