#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

#include "../../io/cohort_share.hpp"
#include "../../pipeline/errors.hpp"

using namespace c2f;

namespace {
// An environment holding only these variables.
Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
const Environment kEmpty = env_of({});

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const OptionError& e) {
    return e.what();
  }
  return "(no OptionError)";
}
}  // namespace

TEST_CASE("case i of the id-sorted cohort goes to part i mod N whatever order the ids come in") {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(fmt::format("case_{:02d}", i));
  std::vector<std::string> shuffled = ids;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  const CohortShare part1{3, 1, "--num-parts, --part-id"};
  std::vector<std::string> mine;
  for (std::size_t i : share_of(shuffled, part1)) mine.push_back(shuffled[i]);
  CHECK(mine == std::vector<std::string>{"case_01", "case_04", "case_07"});  // ranks 1, 4, 7
  // The same ids in another order: the same share, in id order.
  std::vector<std::string> again;
  for (std::size_t i : share_of(ids, part1)) again.push_back(ids[i]);
  CHECK(again == mine);
}

TEST_CASE("every case is in exactly one part and the parts differ in size by at most one") {
  for (const int cases : {0, 1, 5, 17, 82})
    for (const int parts : {1, 2, 3, 4, 7, 100}) {
      CAPTURE(cases);
      CAPTURE(parts);
      std::vector<std::string> ids;
      for (int i = 0; i < cases; ++i) ids.push_back(fmt::format("PANCREAS_{:04d}", (i * 37) % 101));
      std::vector<int> owner(ids.size(), -1);
      std::size_t smallest = ids.size(), largest = 0;
      for (int k = 0; k < parts; ++k) {
        const auto share = share_of(ids, CohortShare{parts, k, "test"});
        smallest = std::min(smallest, share.size());
        largest = std::max(largest, share.size());
        for (std::size_t i : share) {
          CHECK(owner[i] == -1);
          owner[i] = k;
        }
      }
      CHECK(std::count(owner.begin(), owner.end(), -1) == 0);
      CHECK(largest - smallest <= 1);
    }
}

TEST_CASE("the options win over the environment and no split anywhere is the whole cohort") {
  const auto slurm = env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}});
  CHECK(resolve_cohort_share(std::nullopt, std::nullopt, kEmpty).whole());
  const CohortShare flags = resolve_cohort_share(5, 2, slurm);
  CHECK(flags.parts == 5);
  CHECK(flags.part == 2);
  CHECK(flags.file_tag() == "part-2-of-5");
  CHECK(flags.describe() == "part 2 of 5");
  // --num-parts 1 runs the whole cohort even inside a job array.
  CHECK(resolve_cohort_share(1, std::nullopt, slurm).whole());
  // Each of N and K on its own: K from the flag, N from Slurm.
  const CohortShare mixed = resolve_cohort_share(std::nullopt, 1, slurm);
  CHECK(mixed.parts == 4);
  CHECK(mixed.part == 1);
}

TEST_CASE("a Slurm array gives N and K less SLURM_ARRAY_TASK_MIN when the array starts above 0") {
  const CohortShare a = resolve_cohort_share(std::nullopt, std::nullopt,
                                             env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  CHECK(a.parts == 4);
  CHECK(a.part == 2);
  CHECK(a.source == "SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_ID");
  const CohortShare b = resolve_cohort_share(
      std::nullopt, std::nullopt,
      env_of({{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_STEP", "1"}}));
  CHECK(b.parts == 8);
  CHECK(b.part == 7);
  // --num-parts with the index from the array.
  const CohortShare c = resolve_cohort_share(2, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "1"}}));
  CHECK(c.parts == 2);
  CHECK(c.part == 1);
}

TEST_CASE("a Kubernetes Indexed Job gives K and N comes from --num-parts or C2F_NUM_PARTS") {
  const CohortShare a = resolve_cohort_share(3, std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "2"}}));
  CHECK(a.parts == 3);
  CHECK(a.part == 2);
  const CohortShare b =
      resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "0"}, {"C2F_NUM_PARTS", "6"}}));
  CHECK(b.parts == 6);
  CHECK(b.part == 0);
  CHECK(b.source == "C2F_NUM_PARTS, JOB_COMPLETION_INDEX");
  // C2F_NUM_PARTS alone asks for nothing: it only counts the parts of an index given elsewhere.
  CHECK(resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"C2F_NUM_PARTS", "6"}})).whole());
}

TEST_CASE("bad counts and indices and environment values are refused with the option or variable named") {
  const auto says = [](const std::function<void()>& f, const std::string& text) {
    const std::string what = what_of(f);
    INFO(what);
    CHECK(what.find(text) != std::string::npos);
  };
  says([] { resolve_cohort_share(0, 0, kEmpty); }, "--num-parts 0 must be at least 1");
  says([] { resolve_cohort_share(2, -1, kEmpty); }, "--part-id -1");
  says([] { resolve_cohort_share(2, 2, kEmpty); }, "--part-id = 2 is not below --num-parts = 2");
  says([] { resolve_cohort_share(4, std::nullopt, kEmpty); }, "--num-parts 4 needs this part's index");
  says([] { resolve_cohort_share(std::nullopt, 1, kEmpty); }, "--part-id needs the number of parts");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "x1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})); },
       "SLURM_ARRAY_TASK_ID='x1' is not a whole number");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4 "}})); },
       "SLURM_ARRAY_TASK_COUNT='4 ' is not a whole number");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "0"}})); },
       "SLURM_ARRAY_TASK_COUNT=0 must be at least 1");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})); },
       "SLURM_ARRAY_TASK_ID = 5 is not below SLURM_ARRAY_TASK_COUNT = 4");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "2"}})); },
       "SLURM_ARRAY_TASK_COUNT is not");
  says([] {
    resolve_cohort_share(std::nullopt, std::nullopt,
                         env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_STEP", "2"}}));
  }, "contiguous array");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "-1"}, {"SLURM_ARRAY_TASK_COUNT", "3"}})); },
       "SLURM_ARRAY_TASK_ID=-1 must be at least 0");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "1"}})); },
       "give --num-parts, or set C2F_NUM_PARTS");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"JOB_COMPLETION_INDEX", ""}, {"C2F_NUM_PARTS", "2"}})); },
       "JOB_COMPLETION_INDEX='' is not a whole number");
  says([] { resolve_cohort_share(std::nullopt, std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "1"}, {"C2F_NUM_PARTS", "99999999999"}})); },
       "C2F_NUM_PARTS='99999999999' is not a whole number");
}
