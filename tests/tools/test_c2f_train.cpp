// c2f-train as an array job (--list-jobs, --job) and its device options, run as a user runs them.
#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "tools/tool_runner.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::set<fs::path> checkpoints_under(const fs::path& dir) {
  std::set<fs::path> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".pt") found.insert(fs::relative(e.path(), dir));
  return found;
}

// The SHA-256 of every tensor record of a checkpoint (weights, optimiser state, random generator
// state), sorted. The archive's other bytes are not reproducible from run to run: LibTorch names
// the optimiser's state by tensor addresses and numbers its module classes per process.
std::string tensor_digests(const fs::path& checkpoint, const fs::path& scratch) {
  const auto r = test::run(C2F_PYTHON,
                           "-c \"import hashlib, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                           "print(sorted(hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if '/data/' in n))\" " +
                               checkpoint.string(),
                           scratch);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out;
}

// The fastest training the tools allow: 2 iterations per network on 40x40x20 phantoms.
const std::string kFast = " --iterations 2 --checkpoint-every 2 --log-every 2 --min-share 0.001 --preset paper -q";
}  // namespace

TEST_CASE("c2f-train --list-jobs prints folds x 2 scales x 3 views networks with the checkpoints c2f-eval reads") {
  test::ScratchDir dir("train-list");
  const auto r = test::run(C2F_TRAIN_EXE, "--list-jobs --folds 4 -o " + (dir / "models").string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 24);
  CHECK(lines[0] == "0 0 coarse coronal " + (dir / "models" / "fold0" / "coarse_coronal.pt").string());
  CHECK(lines[23] == "23 3 fine axial " + (dir / "models" / "fold3" / "fine_axial.pt").string());
  CHECK_FALSE(fs::exists(dir / "models"));  // listing writes nothing
  // One fold, or fewer scales and views, list fewer jobs.
  CHECK(lines_of(test::run(C2F_TRAIN_EXE, "--list-jobs --fold 1 -o m", dir.path()).out).size() == 6);
  CHECK(lines_of(test::run(C2F_TRAIN_EXE, "--list-jobs --folds 2 --scale fine --view A -o m", dir.path()).out).size() == 2);
}

TEST_CASE("every job of a 2-fold cross-validation trains one checkpoint and together they equal whole runs of each fold") {
  test::ScratchDir dir("train-jobs");
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 4 --seed 21 --size 40x40x20", dir.path());
  REQUIRE(r.exit_code == 0);
  const std::string input = "-i " + (dir / "cohort").string() + " --folds 2" + kFast;
  for (int k : {0, 1}) {
    r = test::run(C2F_TRAIN_EXE, input + " --fold " + std::to_string(k) + " -o " + (dir / "whole").string(), dir.path());
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  const fs::path jobs = dir / "jobs";
  r = test::run(C2F_TRAIN_EXE, "--list-jobs --folds 2 -o " + jobs.string(), dir.path());
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 12);
  for (std::size_t k = 0; k < lines.size(); ++k) {
    CAPTURE(k);
    // The index from the job array's variable, as an sbatch script passes it.
    r = test::run("export SLURM_ARRAY_TASK_ID=" + std::to_string(k) + "; " + std::string(C2F_TRAIN_EXE),
                  input + " -o " + jobs.string() + " --job $SLURM_ARRAY_TASK_ID", dir.path());
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(checkpoints_under(jobs).size() == k + 1);  // exactly one more checkpoint
    const std::string path = lines[k].substr(lines[k].rfind(' ') + 1);
    CHECK(fs::exists(path));
  }
  const auto expected = checkpoints_under(dir / "whole");
  REQUIRE(expected.size() == 12);
  CHECK(checkpoints_under(jobs) == expected);
  CHECK(test::read_bytes(jobs / "folds.json") == test::read_bytes(dir / "whole" / "folds.json"));
  // Training is deterministic per network (seeded weights, sample plan and crops): bitwise the same tensors.
  for (const fs::path& p : expected) {
    CAPTURE(p);
    const std::string digests = tensor_digests(jobs / p, dir.path());
    CHECK(digests.size() > 100);
    CHECK(digests == tensor_digests(dir / "whole" / p, dir.path()));
  }
  r = test::run(C2F_TRAIN_EXE, input + " -o " + jobs.string() + " --job 12", dir.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--job 12 is not one of the 12 jobs") != std::string::npos);
  CHECK(test::count_lines(r.err) == 1);
}

TEST_CASE("c2f-train --device cpu trains and --device cuda without CUDA is one clear line and exit code 2") {
  test::ScratchDir dir("train-device");
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 2 --seed 21 --size 40x40x20", dir.path());
  REQUIRE(r.exit_code == 0);
  const std::string args = "-i " + (dir / "cohort").string() + " --folds 2 --scale coarse --view A" + kFast;
  r = test::run(C2F_TRAIN_EXE, args + " -o " + (dir / "m").string() + " --device cpu --precision fp32", dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(fs::exists(dir / "m" / "coarse_axial.pt"));
  struct Bad {
    std::string args, says;
  };
  const Bad cases[] = {
      {" --device cuda", "no CUDA device available"},
      {" --device cuda:1", "no CUDA device available"},
      {" --device tpu", "unknown device"},
      {" --precision bf16", "bf16 needs a CUDA device"},
      {" --precision int8", "--precision"},
  };
  // `--device cuda --list-jobs` checks the device and trains nothing: does this machine have CUDA?
  const bool cuda = test::run(C2F_TRAIN_EXE, "--list-jobs --device cuda -o m", dir.path()).exit_code == 0;
  if (cuda) MESSAGE("this machine has CUDA: the --device cuda refusals are not tested");
  for (const Bad& b : cases) {
    if (cuda && b.args.find("cuda") != std::string::npos) continue;
    r = test::run(C2F_TRAIN_EXE, args + b.args + " -o " + (dir / "bad").string(), dir.path());
    INFO(b.args << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(b.says) != std::string::npos);
    CHECK(test::count_lines(r.err) == 1);
    CHECK_FALSE(fs::exists(dir / "bad"));
  }
}
