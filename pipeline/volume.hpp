#pragma once
// Volume<T>: a voxel grid with its world geometry. Axes and index order: see geometry.hpp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

#include "geometry.hpp"

namespace c2f {

// Voxel memory. Buffers of 4 MiB and more start on a 2 MiB boundary with transparent huge pages
// requested (madvise; Linux's default THP mode honours it): a fresh volume then takes a few
// hundred page faults instead of tens of thousands. On virtual machines, where a fault is
// expensive, first touching a 124 MB volume went from 0.33 s to 0.01 s (see pipeline/volume.cpp).
void* allocate_voxels(std::size_t bytes);
void release_voxels(void* p, std::size_t bytes) noexcept;

// Allocates without zero-filling: a 512 x 512 x 250 float volume is 262 MB, and almost every
// producer overwrites all of it. Value-initialisation (Volume(g, fill)) still fills.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_voxels(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { release_voxels(p, n * sizeof(T)); }
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// The three views of the paper, named by the axis their slices are taken along.
enum class View { Coronal, Sagittal, Axial };
inline constexpr std::array<View, 3> kViews{View::Coronal, View::Sagittal, View::Axial};
// The index axis a view slices along: sagittal = x (0), coronal = y (1), axial = z (2).
inline constexpr int slice_axis(View v) {
  return v == View::Sagittal ? 0 : v == View::Coronal ? 1 : 2;
}
const char* view_name(View v);
View parse_view(std::string_view name);  // "coronal" | "sagittal" | "axial" or "C" | "S" | "A"

// One 2-D slice of a volume seen through strides: no copy. Column u and row v map to the two
// in-plane axes in increasing index order (axial: u = x, v = y; coronal: u = x, v = z;
// sagittal: u = y, v = z).
template <class T>
struct SliceView {
  T* base = nullptr;
  std::int64_t width = 0, height = 0;      // columns (u), rows (v)
  std::int64_t stride_u = 0, stride_v = 0;  // in elements

  T& operator()(std::int64_t u, std::int64_t v) const { return base[u * stride_u + v * stride_v]; }
  bool contiguous() const { return stride_u == 1 && stride_v == width; }
  // Copies the slice row by row into dst (width * height elements).
  template <class U>
  void copy_to(U* dst) const {
    for (std::int64_t v = 0; v < height; ++v) {
      const T* row = base + v * stride_v;
      U* out = dst + v * width;
      if (stride_u == 1) {
        for (std::int64_t u = 0; u < width; ++u) out[u] = static_cast<U>(row[u]);
      } else {
        for (std::int64_t u = 0; u < width; ++u) out[u] = static_cast<U>(row[u * stride_u]);
      }
    }
  }
};

template <class T>
class Volume {
 public:
  using value_type = T;
  using Storage = std::vector<T, DefaultInitAllocator<T>>;

  Volume() = default;
  // Voxels left uninitialised: for producers that write every voxel.
  explicit Volume(const Geometry& g) : geometry_(g), voxels_(checked_count(g)) {}
  Volume(const Geometry& g, T fill) : geometry_(g), voxels_(checked_count(g), fill) {}

  const Geometry& geometry() const { return geometry_; }
  void set_geometry(const Geometry& g) {
    if (g.dims != geometry_.dims) throw std::invalid_argument("Volume::set_geometry: dims differ");
    geometry_ = g;
  }
  const Index3& dims() const { return geometry_.dims; }
  std::int64_t nx() const { return geometry_.dims[0]; }
  std::int64_t ny() const { return geometry_.dims[1]; }
  std::int64_t nz() const { return geometry_.dims[2]; }
  std::int64_t size() const { return static_cast<std::int64_t>(voxels_.size()); }
  bool empty() const { return voxels_.empty(); }

  std::int64_t offset(std::int64_t x, std::int64_t y, std::int64_t z) const {
    return x + nx() * (y + ny() * z);
  }
  T& operator()(std::int64_t x, std::int64_t y, std::int64_t z) { return voxels_[offset(x, y, z)]; }
  const T& operator()(std::int64_t x, std::int64_t y, std::int64_t z) const {
    return voxels_[offset(x, y, z)];
  }
  T* data() { return voxels_.data(); }
  const T* data() const { return voxels_.data(); }
  std::span<T> voxels() { return {voxels_.data(), voxels_.size()}; }
  std::span<const T> voxels() const { return {voxels_.data(), voxels_.size()}; }

  // Slice k along the view's axis, without copying.
  SliceView<const T> slice(View view, std::int64_t k) const { return make_slice<const T>(data(), view, k); }
  SliceView<T> slice(View view, std::int64_t k) { return make_slice<T>(data(), view, k); }

 private:
  static std::size_t checked_count(const Geometry& g) {
    for (auto d : g.dims)
      if (d <= 0) throw std::invalid_argument("Volume: every dimension must be positive");
    return static_cast<std::size_t>(g.voxel_count());
  }
  template <class P, class B>
  SliceView<P> make_slice(B* base, View view, std::int64_t k) const {
    const int axis = slice_axis(view);
    if (k < 0 || k >= geometry_.dims[axis]) throw std::out_of_range("Volume::slice: index out of range");
    const std::int64_t sx = 1, sy = nx(), sz = nx() * ny();
    switch (view) {
      case View::Axial: return {base + k * sz, nx(), ny(), sx, sy};
      case View::Coronal: return {base + k * sy, nx(), nz(), sx, sz};
      case View::Sagittal: return {base + k * sx, ny(), nz(), sy, sz};
    }
    return {};
  }

  Geometry geometry_;
  Storage voxels_;
};

using Image = Volume<float>;           // intensities in Hounsfield units
using Mask = Volume<std::uint8_t>;     // 0 background, 1 foreground
using ProbabilityMap = Volume<float>;  // per-voxel foreground probability in [0, 1]

// Number of non-zero voxels.
std::int64_t count_foreground(const Mask& mask);

}  // namespace c2f
