#pragma once
// Convergence: whether the fine stage's iteration stops (paper section 3.2, METHOD.md).
//   in:  iteration t >= 1, d(t) = DSC(S(t-1), S(t))      out: stop or go round again
//   rule: stop when d(t) > stop_dsc (paper: 0.95) or t = max_iterations (paper: T = 10).
#include <string>

namespace c2f {

struct ConvergenceOptions {
  double stop_dsc = 0.95;
  int max_iterations = 10;
  void validate() const;  // throws OptionError: stop_dsc in [0, 1], max_iterations >= 0
};

enum class StopReason { NotYet, Converged, MaxIterations };
const char* stop_reason_name(StopReason r);  // "", "converged", "max-iterations"

struct Convergence {
  ConvergenceOptions options;
  StopReason operator()(int iteration, double d_t) const {
    if (d_t > options.stop_dsc) return StopReason::Converged;
    if (iteration >= options.max_iterations) return StopReason::MaxIterations;
    return StopReason::NotYet;
  }
};

}  // namespace c2f
