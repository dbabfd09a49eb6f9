#include "threshold.hpp"

namespace c2f {

Mask threshold(const ProbabilityMap& p, float level) {
  Mask out(p.geometry());
  const float* in = p.data();
  std::uint8_t* m = out.data();
  const std::int64_t n = p.size();
  for (std::int64_t i = 0; i < n; ++i) m[i] = in[i] >= level;
  return out;
}

}  // namespace c2f
