#include "c2f/stages/metrics.hpp"

#include <stdexcept>

namespace c2f {

Overlap overlap(const Mask& a, const Mask& b) {
  if (a.dims() != b.dims()) throw std::invalid_argument("overlap: masks of different sizes");
  const std::uint8_t* pa = a.data();
  const std::uint8_t* pb = b.data();
  const std::int64_t n = a.size();
  Overlap o;
  // Branch-free counts over 0/1 bytes (any non-zero value counts as foreground).
  for (std::int64_t i = 0; i < n; ++i) {
    const int x = pa[i] != 0, y = pb[i] != 0;
    o.a += x;
    o.b += y;
    o.both += x & y;
  }
  return o;
}

}  // namespace c2f
