#include "crop_with_frame.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace c2f {

CropRegion crop_region(const Box3& box, const Index3& dims, int frame_px) {
  if (frame_px < 0) throw std::invalid_argument("crop_region: negative frame");
  if (box.empty()) return {Box3::whole(dims), true};
  const Box3 inside = box.intersect(Box3::whole(dims));
  if (inside.empty()) return {Box3::whole(dims), true};
  return {inside.grown({frame_px, frame_px, frame_px}, dims), false};
}

namespace {
void check_box(const Box3& box, const Index3& dims) {
  if (box.empty() || box.intersect(Box3::whole(dims)) != box)
    throw std::out_of_range("crop: box empty or outside the volume");
}
}  // namespace

template <class T>
Volume<T> crop(const Volume<T>& volume, const Box3& box) {
  check_box(box, volume.dims());
  Volume<T> out(sub_geometry(volume.geometry(), box));
  const std::int64_t w = box.extent(0);
  T* dst = out.data();
  const std::int64_t ahead = 4 * volume.nx();  // rows lie nx apart: prefetch a few rows on
  for (std::int64_t z = box.lo[2]; z < box.hi[2]; ++z)
    for (std::int64_t y = box.lo[1]; y < box.hi[1]; ++y, dst += w) {
      const T* row = &volume(box.lo[0], y, z);
      for (std::int64_t b = 0; b < std::int64_t(w * sizeof(T)); b += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(row + ahead) + b);
      std::memcpy(dst, row, std::size_t(w) * sizeof(T));
    }
  return out;
}

template <class T>
Volume<T> paste_back(const Volume<T>& region, const Box3& box, const Geometry& full, T outside) {
  check_box(box, full.dims);
  if (region.dims() != box.extents()) throw std::invalid_argument("paste_back: region and box differ in size");
  Volume<T> out(full, outside);
  const std::int64_t w = box.extent(0);
  const T* src = region.data();
  for (std::int64_t z = box.lo[2]; z < box.hi[2]; ++z)
    for (std::int64_t y = box.lo[1]; y < box.hi[1]; ++y, src += w)
      std::memcpy(&out(box.lo[0], y, z), src, std::size_t(w) * sizeof(T));
  return out;
}

template Volume<float> crop(const Volume<float>&, const Box3&);
template Volume<std::uint8_t> crop(const Volume<std::uint8_t>&, const Box3&);
template Volume<float> paste_back(const Volume<float>&, const Box3&, const Geometry&, float);
template Volume<std::uint8_t> paste_back(const Volume<std::uint8_t>&, const Box3&, const Geometry&, std::uint8_t);

}  // namespace c2f
