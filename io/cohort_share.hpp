#pragma once
// A cohort split into parts for many machines (a Slurm job array, a Kubernetes Indexed Job):
// each part takes a fixed share, and a merge step builds the cohort's tables from the parts'
// per-case outputs.
//
// The share rule: the cohort's cases sorted by case id; case i of that order goes to part
// i mod N. It depends only on the case ids, not on the order files are listed in, so every part
// computes the same split on its own, and every case is in exactly one part (sizes differ by at
// most one).
//
// Where N (parts) and K (this part, 0 .. N-1) come from, each on its own, first that is set:
//   N: --num-parts; SLURM_ARRAY_TASK_COUNT (when K comes from Slurm); C2F_NUM_PARTS (when K comes
//      from JOB_COMPLETION_INDEX: a Kubernetes Indexed Job does not export its completion count).
//   K: --part-id; SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (0 when unset);
//      JOB_COMPLETION_INDEX.
// Neither set anywhere: the whole cohort. --num-parts 1 is the whole cohort whatever the
// environment says. A Slurm array must be contiguous (step 1, e.g. --array=0-7 or 1-8).
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace c2f {

struct CohortShare {
  int parts = 1;       // N
  int part = 0;        // K, 0 .. N-1
  std::string source;  // where N and K came from: "--num-parts/--part-id", "SLURM_ARRAY_TASK_ID", ...; empty: whole

  bool whole() const { return parts == 1; }
  // "part 2 of 4" (K as given, from 0)
  std::string describe() const;
  // "part-2-of-4": the tag of a part's own files
  std::string file_tag() const;
  // Whether the case at `rank` in the id-sorted cohort is this part's.
  bool holds(std::size_t rank) const { return rank % std::size_t(parts) == std::size_t(part); }
};

// Reads one environment variable; nullopt when unset. Tests pass their own.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment process_environment();

// N and K from the options (nullopt: not given) and the environment, as the header says. Throws
// OptionError naming the option or variable: a value that is not a whole number, N < 1, K outside
// 0 .. N-1, K without N, N > 1 without K.
CohortShare resolve_cohort_share(std::optional<int> num_parts, std::optional<int> part_id, const Environment& env);

// The positions in `case_ids` of the share's cases, in id order.
std::vector<std::size_t> share_of(const std::vector<std::string>& case_ids, const CohortShare& share);

}  // namespace c2f
