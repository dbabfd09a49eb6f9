// c2f-bench runs every part; its Python/PyTorch reference gives the same masks as c2f. The
// figures themselves are not asserted: speed is for the benchmark to report, not a test.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tools/tool_runner.hpp"

using namespace c2f;

TEST_CASE("c2f-bench --quick: the CPU's peak, stages against memcpy, cases in flight, scaling, and a peer that agrees") {
  test::ScratchDir dir("bench");
  const auto r = test::run(C2F_BENCH_EXE, std::string("--quick --python ") + C2F_PYTHON + " -o " + (dir / "b.json").string(),
                           dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::ifstream in(dir / "b.json");
  const auto j = nlohmann::json::parse(in);
  REQUIRE(j["stages"].size() == 2);
  for (const auto& [size, rows] : j["stages"].items()) {
    CHECK(rows.size() == 15);
    // The resampling to the networks' grid and back is timed beside the paper's stages.
    CHECK(std::ranges::count_if(rows, [](const auto& row) {
            return row["stage"].template get<std::string>().starts_with("resample");
          }) == 2);
    for (const auto& row : rows) {
      CHECK(row["min_s"].get<double>() > 0);
      CHECK(row["ratio_to_memcpy"].get<double>() > 0);
    }
  }
  CHECK(j["graph"]["wall_ratio_many_to_one"].get<double>() > 0);
  CHECK(j["scaling"].size() == 4);
  CHECK(j["peer"]["dsc_min"].get<double>() >= 0.99);
  // The peak is measured, and every network's speed and the volume's are reported as a share of it.
  const auto& peak = j["peak"];
  CHECK(peak["gflops_one_thread"].get<double>() > 0);
  CHECK(peak["gflops_all_threads"].get<double>() > 0);
  CHECK(peak["sgemm"]["gflops"].get<double>() > 0);
  REQUIRE(peak["networks"].size() >= 1);
  for (const auto& n : peak["networks"]) {
    CHECK(n["share_of_peak"].get<double>() > 0);
    CHECK(n["share_of_peak"].get<double>() < 1.5);  // above the peak would mean a miscount
  }
  CHECK(j["volume"]["share_of_peak"].get<double>() > 0);
}

TEST_CASE("c2f-bench --allreduce --quick: 2 ranks against one process, and the allreduce's bytes are the gradients'") {
  test::ScratchDir dir("bench-allreduce");
  const auto r = test::run(C2F_BENCH_EXE, "--allreduce --quick -o " + (dir / "a.json").string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::ifstream in(dir / "a.json");
  const auto runs = nlohmann::json::parse(in)["allreduce"]["runs"];
  REQUIRE(runs.size() == 1);  // --quick: light-unet only
  const auto& run = runs[0];
  CHECK(run["model"] == "light-unet");
  // Every parameter's gradient as float32, and the loss riding along.
  CHECK(run["allreduce_bytes"].get<std::int64_t>() == 4 * (run["parameters"].get<std::int64_t>() + 1));
  CHECK(run["allreduce_s"].get<double>() > 0);
  CHECK(run["one_process_step_s"].get<double>() > 0);
  CHECK(run["data_parallel_step_s"].get<double>() > 0);
  CHECK(r.out.find("light-unet") != std::string::npos);
}
