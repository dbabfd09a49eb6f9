#include "volume.hpp"

#include <algorithm>
#include <cctype>
#include <new>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "errors.hpp"

namespace c2f {

namespace {
constexpr std::size_t kHugePage = std::size_t(2) << 20;
constexpr std::size_t kHugeFrom = std::size_t(4) << 20;
}  // namespace

void* allocate_voxels(std::size_t bytes) {
  if (bytes < kHugeFrom) return ::operator new(bytes);
  void* p = ::operator new(bytes, std::align_val_t{kHugePage});
#if defined(MADV_HUGEPAGE)
  (void)::madvise(p, bytes - bytes % kHugePage, MADV_HUGEPAGE);  // a request: refused, pages stay 4 KiB
#endif
  return p;
}

void release_voxels(void* p, std::size_t bytes) noexcept {
  if (bytes < kHugeFrom) ::operator delete(p);
  else ::operator delete(p, std::align_val_t{kHugePage});
}

const char* view_name(View v) {
  switch (v) {
    case View::Coronal: return "coronal";
    case View::Sagittal: return "sagittal";
    case View::Axial: return "axial";
  }
  return "?";
}

View parse_view(std::string_view name) {
  std::string s(name);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "coronal" || s == "c") return View::Coronal;
  if (s == "sagittal" || s == "s") return View::Sagittal;
  if (s == "axial" || s == "a") return View::Axial;
  throw OptionError("unknown view '" + std::string(name) + "' (expected coronal, sagittal or axial)");
}

std::int64_t count_foreground(const Mask& mask) {
  return std::count_if(mask.voxels().begin(), mask.voxels().end(), [](std::uint8_t v) { return v != 0; });
}

}  // namespace c2f
