#include <doctest/doctest.h>

#include <climits>
#include <set>

#include "../../training/training_sample.hpp"

using namespace c2f;

TEST_CASE("a sample plan visits every pair once per epoch, case by case when cases come in blocks") {
  std::vector<CaseSummary> cases(4);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    cases[i].id = "c" + std::to_string(i);
    for (std::int64_t k = 0; k < 3 + std::int64_t(i); ++k) cases[i].coarse_slices[2].push_back(10 + k);
  }
  for (std::size_t block : {std::size_t(1), std::size_t(2), std::size_t(100)}) {
    CAPTURE(block);
    const SamplePlan plan(cases, View::Axial, Scale::Coarse, 5, block);
    REQUIRE(plan.size() == 3 + 4 + 5 + 6);
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      std::set<std::pair<std::size_t, std::int64_t>> seen;
      int switches = 0;
      std::size_t last = SIZE_MAX;
      for (std::int64_t i = 0; i < std::int64_t(plan.size()); ++i) {
        const SampleRequest r = plan.at(epoch * std::int64_t(plan.size()) + i);
        seen.insert({r.case_index, r.slice});
        switches += r.case_index != last;
        last = r.case_index;
      }
      CHECK(seen.size() == plan.size());
      if (block == 1) CHECK(switches == 4);  // each case's samples in one run
    }
  }
}
