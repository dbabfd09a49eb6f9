#include "training_summary.hpp"

#include <fmt/format.h>

namespace c2f {

namespace {
// The node's busy seconds; 0 when the report has no such node.
double busy_seconds(const TrainingReport& r, const std::string& stage) {
  for (const auto& s : r.stages)
    if (s.stage == stage) return s.busy_seconds;
  return 0;
}
}  // namespace

std::string training_table_header() {
  return fmt::format("{:<16} {:>10} {:>9} {:>10} {:>10} {:>10} {:>13} {:>13}\n", "network", "iterations", "seconds",
                     "samples/s", "last loss", "train DSC", "make sample s", "train step s");
}

std::string training_table_row(const std::string& network, const TrainingReport& r) {
  return fmt::format("{:<16} {:>10} {:>9.1f} {:>10.2f} {:>10.4f} {:>10} {:>13.1f} {:>13.1f}\n", network,
                     r.end_iteration - r.first_iteration, r.seconds, r.samples_per_second, r.last_loss,
                     r.train_dsc >= 0 ? fmt::format("{:.4f}", r.train_dsc) : "-", busy_seconds(r, "make sample"),
                     busy_seconds(r, "train step"));
}

}  // namespace c2f
