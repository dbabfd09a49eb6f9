#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "../../io/png.hpp"
#include "../../pipeline/errors.hpp"
#include "../../reports/cohort_report.hpp"
#include "../../reports/evaluation_report.hpp"
#include "../../reports/segmentation_outputs.hpp"
#include "../../reports/segmentation_summary.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
// A finished case on a 24 x 24 x 12 grid: CT rising from -200 to 200 HU along x (so the thumbnail
// is not one grey), a 4 x 4 x 4 block as the mask from (8, 8, 4), and when labelled the block moved
// by one voxel in x as the truth. A coarse round and two fine ones, d(2) = 0.97.
CaseResult finished_case(const std::string& id, bool with_label) {
  Geometry g;
  g.dims = {24, 24, 12};
  g.spacing_mm = {1, 1, 2};
  CaseResult r;
  r.input.id = id;
  r.input.source = "/data/" + id + ".nii.gz";
  r.input.layout = canonical_layout(g);
  auto image = std::make_shared<Image>(g, 0.f);
  for (std::int64_t z = 0; z < g.dims[2]; ++z)
    for (std::int64_t y = 0; y < g.dims[1]; ++y)
      for (std::int64_t x = 0; x < g.dims[0]; ++x) (*image)(x, y, z) = float(-200 + 400 * x / (g.dims[0] - 1));
  r.input.image = image;
  r.mask = Mask(g, 0);
  Mask truth(g, 0);
  for (std::int64_t z = 4; z < 8; ++z)
    for (std::int64_t y = 8; y < 12; ++y)
      for (std::int64_t x = 8; x < 12; ++x) r.mask(x, y, z) = truth(x + 1, y, z) = 1;
  if (with_label) r.input.label = std::make_shared<Mask>(truth);
  r.network_grid = g;
  const double dsc[] = {0.5, 0.625, 0.75}, d_t[] = {-1, 0.875, 0.97};
  for (int t = 0; t < 3; ++t) {
    RoundRecord rec;
    rec.iteration = t;
    rec.region = Box3::whole(g.dims);
    rec.voxels = 64;
    rec.box = {{8, 8, 4}, {12, 12, 8}};
    rec.d_t = d_t[t];
    if (with_label) rec.dsc = dsc[t], rec.truth_in_box = 0.75;
    r.rounds.push_back(rec);
  }
  r.stop = StopReason::Converged;
  r.seconds = 2.5;
  return r;
}

std::string read_text(const fs::path& p) { return test::read_bytes(p); }

// Pixels of the paper's prediction red (BGR 0, 0, 255 in OpenCV) in a picture.
int red_pixels(const cv::Mat& bgr) {
  int n = 0;
  for (int r = 0; r < bgr.rows; ++r)
    for (int c = 0; c < bgr.cols; ++c) n += bgr.at<cv::Vec3b>(r, c) == cv::Vec3b(0, 0, 255);
  return n;
}
}  // namespace

TEST_CASE("html_escape turns the five HTML specials into entities and leaves the rest") {
  CHECK(html_escape("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  CHECK(html_escape("PANCREAS_0001 (ok)") == "PANCREAS_0001 (ok)");
}

TEST_CASE("base64 gives the RFC 4648 test vectors") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\x00\xfe", 3)) == "/wD+");
}

TEST_CASE("a thumbnail shows three planes in squares of one size with the mask outlined in red") {
  const CaseResult r = finished_case("c1", false);
  ThumbnailOptions o;
  o.plane_px = 96;
  const cv::Mat t = case_thumbnail(*r.input.image, r.mask, nullptr, o);
  CHECK(t.rows == 96);
  CHECK(t.type() == CV_8UC3);
  // Axial 24 x 24 mm, coronal and sagittal 24 x 24 mm (12 slices of 2 mm): three 96 px squares
  // and two 2 px gaps.
  CHECK(t.cols == 3 * 96 + 2 * 2);
  CHECK(red_pixels(t) > 0);
  // An empty mask: the middle slices and no outline.
  const cv::Mat empty = case_thumbnail(*r.input.image, Mask(r.mask.geometry(), 0), nullptr, o);
  CHECK(empty.size() == t.size());
  CHECK(red_pixels(empty) == 0);
  // A tall scan (24 x 24 mm, 60 slices of 2 mm), 40 HU (mid grey): the coronal plane is 38 x 96 px,
  // centred in its square between black bars; the thumbnail keeps its size.
  Geometry tall = r.mask.geometry();
  tall.dims[2] = 60;
  const cv::Mat t2 = case_thumbnail(Image(tall, 40.f), Mask(tall, 0), nullptr, o);
  CHECK(t2.size() == t.size());
  const int coronal_left = 96 + 2;
  CHECK(t2.at<cv::Vec3b>(48, coronal_left + 5) == cv::Vec3b(0, 0, 0));
  CHECK(t2.at<cv::Vec3b>(48, coronal_left + 48)[0] > 100);
  CHECK(t2.at<cv::Vec3b>(48, 96) == cv::Vec3b(255, 255, 255));  // the gap
  Geometry other = r.mask.geometry();
  other.dims[0] = 10;
  CHECK_THROWS_AS(case_thumbnail(*r.input.image, Mask(other, 0), nullptr, o), std::invalid_argument);
}

TEST_CASE("the cohort page holds every case with its thumbnail and the escaped error of a failed one") {
  test::ScratchDir dir("cohort-report");
  const fs::path out = dir.path() / "out";
  OutputOptions options;
  options.dicom_seg = false;
  write_case_outputs(out, finished_case("case_a", true), options);
  write_case_outputs(out, finished_case("case_b", false), options);
  REQUIRE(fs::exists(out / "case_a" / "thumbnail.png"));
  const Picture thumbnail = decode_png(read_text(out / "case_a" / "thumbnail.png"));
  CHECK(thumbnail.height == 128);
  CaseResult failed;
  failed.error = "/data/case_c.nii.gz: not a <NIfTI> file & \"broken\"";
  failed.seconds = 0.25;
  const std::vector<nlohmann::json> failures{summary_entry(failed, "case_c")};
  // A folder without report.json is not a case.
  fs::create_directories(out / "not_a_case");

  const fs::path page = write_cohort_report(out, failures);
  CHECK(page == out / "index.html");
  const std::string html = read_text(page);
  CHECK(html.starts_with("<!DOCTYPE html>"));
  for (const char* id : {"case_a", "case_b", "case_c"})
    CHECK(html.find(std::string("<tr id=\"case-") + id) != std::string::npos);
  CHECK(html.find("not_a_case") == std::string::npos);
  CHECK(html.find("not a &lt;NIfTI&gt; file &amp; &quot;broken&quot;") != std::string::npos);
  CHECK(html.find("<NIfTI>") == std::string::npos);
  // Two thumbnails inline, nothing fetched from elsewhere.
  std::size_t images = 0;
  for (std::size_t at = html.find("src=\"data:image/png;base64,"); at != std::string::npos;
       at = html.find("src=\"data:image/png;base64,", at + 1))
    ++images;
  CHECK(images == 2);
  for (const char* external : {"src=\"http", "href=\"http", "src='http", "href='http", "url(http", "<link", "@import"})
    CHECK_MESSAGE(html.find(external) == std::string::npos, external);
  // The finished cases' numbers: DSC coarse and final of case_a, 64 voxels of 2 mm^3 = 0.128 ml.
  CHECK(html.find(">0.5000<") != std::string::npos);
  CHECK(html.find(">0.7500<") != std::string::npos);
  CHECK(html.find(">0.13<") != std::string::npos);
  // Both charts, one line per finished case in the d(t) chart, one (case_a) in the DSC chart.
  CHECK(html.find("<svg") != html.rfind("<svg"));
  std::size_t lines = 0;
  for (std::size_t at = html.find("<polyline"); at != std::string::npos; at = html.find("<polyline", at + 1)) ++lines;
  CHECK(lines == 3);
  CHECK(html.find("data-ready") != std::string::npos);  // the sort script marks the table
  // No temporary left beside the page.
  for (const auto& e : fs::directory_iterator(out))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE(
    "a failure of this run replaces an older folder of the same case and an unreadable report gives an error row") {
  test::ScratchDir dir("cohort-report-replace");
  const fs::path out = dir.path() / "out";
  OutputOptions options;
  options.overlays = false;
  write_case_outputs(out, finished_case("case_a", true), options);
  fs::create_directories(out / "case_z");
  test::write_bytes(out / "case_z" / "report.json", "{ not json");
  CaseResult failed;
  failed.error = "case_a: the infer stage failed: out of memory";
  const std::vector<CohortCase> cases = collect_cohort_cases(out, {summary_entry(failed, "case_a")});
  REQUIRE(cases.size() == 2);
  CHECK(cases[0].report["case"] == "case_a");
  CHECK(cases[0].report["error"] == failed.error);
  CHECK(cases[0].thumbnail_png.empty());
  CHECK(cases[1].report["case"] == "case_z");
  CHECK(cases[1].report["error"].get<std::string>().find("unreadable") != std::string::npos);
}

TEST_CASE("a page without labels says so in the DSC chart and shows dashes for the DSC") {
  const nlohmann::json report = case_report(finished_case("case_b", false));
  const std::string html = cohort_report_html({CohortCase{report, {}}}, "t <1>");
  CHECK(html.find("<title>t &lt;1&gt;</title>") != std::string::npos);
  CHECK(html.find("no case has a label") != std::string::npos);
  CHECK(html.find("with a label: 0") != std::string::npos);
}

TEST_CASE("c2f-eval's case folder holds the result up to the first d(t) above 0.95 with its thumbnail") {
  test::ScratchDir dir("cohort-report-eval");
  CaseResult r = finished_case("case_e", true);
  // Three fine rounds, d(t) = 0.875, 0.97, 0.99: the method stops at t = 2.
  RoundRecord extra = r.rounds.back();
  extra.iteration = 3;
  extra.d_t = 0.99;
  extra.dsc = 0.8125;
  r.rounds.push_back(extra);
  r.stop = StopReason::MaxIterations;
  for (std::size_t t = 0; t < r.rounds.size(); ++t) r.round_masks.push_back(std::make_shared<Mask>(r.mask));
  write_evaluation_case_outputs(dir.path(), r, 1);
  const nlohmann::json j = nlohmann::json::parse(read_text(dir / "case_e/report.json"));
  CHECK(j["iterations"] == 2);
  CHECK(j["stop"] == "converged");
  CHECK(j["d_t"] == nlohmann::json{0.875, 0.97});
  CHECK(j["dsc"] == 0.75);
  CHECK(j["fold"] == 1);
  CHECK(fs::exists(dir / "case_e/thumbnail.png"));
  r.round_masks.pop_back();
  CHECK_THROWS_AS(write_evaluation_case_outputs(dir.path(), r, 1), Error);
}
