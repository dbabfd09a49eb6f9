// Outputs recorded before the graph redesign (issue 13), held against today's: the masks and
// reports of c2f-segment on hidden-seed phantoms, and the weights of a short training run. A
// change of wiring must not change a voxel or a weight. To record them anew on purpose (a change
// of method, not of wiring), run this suite with C2F_RECORD_GOLDEN=1 and commit the file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../../graphs/training_graph.hpp"
#include "../../io/nifti.hpp"
#include "../../model/checkpoint.hpp"
#include "../../phantom/phantom.hpp"
#include "test_support.hpp"
#include "tools/tool_runner.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
const fs::path kGolden = fs::path(C2F_SOURCE_DIR) / "tests" / "data" / "golden";

bool recording() {
  const char* v = std::getenv("C2F_RECORD_GOLDEN");
  return v && std::string(v) == "1";
}

// FNV-1a over bytes: enough to tell two masks or two weight sets apart.
std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// The report without what differs from run to run (times) or machine to machine (paths).
nlohmann::json comparable(nlohmann::json report) {
  for (const char* key : {"seconds", "stage_seconds", "source", "label"}) report.erase(key);
  return report;
}

// Where `now` differs from what was recorded: every recorded value must be there unchanged; an
// object may have gained keys (a new field in a report changes no recorded output).
void differences(const nlohmann::json& then, const nlohmann::json& now, const std::string& at, std::vector<std::string>& out) {
  if (then.is_object() && now.is_object()) {
    for (const auto& [key, value] : then.items()) {
      if (!now.contains(key)) out.push_back(at + "/" + key + " is missing");
      else differences(value, now[key], at + "/" + key, out);
    }
  } else if (then != now) {
    out.push_back(at + ": recorded " + then.dump() + ", now " + now.dump());
  }
}

// Compares with the recorded file, or records it.
void check_against_golden(const std::string& name, const nlohmann::json& now) {
  const fs::path file = kGolden / name;
  if (recording()) {
    fs::create_directories(kGolden);
    std::ofstream(file) << now.dump(1) << "\n";
    MESSAGE("recorded " << file.string());
    return;
  }
  REQUIRE_MESSAGE(fs::exists(file), file.string() << " is missing: record it with C2F_RECORD_GOLDEN=1");
  std::vector<std::string> found;
  differences(read_json(file), now, name, found);
  for (const std::string& d : found) FAIL_CHECK(d);
  CHECK(found.empty());
}
}  // namespace

TEST_CASE("c2f-segment's masks and reports on hidden-seed phantoms are the ones recorded before the redesign") {
  test::ScratchDir dir("golden-segment");
  // Seed 9137 was never used for training; the first case runs on the 2 mm grid of the shipped
  // networks through the resampler, as every input does.
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 2 --seed 9137 --size 96x96x48",
                     dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = test::run(C2F_SEGMENT_EXE, "-i " + (dir / "cohort").string() + " -o " + (dir / "out").string() + " -q", dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  nlohmann::json now;
  const nlohmann::json summary = read_json(dir / "out" / "summary.json");
  for (const auto& c : summary["cases"]) {
    const std::string id = c["case"];
    const Mask mask = read_nifti_mask(dir / "out" / id / "mask.nii.gz").mask;
    now[id]["report"] = comparable(read_json(dir / "out" / id / "report.json"));
    now[id]["mask_fnv1a"] = fmt::format("{:016x}", fnv1a(mask.data(), mask.size()));
    now[id]["mask_voxels"] = std::count(mask.data(), mask.data() + mask.size(), std::uint8_t{1});
  }
  REQUIRE(now.size() == 2);
  check_against_golden("segment-seed9137.json", now);

  // c2f-eval on the same cases: every round kept, the oracle box, Tables 1-3 and the per-case rows.
  r = test::run(C2F_EVAL_EXE, "-i " + (dir / "cohort").string() + " -m " + C2F_SOURCE_DIR + "/weights/phantom-light-unet -o " +
                                  (dir / "eval").string() + " -q",
                dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  nlohmann::json tables;
  std::ifstream md(dir / "eval" / "tables.md");
  std::vector<std::string> lines;
  for (std::string line; std::getline(md, line);) {
    if (line == "## Seconds per case") {  // the run's times: the last section
      if (!lines.empty() && lines.back().empty()) lines.pop_back();
      break;
    }
    if (line.find(" s in all") == std::string::npos) lines.push_back(line);
  }
  REQUIRE(md.good());  // the times section is there
  tables["tables.md"] = lines;
  std::ifstream csv(dir / "eval" / "per_case.csv");
  lines.clear();
  for (std::string line; std::getline(csv, line);) lines.push_back(line.substr(0, line.rfind(',')));  // less seconds
  tables["per_case.csv"] = lines;
  check_against_golden("eval-seed9137.json", tables);
}

TEST_CASE("a short training run ends with the weights recorded before the redesign") {
  PhantomOptions p;
  p.size = {48, 48, 24};
  p.seed = 4;
  auto cases = std::make_shared<std::vector<PreparedCase>>();
  for (int i = 0; i < 3; ++i) cases->push_back(prepare_case(make_phantom(p, i).c, {}));
  test::ScratchDir dir("golden-train");
  nlohmann::json now;
  for (const Scale scale : {Scale::Coarse, Scale::Fine}) {
    TrainingOptions o;
    o.scale = scale;
    o.view = View::Sagittal;
    o.iterations = 12;
    o.checkpoint_every = 12;
    o.seed = 23;
    o.checkpoint = dir / "net.pt";
    o.log_csv = dir / "net.csv";
    fs::remove(o.checkpoint);
    train_network(cases, o);
    std::uint64_t h = 1469598103934665603ull;
    for (const auto& t : load_checkpoint(o.checkpoint).model->parameters()) {
      const auto c = t.contiguous();
      h = fnv1a(c.data_ptr(), std::size_t(c.numel()) * c.element_size(), h);
    }
    now[scale == Scale::Coarse ? "coarse" : "fine"] = fmt::format("{:016x}", h);
  }
  check_against_golden("train-seed23.json", now);
}
