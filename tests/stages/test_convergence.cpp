#include <doctest/doctest.h>

#include "../../pipeline/errors.hpp"
#include "../../stages/convergence.hpp"

using namespace c2f;

TEST_CASE("Convergence stops when d(t) exceeds the threshold or at T") {
  const Convergence paper{};  // 0.95, T = 10
  CHECK(paper(1, 0.96) == StopReason::Converged);
  CHECK(paper(1, 0.95) == StopReason::NotYet);  // strictly greater
  CHECK(paper(9, 0.5) == StopReason::NotYet);
  CHECK(paper(10, 0.5) == StopReason::MaxIterations);
  CHECK(paper(10, 0.99) == StopReason::Converged);
  const Convergence strict{{0.99, 3}};
  CHECK(strict(2, 0.98) == StopReason::NotYet);
  CHECK(strict(3, 0.98) == StopReason::MaxIterations);
  CHECK_THROWS_AS((ConvergenceOptions{1.5, 10}.validate()), OptionError);
  CHECK_THROWS_AS((ConvergenceOptions{0.9, -1}.validate()), OptionError);
}
