#pragma once
// The paper's "3-slice" input (section 3.1): the image for slice k of a view has three channels,
// slices k-1, k and k+1 (an edge slice repeats itself for the missing neighbour), optionally
// cropped to an in-plane rectangle. Used for training samples and for inference alike.
//   in:  a volume, a view, a slice index, an in-plane region   out: ThreeSlice (3 x H x W)
#include <cstdint>
#include <vector>

#include "../pipeline/volume.hpp"

namespace c2f {

// An in-plane rectangle [u0, u1) x [v0, v1) in a view's (u, v) slice coordinates (volume.hpp).
struct Rect {
  std::int64_t u0 = 0, v0 = 0, u1 = 0, v1 = 0;
  std::int64_t width() const { return u1 - u0; }
  std::int64_t height() const { return v1 - v0; }
  bool operator==(const Rect&) const = default;
};

// The full in-plane extent of a view's slices.
Rect slice_rect(const Index3& dims, View view);
// The in-plane part of a 3-D box, seen from a view.
Rect box_rect(const Box3& box, View view);

template <class T>
struct ThreeSlice {
  View view = View::Axial;
  std::int64_t slice = 0;  // k, the centre slice
  Rect rect;
  std::vector<T> data;     // [3][height][width], channel 0 = slice k-1
};

// Slices k-1, k, k+1 of `volume` along `view`, cropped to `rect` (which must lie in the slice).
template <class T>
ThreeSlice<T> three_slice(const Volume<T>& volume, View view, std::int64_t k, const Rect& rect);

}  // namespace c2f
