#include "view_fusion.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

const char* fusion_rule_name(FusionRule r) {
  switch (r) {
    case FusionRule::Mean: return "mean";
    case FusionRule::Weighted: return "weighted";
    case FusionRule::Majority: return "majority";
  }
  return "?";
}

FusionRule parse_fusion_rule(std::string_view name) {
  if (name == "mean") return FusionRule::Mean;
  if (name == "weighted") return FusionRule::Weighted;
  if (name == "majority") return FusionRule::Majority;
  throw OptionError(fmt::format("unknown fusion rule '{}' (expected mean, weighted or majority)", name));
}

void FusionOptions::validate() const {
  float sum = 0;
  for (float w : weights) {
    if (!std::isfinite(w) || w < 0) throw OptionError("fusion weights must be finite and not negative");
    sum += w;
  }
  if (sum <= 0) throw OptionError("fusion weights must not all be zero");
  if (!(vote_threshold > 0 && vote_threshold <= 1)) throw OptionError("the vote threshold must lie in (0, 1]");
}

ProbabilityMap fuse_views(const std::array<const ProbabilityMap*, 3>& views, const FusionOptions& o) {
  for (const auto* v : views)
    if (v == nullptr || v->dims() != views[0]->dims()) throw std::invalid_argument("fuse_views: maps of different sizes");
  ProbabilityMap out(views[0]->geometry());
  const float* c = views[0]->data();
  const float* s = views[1]->data();
  const float* a = views[2]->data();
  float* p = out.data();
  const std::int64_t n = out.size();
  switch (o.rule) {
    case FusionRule::Mean:
      // In double, the sum of three floats is exact and x + x + x divided by 3 is x again, so
      // three equal maps fuse to that map bit for bit (a float sum would round at 0.5).
      for (std::int64_t i = 0; i < n; ++i) p[i] = float((double(c[i]) + double(s[i]) + double(a[i])) / 3.0);
      break;
    case FusionRule::Weighted: {
      const double wc = o.weights[0], ws = o.weights[1], wa = o.weights[2], sum = wc + ws + wa;
      for (std::int64_t i = 0; i < n; ++i) p[i] = float((wc * c[i] + ws * s[i] + wa * a[i]) / sum);
      break;
    }
    case FusionRule::Majority: {
      const float t = o.vote_threshold;
      for (std::int64_t i = 0; i < n; ++i)
        p[i] = float((c[i] >= t) + (s[i] >= t) + (a[i] >= t)) * (1.0f / 3.0f);
      break;
    }
  }
  return out;
}

}  // namespace c2f
