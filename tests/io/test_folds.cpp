#include <doctest/doctest.h>
#include <fmt/format.h>

#include "../../io/folds.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

TEST_CASE("82 cases split into contiguous folds of 21, 21, 20 and 20, as the paper's protocol") {
  std::vector<std::string> ids;
  for (int i = 82; i >= 1; --i) ids.push_back(fmt::format("PANCREAS_{:04d}", i));
  const Folds f = make_folds(ids, 4);
  REQUIRE(f.folds.size() == 4);
  CHECK(f.folds[0].size() == 21);
  CHECK(f.folds[1].size() == 21);
  CHECK(f.folds[2].size() == 20);
  CHECK(f.folds[3].size() == 20);
  CHECK(f.folds[0].front() == "PANCREAS_0001");
  CHECK(f.folds[1].front() == "PANCREAS_0022");
  CHECK(f.training_cases(1).size() == 61);
  CHECK(f.training_cases(-1).size() == 82);
  CHECK_THROWS_AS(f.training_cases(4), OptionError);
}

TEST_CASE("fold files round-trip, and a case in two folds is refused") {
  test::ScratchDir dir("folds");
  const Folds f = make_folds({"a", "b", "c", "d", "e"}, 2);
  write_folds(dir / "folds.json", f);
  CHECK(read_folds(dir / "folds.json").folds == f.folds);
  test::write_bytes(dir / "dup.json", R"({"format": "c2f folds 1", "folds": [["a", "b"], ["b"]]})");
  CHECK_THROWS_WITH_AS(read_folds(dir / "dup.json"), doctest::Contains("in two folds"), InputError);
  test::write_bytes(dir / "bad.json", "{");
  CHECK_THROWS_AS(read_folds(dir / "bad.json"), InputError);
}
