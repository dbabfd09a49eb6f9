#include <doctest/doctest.h>

#include <random>

#include <fmt/format.h>
#include <tbb/global_control.h>

#include "../../graphs/training_graph.hpp"
#include "../../model/checkpoint.hpp"
#include "../../phantom/phantom.hpp"
#include "test_support.hpp"
#include "tools/tool_runner.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
std::shared_ptr<const std::vector<PreparedCase>> tiny_cohort() {
  PhantomOptions o;
  o.size = {48, 48, 24};
  o.seed = 4;
  auto cases = std::make_shared<std::vector<PreparedCase>>();
  for (int i = 0; i < 3; ++i) cases->push_back(prepare_case(make_phantom(o, i).c, {}));
  return cases;
}

TrainingOptions options(const fs::path& dir, std::int64_t iterations) {
  TrainingOptions o;
  o.scale = Scale::Fine;
  o.view = View::Axial;
  o.iterations = iterations;
  o.checkpoint_every = 8;
  o.log_every = 4;
  o.seed = 11;
  o.checkpoint = dir / "fine_axial.pt";
  o.log_csv = dir / "fine_axial.csv";
  return o;
}

bool same_weights(const fs::path& a, const fs::path& b) {
  auto ma = load_checkpoint(a).model, mb = load_checkpoint(b).model;
  const auto pa = ma->parameters(), pb = mb->parameters();
  if (pa.size() != pb.size()) return false;
  for (std::size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i])) return false;
  return true;
}
}  // namespace

TEST_CASE("training is deterministic given the seed, whatever the prefetch depth") {
  const auto cases = tiny_cohort();
  test::ScratchDir a("train-a"), b("train-b");
  auto oa = options(a.path(), 24);
  const TrainingReport ra = train_network(cases, oa);
  auto ob = options(b.path(), 24);
  ob.prefetch = 1;
  train_network(cases, ob);
  CHECK(same_weights(oa.checkpoint, ob.checkpoint));
  CHECK(read_checkpoint_info(oa.checkpoint).iteration == 24);
  CHECK(ra.stages.size() == 2);
  CHECK(ra.stages[1].calls == 24);
  CHECK(test::count_lines(test::read_bytes(oa.log_csv)) == 1 + 24 / 4);
}

TEST_CASE("the training graph gives the same weights at 1, 2 and 8 oneTBB threads, with and without a bounded cache") {
  const auto cases = tiny_cohort();
  test::ScratchDir dir("train-threads");
  // A bounded cache orders samples case by case (each case read once an epoch), so its weights
  // differ from the whole cohort's; each mode is compared with itself across thread counts.
  for (bool bounded : {false, true}) {
    CAPTURE(bounded);
    std::vector<fs::path> checkpoints;
    for (int threads : {1, 2, 8}) {
      CAPTURE(threads);
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
      const fs::path out = dir / fmt::format("t{}-{}", threads, bounded ? "cache" : "all");
      fs::create_directories(out);
      auto o = options(out, 12);
      TrainingReport r;
      if (bounded) {  // one case in memory at a time: sample making waits on the cache's loads
        TrainingCohort c;
        for (const auto& p : *cases) c.cases.push_back(summarize_case(p, {}));
        c.cache = std::make_shared<CaseCache>(1, [cases](std::size_t i) { return cases->at(i); });
        r = train_network(c, o);
      } else {
        r = train_network(cases, o);
      }
      CHECK(r.stages[1].calls == 12);
      checkpoints.push_back(o.checkpoint);
    }
    for (std::size_t k = 1; k < checkpoints.size(); ++k) {
      CAPTURE(checkpoints[k]);
      CHECK(same_weights(checkpoints[0], checkpoints[k]));
    }
  }
}

TEST_CASE("a resumed run ends with the same weights as an uninterrupted one") {
  const auto cases = tiny_cohort();
  test::ScratchDir whole("train-whole"), parts("train-parts");
  auto ow = options(whole.path(), 24);
  train_network(cases, ow);
  auto op = options(parts.path(), 16);
  train_network(cases, op);
  CHECK(read_checkpoint_info(op.checkpoint).iteration == 16);
  op.iterations = 24;
  op.resume = true;
  const TrainingReport r = train_network(cases, op);
  CHECK(r.first_iteration == 16);
  CHECK(same_weights(ow.checkpoint, op.checkpoint));
}

TEST_CASE("with one case in memory at a time, training still resumes exactly and reads each case once an epoch") {
  const auto cases = tiny_cohort();
  auto cohort_with_one_case = [&] {
    TrainingCohort c;
    for (const auto& p : *cases) c.cases.push_back(summarize_case(p, {}));
    c.cache = std::make_shared<CaseCache>(1, [cases](std::size_t i) { return cases->at(i); });
    return c;
  };
  test::ScratchDir whole("train-one-whole"), parts("train-one-parts");
  const auto a = cohort_with_one_case();
  auto ow = options(whole.path(), 24);
  train_network(a, ow);
  // Fine axial samples of 3 tiny cases: 24 iterations span few epochs; each epoch reads each case
  // once, plus at most one re-read where prefetching crosses a block boundary.
  const std::int64_t pairs = SamplePlan(a.cases, View::Axial, Scale::Fine, 11, 1).size();
  const std::int64_t epochs = (24 + pairs - 1) / pairs;
  CHECK(a.cache->loads() <= epochs * 3 + 2 * epochs);
  const auto b = cohort_with_one_case();
  auto op = options(parts.path(), 16);
  train_network(b, op);
  op.iterations = 24;
  op.resume = true;
  train_network(b, op);
  CHECK(same_weights(ow.checkpoint, op.checkpoint));
}

TEST_CASE("c2f-train killed at random moments resumes to the same result, its checkpoint never corrupt") {
  test::ScratchDir dir("train-kill");
  const std::string phantom = std::string(C2F_PHANTOM_EXE) + " -q --out " + (dir / "cohort").string() +
                              " --cases 3 --seed 2 --size 48x48x24";
  REQUIRE(std::system(phantom.c_str()) == 0);
  const auto args = [&](const std::string& out) {
    return std::vector<std::string>{C2F_TRAIN_EXE, "-i", (dir / "cohort").string(), "-o", out, "--scale", "coarse",
                                    "--view", "S", "--iterations", "160", "--checkpoint-every", "10", "--min-share",
                                    "0.002", "--folds", "3", "--preset", "paper", "-q"};
  };
  // Reference: one uninterrupted run.
  REQUIRE(test::run(C2F_TRAIN_EXE, test::join_args(args((dir / "whole").string())), dir.path()).exit_code == 0);

  // Interrupted: SIGKILL at seeded random moments (start-up, loading, mid-step, mid-checkpoint
  // write), resumed after each, a bounded number of times.
  const auto ckpt = dir / "parts" / "coarse_sagittal.pt";
  std::mt19937 rng(20261125);
  std::uniform_int_distribution<int> moment_ms(50, 1800);
  std::int64_t last_seen = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto argv = args((dir / "parts").string());
    argv.push_back("--resume");
    const int ms = moment_ms(rng);
    CAPTURE(ms);
    if (!test::run_and_kill(argv, std::chrono::milliseconds(ms))) break;  // it finished first
    if (fs::exists(ckpt)) {  // whatever moment it died, the checkpoint is whole and readable
      const auto info = read_checkpoint_info(ckpt);
      CHECK(info.iteration % 10 == 0);
      CHECK(info.iteration >= last_seen);
      last_seen = info.iteration;
    }
  }
  auto argv = args((dir / "parts").string());
  argv.push_back("--resume");
  REQUIRE(test::run(C2F_TRAIN_EXE, test::join_args(argv), dir.path()).exit_code == 0);
  CHECK(read_checkpoint_info(ckpt).iteration == 160);
  for (const auto& e : fs::directory_iterator(dir / "parts")) {  // temporaries of killed writers are gone
    CAPTURE(e.path());
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
  CHECK(same_weights(dir / "whole" / "coarse_sagittal.pt", ckpt));
}
