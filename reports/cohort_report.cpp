#include "cohort_report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "../io/overlay.hpp"
#include "../io/png.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace fs = std::filesystem;

namespace c2f {

namespace {
// The slice of `view` through the mask: the centroid's, or the fullest one when that slice misses
// the mask; the middle slice when the mask is empty.
std::int64_t slice_through(const Mask& mask, View view) {
  const int axis = slice_axis(view);
  std::vector<std::int64_t> count(std::size_t(mask.dims()[axis]), 0);
  double sum = 0;
  std::int64_t total = 0;
  for (std::int64_t z = 0; z < mask.nz(); ++z)
    for (std::int64_t y = 0; y < mask.ny(); ++y)
      for (std::int64_t x = 0; x < mask.nx(); ++x)
        if (mask(x, y, z)) {
          const std::int64_t k = axis == 0 ? x : axis == 1 ? y : z;
          ++count[std::size_t(k)];
          sum += double(k);
          ++total;
        }
  if (total == 0) return mask.dims()[axis] / 2;
  const auto centroid = std::int64_t(std::lround(sum / double(total)));
  if (count[std::size_t(centroid)] > 0) return centroid;
  return std::int64_t(std::max_element(count.begin(), count.end()) - count.begin());
}

std::optional<double> number_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

std::string text_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

std::vector<double> numbers_at(const nlohmann::json& j, const char* key) {
  std::vector<double> out;
  if (j.is_object() && j.contains(key) && j[key].is_array())
    for (const auto& v : j[key])
      if (v.is_number()) out.push_back(v.get<double>());
  return out;
}

// A sortable numeric cell: the value for sorting, the text shown ("-" when there is none).
std::string number_cell(std::optional<double> v, const char* format, const std::string& title = {}) {
  const std::string t = title.empty() ? std::string() : fmt::format(" title=\"{}\"", html_escape(title));
  if (!v || !std::isfinite(*v)) return fmt::format("<td class=\"num\" data-value=\"\"{}>-</td>", t);
  return fmt::format("<td class=\"num\" data-value=\"{}\"{}>{}</td>", *v, t, fmt::format(fmt::runtime(format), *v));
}

// Ten colours that stay apart on white (matplotlib's tab10).
constexpr std::array<const char*, 10> kPalette{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

struct Series {
  std::string name;
  std::size_t colour = 0;  // the case's place among the finished ones: the same colour in both charts
  std::vector<double> x, y;
};

// A line chart, one line with dots per series, as an inline <svg>. x is the iteration (integer
// ticks); y runs from y_min to 1.
std::string svg_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                      const std::vector<Series>& series, double x_min, const std::string& empty_note) {
  constexpr double width = 560, height = 330, left = 58, right = 16, top = 30, bottom = 46;
  double x_max = x_min + 1, y_min = 0.9;
  for (const Series& s : series) {
    for (double x : s.x) x_max = std::max(x_max, x);
    for (double y : s.y) y_min = std::min(y_min, std::floor(y * 10) / 10);
  }
  y_min = std::clamp(y_min, 0.0, 0.9);
  const double y_max = 1.0, plot_w = width - left - right, plot_h = height - top - bottom;
  const auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_w; };
  const auto py = [&](double y) { return top + (y_max - std::clamp(y, y_min, y_max)) / (y_max - y_min) * plot_h; };

  std::string svg = fmt::format(
      "<svg class=\"chart\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-label=\"{2}\">\n<text x=\"{3}\" y=\"18\" class=\"title\">{2}</text>\n",
      width, height, html_escape(title), left);
  // Grid and ticks: y every 0.1 (0.05 on a short range), x every iteration (every few on a long run).
  const double y_step = y_max - y_min <= 0.2 ? 0.05 : 0.1;
  for (double y = y_min; y <= y_max + 1e-9; y += y_step)
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>"
        "<text class=\"tick\" x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.2f}</text>\n",
        left, width - right, py(y), left - 6, py(y) + 4, y);
  const int x_step = std::max(1, int(std::ceil((x_max - x_min) / 12)));
  for (int x = int(x_min); x <= int(x_max); x += x_step)
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\"/>"
        "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        px(x), top, height - bottom, height - bottom + 16, x);
  svg +=
      fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", left, top, plot_w, plot_h);
  svg += fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     left + plot_w / 2, height - 8, html_escape(x_label));
  svg += fmt::format(
      "<text class=\"label\" transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      top + plot_h / 2, html_escape(y_label));
  if (series.empty())
    svg += fmt::format("<text class=\"note\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       left + plot_w / 2, top + plot_h / 2, html_escape(empty_note));
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const char* colour = kPalette[s.colour % kPalette.size()];
    std::string points;
    for (std::size_t k = 0; k < s.x.size(); ++k)
      points += fmt::format("{}{:.1f},{:.1f}", k ? " " : "", px(s.x[k]), py(s.y[k]));
    svg += fmt::format(
        "<g class=\"series\" stroke=\"{0}\" fill=\"{0}\"><title>{1}</title>"
        "<polyline fill=\"none\" stroke-width=\"1.5\" points=\"{2}\"/>",
        colour, html_escape(s.name), points);
    for (std::size_t k = 0; k < s.x.size(); ++k)
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\"/>", px(s.x[k]), py(s.y[k]));
    svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

// The charts' legend: each finished case's colour.
std::string legend(const std::vector<std::string>& names) {
  std::string out = "<p class=\"legend\">";
  for (std::size_t i = 0; i < names.size(); ++i)
    out += fmt::format("<span><i style=\"background:{}\"></i>{}</span> ", kPalette[i % kPalette.size()],
                       html_escape(names[i]));
  return out + "</p>\n";
}

// What a reader should check before trusting the mask (the components have their own column);
// their number sorts the column.
std::pair<std::string, int> qc_flags(const nlohmann::json& r) {
  std::vector<std::string> flags;
  const nlohmann::json s = r.value("statistics", nlohmann::json::object());
  if (number_at(r, "voxels").value_or(1) == 0) flags.push_back("empty mask");
  if (s.value("incomplete", false)) {
    std::string where;
    for (const auto& [key, name] :
         {std::pair{"touches_first_slice", "first slice"}, std::pair{"touches_last_slice", "last slice"},
          std::pair{"touches_field_of_view_edge", "edge of the field of view"}})
      if (s.value(key, false)) where += (where.empty() ? "" : ", ") + std::string(name);
    flags.push_back("incomplete: touches the " + where);
  }
  if (r.value("coarse_empty", false)) flags.push_back("coarse stage found nothing");
  std::string text;
  for (const auto& f : flags) text += fmt::format("<span class=\"flag\">{}</span> ", html_escape(f));
  return {text, int(flags.size())};
}

std::string table_row(const CohortCase& c) {
  const nlohmann::json& r = c.report;
  const std::string id = text_at(r, "case");
  const std::string error = text_at(r, "error");
  std::string row = fmt::format("<tr id=\"case-{}\"{}>", html_escape(id), error.empty() ? "" : " class=\"failed\"");
  row += c.thumbnail_png.empty() ? "<td class=\"thumb\">-</td>"
                                 : fmt::format(
                                       "<td class=\"thumb\"><img alt=\"{}: axial, coronal and sagittal planes\" "
                                       "src=\"data:image/png;base64,{}\"></td>",
                                       html_escape(id), base64(c.thumbnail_png));
  row +=
      fmt::format("<td data-value=\"{0}\" title=\"{1}\">{0}</td>", html_escape(id), html_escape(text_at(r, "source")));
  const auto coarse = number_at(r, "dsc_coarse"), final_dsc = number_at(r, "dsc");
  row += number_cell(coarse, "{:.4f}");
  row += number_cell(final_dsc, "{:.4f}");
  row += number_cell(coarse && final_dsc ? std::optional<double>(*final_dsc - *coarse) : std::nullopt, "{:+.4f}");
  const nlohmann::json s = r.value("statistics", nlohmann::json::object());
  row += number_cell(number_at(s, "volume_ml"), "{:.2f}");
  const auto [flags, warnings] = qc_flags(r);
  row += error.empty() ? fmt::format("<td data-value=\"{}\">{}</td>", warnings, flags) : "<td data-value=\"\">-</td>";
  const auto components = number_at(s, "components");
  row +=
      components && *components > 1
          ? fmt::format("<td class=\"num warn\" data-value=\"{0}\" title=\"more than one piece\">{0}</td>", *components)
          : number_cell(components, "{:.0f}");
  row += number_cell(number_at(r, "iterations"), "{:.0f}", text_at(r, "stop"));
  row += number_cell(number_at(r, "final_d_t"), "{:.4f}");
  row += number_cell(number_at(r, "seconds"), "{:.1f}");
  row += fmt::format("<td class=\"error\">{}</td></tr>\n", html_escape(error));
  return row;
}

std::string mean_text(const std::vector<double>& v) {
  if (v.empty()) return "-";
  double s = 0;
  for (double x : v) s += x;
  return fmt::format("{:.4f}", s / double(v.size()));
}

constexpr const char* kStyle = R"(body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}
h1{font-size:20px;margin:0 0 4px}p.summary{margin:0 0 12px;color:#444}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #ddd;background:#fff}
.chart .title{font-weight:600;font-size:13px}.chart .tick{font-size:10px;fill:#555}.chart .label{font-size:11px;fill:#333}
.chart .grid{stroke:#eee}.chart .frame{fill:none;stroke:#999}.chart .note{fill:#888;font-size:12px}
.legend span{margin-right:10px;white-space:nowrap;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
table{border-collapse:collapse;margin-top:12px}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:middle}
th{background:#f4f4f4;position:sticky;top:0}th[data-type]{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.thumb img{height:84px;display:block}
td.thumb img:hover{height:168px}tr.failed{background:#fdecea}td.error{color:#a40000;min-width:200px;max-width:320px;overflow-wrap:anywhere}
.flag{display:inline-block;margin:1px 0;background:#fff3cd;border:1px solid #e0c36a;border-radius:3px;padding:0 4px;font-size:12px}
td.warn{background:#fff3cd})";

// Sorts the table by the clicked header (numbers by data-value, empty last), and marks the table
// ready so that a test can see the script ran.
constexpr const char* kScript = R"((function () {
  var table = document.getElementById('cases');
  var heads = table.tHead.rows[0].cells;
  function key(row, i, numeric) {
    var v = row.cells[i].getAttribute('data-value');
    if (v === null) v = row.cells[i].textContent;
    if (!numeric) return v.toLowerCase();
    return v === '' ? NaN : parseFloat(v);
  }
  function sortBy(i) {
    var head = heads[i], numeric = head.getAttribute('data-type') === 'number';
    var ascending = head.getAttribute('aria-sort') !== 'ascending';
    for (var h = 0; h < heads.length; ++h) heads[h].removeAttribute('aria-sort');
    head.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i, numeric), y = key(b, i, numeric);
      if (numeric && (isNaN(x) || isNaN(y))) return isNaN(x) - isNaN(y);  // no value: last either way
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(heads, function (h, i) {
    if (h.hasAttribute('data-type')) h.addEventListener('click', function () { sortBy(i); });
  });
  table.setAttribute('data-ready', '1');
})();)";
}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = std::uint32_t(std::uint8_t(bytes[i])) << 16 |
                            std::uint32_t(std::uint8_t(bytes[i + 1])) << 8 | std::uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kDigits[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const std::uint32_t v =
        std::uint32_t(std::uint8_t(bytes[i])) << 16 | (two ? std::uint32_t(std::uint8_t(bytes[i + 1])) << 8 : 0);
    out += kDigits[(v >> 18) & 63];
    out += kDigits[(v >> 12) & 63];
    out += two ? kDigits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

cv::Mat case_thumbnail(const Image& image, const Mask& mask, const Mask* truth, const ThumbnailOptions& options) {
  if (mask.dims() != image.dims() || (truth && truth->dims() != image.dims()))
    throw std::invalid_argument("case_thumbnail: the image, mask and truth must share a grid");
  OverlayOptions overlay;
  overlay.window_lo_hu = options.window_lo_hu;
  overlay.window_hi_hu = options.window_hi_hu;
  overlay.outline = true;
  // Outlines are drawn at the final size (render_slice scales before drawing), so they stay 1 px.
  overlay.min_height_px = overlay.max_side_px = options.plane_px;
  const int side = std::max(1, int(std::lround(options.plane_px)));
  std::vector<cv::Mat> planes;
  for (View view : {View::Axial, View::Coronal, View::Sagittal}) {
    const cv::Mat plane = render_slice(image, view, slice_through(mask, view), &mask, truth, overlay);
    cv::Mat square(side, side, CV_8UC3, cv::Scalar(0, 0, 0));
    const int w = std::min(plane.cols, side), h = std::min(plane.rows, side);
    plane(cv::Rect(0, 0, w, h)).copyTo(square(cv::Rect((side - w) / 2, (side - h) / 2, w, h)));
    planes.push_back(square);
    planes.push_back(cv::Mat(side, 2, CV_8UC3, cv::Scalar(255, 255, 255)));  // a white gap
  }
  planes.pop_back();
  cv::Mat out;
  cv::hconcat(planes, out);
  return out;
}

void write_case_thumbnail(const fs::path& case_dir, const CaseResult& r) {
  if (!r.error.empty() || !r.input.image) return;
  write_png(case_dir / "thumbnail.png", case_thumbnail(*r.input.image, r.mask, r.input.label.get()));
}

std::string cohort_report_html(const std::vector<CohortCase>& cases, const std::string& title) {
  std::vector<Series> d_t, dsc;
  std::vector<double> coarse_all, final_all;
  std::vector<std::string> finished;
  std::size_t failed = 0;
  for (const CohortCase& c : cases) {
    const nlohmann::json& r = c.report;
    const std::string id = text_at(r, "case");
    if (r.contains("error")) {
      ++failed;
      continue;
    }
    finished.push_back(id);
    Series d{id, finished.size() - 1, {}, {}};
    for (double v : numbers_at(r, "d_t")) d.x.push_back(double(d.x.size() + 1)), d.y.push_back(v);
    if (!d.x.empty()) d_t.push_back(d);
    if (const auto coarse = number_at(r, "dsc_coarse")) {
      Series s{id, finished.size() - 1, {0}, {*coarse}};
      for (double v : numbers_at(r, "dsc_per_iteration")) s.x.push_back(double(s.x.size())), s.y.push_back(v);
      dsc.push_back(s);
      coarse_all.push_back(*coarse);
      if (const auto f = number_at(r, "dsc")) final_all.push_back(*f);
    }
  }
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n"
      "<style>\n{1}\n</style>\n</head>\n<body>\n<h1>{0}</h1>\n"
      "<p class=\"summary\">{2} case(s), {3} failed; with a label: {4}, mean DSC coarse {5}, final {6}. "
      "Click a column's header to sort. Thumbnails: axial, coronal and sagittal planes through the mask, "
      "prediction outlined in red, ground truth in green.</p>\n",
      html_escape(title), kStyle, cases.size(), failed, coarse_all.size(), mean_text(coarse_all), mean_text(final_all));
  html += "<div class=\"charts\">\n";
  html += svg_chart("d(t): DSC between the masks of rounds t-1 and t", "iteration t", "d(t)", d_t, 1,
                    "no case ran a fine iteration");
  html += svg_chart("DSC per iteration (t = 0: coarse)", "iteration t", "DSC", dsc, 0, "no case has a label");
  html += "</div>\n" + legend(finished);
  html +=
      "<table id=\"cases\">\n<thead><tr><th>thumbnail</th><th data-type=\"text\">case</th>"
      "<th data-type=\"number\">coarse DSC</th><th data-type=\"number\">final DSC</th>"
      "<th data-type=\"number\" title=\"final DSC minus coarse DSC\">gain</th><th data-type=\"number\">volume (ml)</th>"
      "<th data-type=\"number\" title=\"sorted by the number of warnings\">QC</th><th data-type=\"number\" "
      "title=\"6-connected components of the mask\">parts</th>"
      "<th data-type=\"number\">iterations</th><th data-type=\"number\">final d(t)</th>"
      "<th data-type=\"number\">seconds</th><th data-type=\"text\">error</th></tr></thead>\n<tbody>\n";
  for (const CohortCase& c : cases) html += table_row(c);
  html += "</tbody>\n</table>\n<script>\n";
  html += kScript;
  html += "\n</script>\n</body>\n</html>\n";
  return html;
}

std::vector<CohortCase> collect_cohort_cases(const fs::path& out_dir, const std::vector<nlohmann::json>& failures) {
  std::map<std::string, CohortCase> by_id;  // ordered by the cases' names
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
    std::error_code e;
    const fs::path report = entry.path() / "report.json";
    if (!entry.is_directory(e) || !fs::is_regular_file(report, e)) continue;
    const std::string folder = entry.path().filename().string();
    CohortCase c;
    try {
      std::ifstream in(report);
      c.report = nlohmann::json::parse(in);
      if (!c.report.is_object()) throw std::runtime_error("not a JSON object");
    } catch (const std::exception& ex) {
      c.report = {{"error", report.string() + ": unreadable: " + ex.what()}};
    }
    if (text_at(c.report, "case").empty()) c.report["case"] = folder;
    std::ifstream png(entry.path() / "thumbnail.png", std::ios::binary);
    if (png) c.thumbnail_png.assign(std::istreambuf_iterator<char>(png), std::istreambuf_iterator<char>());
    by_id[folder] = std::move(c);
  }
  for (const nlohmann::json& f : failures) by_id[text_at(f, "case")] = CohortCase{f, {}};
  std::vector<CohortCase> cases;
  for (auto& [id, c] : by_id) cases.push_back(std::move(c));
  return cases;
}

fs::path write_cohort_report(const fs::path& out_dir, const std::vector<nlohmann::json>& failures) {
  const fs::path page = out_dir / "index.html";
  fs::path named = fs::absolute(out_dir).lexically_normal();
  if (named.filename().empty()) named = named.parent_path();  // "out/" names "out"
  write_text_atomically(page, cohort_report_html(collect_cohort_cases(out_dir, failures),
                                                 "c2f cohort report: " + named.filename().string()));
  return page;
}

}  // namespace c2f
