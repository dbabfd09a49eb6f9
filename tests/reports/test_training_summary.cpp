#include <doctest/doctest.h>

#include "../../reports/training_summary.hpp"

using namespace c2f;

TEST_CASE("a training row: iterations run this time, '-' for a run not evaluated, each node's busy seconds by name") {
  TrainingReport r;
  r.first_iteration = 200;  // resumed at 200
  r.end_iteration = 1000;
  r.seconds = 125.375;
  r.samples_per_second = 6.4375;
  r.last_loss = 0.3125;
  r.stages = {{"train step", 100.375, 800}, {"make sample", 40.5, 800}};
  // No printed digit falls on a rounding tie. Columns of the header: network 16 wide, then 10, 9, 10, 10, 10, 13, 13, right-aligned.
  CHECK(training_table_header() ==
        "network          iterations   seconds  samples/s  last loss  train DSC make sample s  train step s\n");
  CHECK(training_table_row("coarse_axial", r) ==
        "coarse_axial            800     125.4       6.44     0.3125          -          40.5         100.4\n");
  r.train_dsc = 0.8125;
  CHECK(training_table_row("coarse_axial", r).find("     0.8125") != std::string::npos);
}
