// c2f-eval end to end on small phantom cases with the shipped weights.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../../io/folds.hpp"

#include "tools/tool_runner.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream in(test::read_bytes(p));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream l(line);
    for (std::string cell; std::getline(l, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}
}  // namespace

TEST_CASE("c2f-eval writes the three tables, per-case rows and plots from one pass per case") {
  test::ScratchDir dir("eval");
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 3 --seed 99 --size 96x96x48", dir.path());
  REQUIRE(r.exit_code == 0);
  r = test::run(C2F_EVAL_EXE,
                "-i " + (dir / "cohort").string() + " -m " + C2F_SOURCE_DIR + "/weights/phantom-light-unet -o " +
                    (dir / "eval").string() + " --iterations 3 -q",
                dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (const char* f : {"tables.md", "table1.csv", "table2.csv", "table3.csv", "per_case.csv", "d_t.png", "iterations.png",
                        "dsc_coarse_vs_fine.png"})
    CHECK_MESSAGE(fs::file_size(dir / "eval" / f) > 0, f);
  const std::string md = test::read_bytes(dir / "eval" / "tables.md");
  for (const char* row : {"| coarse, coronal |", "| coarse, fused |", "| fine, 1 iteration |", "| fine, 3 iterations |",
                          "| fine, stop at d(t) > 0.95 |", "| fine, best of all iterations |", "| fine, oracle bounding box |",
                          "HD95 (mm)"})
    CHECK_MESSAGE(md.find(row) != std::string::npos, row);
  CHECK(md.find("| fine, 5 iterations |") == std::string::npos);  // T = 3

  // The table's coarse mean is the mean of the per-case coarse DSCs.
  const auto cases = read_csv(dir / "eval" / "per_case.csv");
  REQUIRE(cases.size() == 4);
  double coarse = 0;
  for (std::size_t i = 1; i < cases.size(); ++i) coarse += std::stod(cases[i][5]);
  const auto t2 = read_csv(dir / "eval" / "table2.csv");
  REQUIRE(t2.at(1).at(0) == "\"coarse\"");
  CHECK(std::stod(t2[1][1]) == doctest::Approx(100 * coarse / 3).epsilon(1e-4));
  // Each case's best iteration is at least as good as any of its rows.
  for (std::size_t i = 1; i < cases.size(); ++i)
    for (int col : {6, 7, 8}) CHECK(std::stod(cases[i][16]) >= std::stod(cases[i][std::size_t(col)]));

  // The cohort page, built from each case's folder: the method's result, stop at d(t) > 0.95, as
  // per_case.csv has it (iterations_095, dsc_stop_095).
  const fs::path page = dir / "eval" / "index.html";
  CHECK(r.out.find("report: " + page.string()) != std::string::npos);
  const std::string html = test::read_bytes(page);
  for (std::size_t i = 1; i < cases.size(); ++i) {
    const std::string id = cases[i][0];
    CAPTURE(id);
    CHECK(html.find("<tr id=\"case-" + id + "\"") != std::string::npos);
    CHECK(fs::file_size(dir / "eval" / id / "thumbnail.png") > 0);
    const auto report = nlohmann::json::parse(test::read_bytes(dir / "eval" / id / "report.json"));
    CHECK(report["iterations"] == std::stoi(cases[i][11]));
    CHECK(report["dsc"].get<double>() == doctest::Approx(std::stod(cases[i][13])).epsilon(1e-5));
  }
}

TEST_CASE("c2f-eval refuses a cohort without labels, naming the image") {
  test::ScratchDir dir("eval-bad");
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "c").string() + " --cases 1 --seed 3 --size 32x32x16", dir.path());
  REQUIRE(r.exit_code == 0);
  fs::remove(dir / "c" / "phantom_000_label.nii.gz");
  r = test::run(C2F_EVAL_EXE, "-i " + (dir / "c" / "phantom_000.nii.gz").string() + " -m " + C2F_SOURCE_DIR +
                                  "/weights/phantom-light-unet -o " + (dir / "e").string(),
                dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("phantom_000.nii.gz") != std::string::npos);
  CHECK(r.err.find("label") != std::string::npos);
}

namespace {
// DIR/cohort: 4 small phantoms; DIR/models: a 2-fold cross-validation of them, 2 iterations each.
void train_two_folds(const fs::path& dir) {
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 4 --seed 21 --size 40x40x20", dir);
  REQUIRE(r.exit_code == 0);
  for (int k : {0, 1}) {
    r = test::run(C2F_TRAIN_EXE,
                  "-i " + (dir / "cohort").string() + " -o " + (dir / "models").string() + " --folds 2 --fold " +
                      std::to_string(k) + " --iterations 2 --checkpoint-every 2 --log-every 2 --min-share 0.001 --preset paper -q",
                  dir);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
}
}  // namespace

TEST_CASE("c2f-eval cross-validates: each case once, tested by the models of the fold that left it out") {
  test::ScratchDir dir("eval-cv");
  train_two_folds(dir.path());
  const auto r = test::run(C2F_EVAL_EXE,
                      "-i " + (dir / "cohort").string() + " -m " + (dir / "models").string() + " -o " + (dir / "eval").string() +
                          " --iterations 2 --no-oracle -q",
                      dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const Folds folds = read_folds(dir / "models" / "folds.json");
  REQUIRE(folds.folds.size() == 2);
  const auto rows = read_csv(dir / "eval" / "per_case.csv");
  REQUIRE(rows.size() == 5);
  std::set<std::string> seen;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::string& id = rows[i][0];
    const int fold = std::stoi(rows[i][1]);
    REQUIRE((fold == 0 || fold == 1));
    const auto& members = folds.folds[std::size_t(fold)];
    CHECK(std::find(members.begin(), members.end(), id) != members.end());
    seen.insert(id);
  }
  CHECK(seen.size() == 4);
  CHECK(r.out.find("4 case(s), 2 fold(s)") != std::string::npos);

  // DeepOrgan's sets follow the same folds: a folder with fold0/ but no fold1/ is refused before
  // anything runs, naming the missing fold.
  fs::create_directories(dir / "deeporgan");
  fs::create_directory_symlink(fs::path(C2F_SOURCE_DIR) / "weights" / "phantom-deeporgan", dir / "deeporgan" / "fold0");
  const auto bad = test::run(C2F_EVAL_EXE,
                             "-i " + (dir / "cohort").string() + " -m " + (dir / "models").string() + " -o " +
                                 (dir / "eval-do").string() + " --iterations 2 --no-oracle -q --deeporgan " +
                                 (dir / "deeporgan").string(),
                             dir.path());
  CHECK(bad.exit_code == 1);
  CHECK(test::count_lines(bad.err) == 1);
  CHECK(bad.err.find((dir / "deeporgan" / "fold1").string()) != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "eval-do"));
}

TEST_CASE("c2f-eval in 2 parts and a merge writes the tables of one whole run with every case in its fold") {
  test::ScratchDir dir("eval-parts");
  train_two_folds(dir.path());
  test::ToolResult r;
  const std::string common = "-i " + (dir / "cohort").string() + " -m " + (dir / "models").string() + " --iterations 2 -q -o ";
  const fs::path whole = dir / "whole", parts = dir / "parts";
  r = test::run(C2F_EVAL_EXE, common + whole.string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // Part 1 from a Kubernetes Indexed Job's environment, part 0 from the options.
  r = test::run("JOB_COMPLETION_INDEX=1 C2F_NUM_PARTS=2 " + std::string(C2F_EVAL_EXE), common + parts.string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_FALSE(fs::exists(parts / "tables.md"));  // a part makes no tables of its own
  r = test::run(C2F_EVAL_EXE, "--merge " + common + parts.string(), dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("missing: 2 of the cohort's 4 case(s)") != std::string::npos);
  CHECK(test::count_lines(r.err) == 1);
  r = test::run(C2F_EVAL_EXE, common + parts.string() + " --num-parts 2 --part-id 0", dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = test::run(C2F_EVAL_EXE, "--merge " + common + parts.string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  // The same bytes but for the seconds, which time each run: tables.md's last section, and
  // table3.csv's last two columns.
  for (const char* f : {"table1.csv", "table2.csv", "d_t.png", "iterations.png", "dsc_coarse_vs_fine.png"})
    CHECK_MESSAGE(test::read_bytes(parts / f) == test::read_bytes(whole / f), f);
  const auto untimed_tables = [](const fs::path& f) {
    const std::string md = test::read_bytes(f);
    const auto at = md.find("\n## Seconds per case\n");
    REQUIRE(at != std::string::npos);
    return md.substr(0, at);
  };
  CHECK(untimed_tables(parts / "tables.md") == untimed_tables(whole / "tables.md"));
  auto t3a = read_csv(whole / "table3.csv"), t3b = read_csv(parts / "table3.csv");
  for (auto* rows : {&t3a, &t3b})
    for (auto& row : *rows) row.resize(row.size() - 2);
  CHECK(t3a == t3b);
  auto a = read_csv(whole / "per_case.csv"), b = read_csv(parts / "per_case.csv");
  REQUIRE(a.size() == 5);
  REQUIRE(b.size() == 5);
  for (auto* rows : {&a, &b})
    for (auto& row : *rows) row.pop_back();
  CHECK(a == b);  // same cases, same order, same folds and measures
  // A whole run's folder merges to its own files, byte for byte.
  const std::string per_case = test::read_bytes(whole / "per_case.csv");
  r = test::run(C2F_EVAL_EXE, "--merge " + common + whole.string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::read_bytes(whole / "per_case.csv") == per_case);
}

TEST_CASE("c2f-eval --deeporgan adds DeepOrgan's Table 3 rows, seconds and candidate figures from the shipped set") {
  test::ScratchDir dir("eval-deeporgan");
  // One small case: DeepOrgan's R-ConvNet runs once per candidate superpixel and scale.
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 1 --seed 98 --size 48x48x24", dir.path());
  REQUIRE(r.exit_code == 0);
  const std::string weights = std::string(C2F_SOURCE_DIR) + "/weights/";
  const std::string common = "-i " + (dir / "cohort").string() + " -m " + weights + "phantom-light-unet --iterations 2 --no-oracle -q ";
  r = test::run(C2F_EVAL_EXE, common + "-o " + (dir / "eval").string() + " --deeporgan " + weights + "phantom-deeporgan", dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string md = test::read_bytes(dir / "eval" / "tables.md");
  for (const char* row : {"| c2f (coarse-to-fine) |", "| DeepOrgan G(P0) |", "| DeepOrgan G(P2) |",
                          "| DeepOrgan candidates (S_RF) sensitivity |", "| DeepOrgan superpixel upper bound DSC |",
                          "## Seconds per case", "| DeepOrgan | ", "R-ConvNet "})
    CHECK_MESSAGE(md.find(row) != std::string::npos, row);
  // Table 3's DeepOrgan rows are the per-case records' values, with their seconds.
  const auto t3 = read_csv(dir / "eval" / "table3.csv");
  REQUIRE(t3.size() == 4);  // header, c2f, G(P0), G(P2)
  CHECK(t3[3][0] == "\"DeepOrgan G(P2)\"");
  const auto j = nlohmann::json::parse(test::read_bytes(dir / "eval" / "cases" / "phantom_000.json"));
  const double dsc = j.at("baseline_dsc").at("DeepOrgan G(P2)").get<double>();
  CHECK(dsc >= 0.0);
  CHECK(dsc <= 1.0);
  CHECK(std::stod(t3[3][1]) == doctest::Approx(100 * dsc).epsilon(1e-3));
  const double seconds = j.at("baseline_seconds").at("DeepOrgan G(P2)").get<double>();
  CHECK(seconds > 0);
  CHECK(std::stod(t3[3][8]) == doctest::Approx(seconds).epsilon(1e-3));  // seconds per case
  CHECK(j.at("stage_seconds").at("DeepOrgan").contains("R-ConvNet"));
  CHECK(j.at("stage_seconds").at("c2f (coarse-to-fine)").contains("infer"));
  CHECK(j.at("measures").at("DeepOrgan candidates (S_RF) sensitivity").get<double>() > 0.5);

  // A coarse-to-fine folder given as the DeepOrgan set: one line naming it, and no tables.
  r = test::run(C2F_EVAL_EXE, common + "-o " + (dir / "bad").string() + " --deeporgan " + weights + "phantom-light-unet", dir.path());
  CHECK(r.exit_code != 0);
  CHECK(test::count_lines(r.err) == 1);
  CHECK(r.err.find("phantom-light-unet") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "bad" / "tables.md"));
}
