#pragma once
// The cohort's page for people, OUTDIR/index.html, written by c2f-segment and c2f-eval at the end
// of a run. One self-contained file that a browser opens from disk: pictures inline as data: URIs,
// style and script inline, nothing fetched from anywhere.
//   a table, one row per case, sorted by clicking a header: a thumbnail (OUTDIR/<case>/thumbnail.png),
//     the coarse and final DSC (with a label), volume, QC flags (cut off at a slice or the field of
//     view's edge, components), iterations, final d(t), seconds, or the error of a failed case;
//   two charts as inline SVG, one line per case: d(t) and the DSC per iteration (t = 0: coarse).
// It is built from every OUTDIR/<case>/report.json (case_report), so cases that an earlier run
// finished (--resume) are on the page too. Every string from a report is escaped.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "../graphs/segmentation_graph.hpp"

namespace c2f {

struct ThumbnailOptions {
  double plane_px = 128;  // each plane fits a square of this side at its physical aspect, the rest black
  float window_lo_hu = -160, window_hi_hu = 240;  // abdominal soft-tissue window, as the overlays
};

// Axial, coronal and sagittal slices (left to right) through the mask's centroid, the CT windowed
// in grey, the mask outlined in red and the truth, when given, in green. A plane through the
// centroid that misses the mask (a curved organ) moves to the mask's fullest slice of that view;
// an empty mask gives the volume's middle slices. An 8-bit BGR picture, plane_px high and three
// squares (and two 2 px gaps) wide, whatever the scan's shape.
cv::Mat case_thumbnail(const Image& image, const Mask& mask, const Mask* truth, const ThumbnailOptions& options = {});

// Writes the case's thumbnail (its final mask, and its label) as case_dir/thumbnail.png,
// atomically. Throws OutputError. A failed case has none.
void write_case_thumbnail(const std::filesystem::path& case_dir, const CaseResult& result);

// A row of the page: the case's report as case_report writes it, or a failure's summary entry
// {"case", "error", "seconds"}; and its thumbnail's PNG bytes (empty: none).
struct CohortCase {
  nlohmann::json report;
  std::string thumbnail_png;
};

// The whole page. `title` is escaped.
std::string cohort_report_html(const std::vector<CohortCase>& cases, const std::string& title);

// The page's rows: every out_dir/<case>/report.json (a folder without one is not a case; an
// unreadable one gives a row with its error), in the order of the cases' names, and `failures`
// (summary entries of cases that failed in this run and so left no folder; one replaces an older
// folder of the same case).
std::vector<CohortCase> collect_cohort_cases(const std::filesystem::path& out_dir,
                                             const std::vector<nlohmann::json>& failures = {});

// Writes out_dir/index.html atomically from collect_cohort_cases and returns its path. Throws
// OutputError.
std::filesystem::path write_cohort_report(const std::filesystem::path& out_dir,
                                          const std::vector<nlohmann::json>& failures = {});

// Text made safe inside HTML elements and quoted attributes: & < > " ' as entities.
std::string html_escape(std::string_view text);

// RFC 4648 base64, with padding (for data: URIs).
std::string base64(std::string_view bytes);

}  // namespace c2f
