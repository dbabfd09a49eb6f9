#include "cohort_share.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <numeric>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

std::string CohortShare::describe() const { return fmt::format("part {} of {}", part, parts); }

std::string CohortShare::file_tag() const { return fmt::format("part-{}-of-{}", part, parts); }

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {
// A whole number in [lo, 2^31), or OptionError naming where it came from.
int whole_number(const std::string& text, const std::string& where, long lo) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno == ERANGE || v > 2147483647L)
    throw OptionError(fmt::format("{}='{}' is not a whole number", where, text));
  if (v < lo) throw OptionError(fmt::format("{}={} must be at least {}", where, v, lo));
  return int(v);
}
}  // namespace

CohortShare resolve_cohort_share(std::optional<int> num_parts, std::optional<int> part_id, const Environment& env) {
  if (num_parts && *num_parts < 1) throw OptionError(fmt::format("--num-parts {} must be at least 1", *num_parts));
  if (part_id && *part_id < 0) throw OptionError(fmt::format("--part-id {} must be at least 0", *part_id));
  // --num-parts 1: the whole cohort, whatever job array this runs in.
  if (num_parts == 1 && !part_id) return {};

  CohortShare s;
  std::string n_from = "--num-parts", k_from = "--part-id";
  std::optional<int> n = num_parts, k = part_id;
  // Which launcher the part's index comes from decides where its count is read.
  enum class Launcher { None, Slurm, Kubernetes } launcher = Launcher::None;
  if (!k) {
    if (const auto id = env("SLURM_ARRAY_TASK_ID")) {
      launcher = Launcher::Slurm;
      const int task = whole_number(*id, "SLURM_ARRAY_TASK_ID", 0);
      int min = 0;
      if (const auto m = env("SLURM_ARRAY_TASK_MIN")) min = whole_number(*m, "SLURM_ARRAY_TASK_MIN", 0);
      if (const auto step = env("SLURM_ARRAY_TASK_STEP"); step && whole_number(*step, "SLURM_ARRAY_TASK_STEP", 1) != 1)
        throw OptionError(fmt::format("SLURM_ARRAY_TASK_STEP={}: parts need a contiguous array (e.g. --array=0-7), "
                                      "or give --num-parts and --part-id", *step));
      if (task < min)
        throw OptionError(fmt::format("SLURM_ARRAY_TASK_ID={} is below SLURM_ARRAY_TASK_MIN={}", task, min));
      k = task - min;
      k_from = min > 0 ? "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN" : "SLURM_ARRAY_TASK_ID";
    } else if (const auto index = env("JOB_COMPLETION_INDEX")) {
      launcher = Launcher::Kubernetes;
      k = whole_number(*index, "JOB_COMPLETION_INDEX", 0);
      k_from = "JOB_COMPLETION_INDEX";
    }
  }
  if (!n) {
    // The count belongs with the index: a Slurm count is not read for a Kubernetes index.
    const bool slurm = launcher == Launcher::Slurm || (part_id && env("SLURM_ARRAY_TASK_COUNT"));
    if (slurm) {
      const auto count = env("SLURM_ARRAY_TASK_COUNT");
      if (!count)
        throw OptionError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm before 17.11?): give --num-parts");
      n = whole_number(*count, "SLURM_ARRAY_TASK_COUNT", 1);
      n_from = "SLURM_ARRAY_TASK_COUNT";
    } else if (const auto count = env("C2F_NUM_PARTS"); count && (launcher == Launcher::Kubernetes || part_id)) {
      n = whole_number(*count, "C2F_NUM_PARTS", 1);
      n_from = "C2F_NUM_PARTS";
    } else if (launcher == Launcher::Kubernetes) {
      throw OptionError("JOB_COMPLETION_INDEX is set but the number of parts is not: give --num-parts, or set "
                        "C2F_NUM_PARTS to the Job's completions");
    }
  }
  if (!n && !k) return {};  // no split asked for anywhere: the whole cohort
  if (!n) throw OptionError(fmt::format("{} needs the number of parts: give --num-parts", k_from));
  if (!k)
    throw OptionError(fmt::format("--num-parts {} needs this part's index: give --part-id (0 .. {}), or run in a Slurm "
                                  "job array or a Kubernetes Indexed Job",
                                  *n, *n - 1));
  if (*k >= *n)
    throw OptionError(fmt::format("{} = {} is not below {} = {} (parts are numbered 0 .. {})", k_from, *k, n_from, *n, *n - 1));
  s.parts = *n;
  s.part = *k;
  s.source = n_from == k_from ? n_from : n_from + ", " + k_from;
  if (s.parts == 1) s.source.clear();
  return s;
}

std::vector<std::size_t> share_of(const std::vector<std::string>& ids, const CohortShare& share) {
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a] < ids[b]; });
  std::vector<std::size_t> mine;
  for (std::size_t rank = 0; rank < order.size(); ++rank)
    if (share.holds(rank)) mine.push_back(order[rank]);
  return mine;
}

}  // namespace c2f
