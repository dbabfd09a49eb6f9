#include "convergence.hpp"

#include <cmath>

#include "../pipeline/errors.hpp"

namespace c2f {

void ConvergenceOptions::validate() const {
  if (!(stop_dsc >= 0 && stop_dsc <= 1)) throw OptionError("the stop DSC must lie in [0, 1]");
  if (max_iterations < 0) throw OptionError("the number of fine iterations must not be negative");
}

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::NotYet: return "";
    case StopReason::Converged: return "converged";
    case StopReason::MaxIterations: return "max-iterations";
  }
  return "";
}

}  // namespace c2f
