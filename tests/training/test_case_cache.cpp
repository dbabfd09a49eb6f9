#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

#include "../../pipeline/errors.hpp"
#include "../../training/case_cache.hpp"

using namespace c2f;

namespace {
PreparedCase named(std::size_t i) {
  PreparedCase p;
  p.id = "case" + std::to_string(i);
  return p;
}
}  // namespace

TEST_CASE("the case cache holds at most its capacity and reloads what it dropped") {
  CaseCache cache(2, named);
  CHECK(cache.get(0)->id == "case0");
  cache.get(1);
  cache.get(0);  // 0 is now more recent than 1
  CHECK(cache.loads() == 2);
  cache.get(2);  // drops 1, the least recently used
  cache.get(0);
  CHECK(cache.loads() == 3);
  cache.get(1);
  CHECK(cache.loads() == 4);
  CHECK_THROWS_AS(CaseCache(0, named), OptionError);
}

TEST_CASE("concurrent requests for one case share one load, and a failed load is not kept") {
  CaseCache cache(4, [](std::size_t i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return named(i);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { CHECK(cache.get(3)->id == "case3"); });
  for (auto& t : threads) t.join();
  CHECK(cache.loads() == 1);

  int attempts = 0;
  CaseCache flaky(2, [&](std::size_t i) {
    if (attempts++ == 0) throw InputError("case.nii.gz", "truncated");
    return named(i);
  });
  CHECK_THROWS_AS(flaky.get(0), InputError);
  CHECK(flaky.get(0)->id == "case0");
}
