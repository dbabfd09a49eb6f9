#include "overlay.hpp"

#include "png.hpp"

#include <algorithm>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

namespace {
// Slice k as a 2-D matrix in display orientation (see the header).
template <class T, int CvType>
cv::Mat display_plane(const Volume<T>& v, View view, std::int64_t k) {
  const SliceView<const T> s = v.slice(view, k);
  cv::Mat m(int(s.height), int(s.width), CvType);
  for (std::int64_t r = 0; r < s.height; ++r)
    for (std::int64_t c = 0; c < s.width; ++c) {
      // Rows: top = largest v (anterior / superior). Columns: left = largest u for views whose
      // u is x (patient's right on the left); for sagittal (u = y) anterior on the left.
      const std::int64_t vv = s.height - 1 - r;
      const std::int64_t uu = s.width - 1 - c;
      m.at<T>(int(r), int(c)) = s(uu, vv);
    }
  return m;
}
}  // namespace

cv::Mat render_slice(const Image& image, View view, std::int64_t k, const Mask* prediction, const Mask* truth,
                     const OverlayOptions& o) {
  cv::Mat hu = display_plane<float, CV_32F>(image, view, k);
  cv::Mat grey;
  const double scale = 255.0 / std::max(1e-3f, o.window_hi_hu - o.window_lo_hu);
  hu.convertTo(grey, CV_8U, scale, -o.window_lo_hu * scale);
  cv::Mat bgr;
  cv::cvtColor(grey, bgr, cv::COLOR_GRAY2BGR);

  // Physical aspect and a minimum size, before drawing so outlines stay thin.
  const Geometry& g = image.geometry();
  const int u_axis = view == View::Sagittal ? 1 : 0, v_axis = view == View::Axial ? 1 : 2;
  const double mm_w = g.spacing_mm[u_axis] * bgr.cols, mm_h = g.spacing_mm[v_axis] * bgr.rows;
  double px_per_mm = std::max(double(bgr.cols) / mm_w, double(bgr.rows) / mm_h);  // keep the finest axis
  px_per_mm *= std::max(1.0, o.min_height_px / (mm_h * px_per_mm));
  const bool reduced = o.max_side_px > 0 && std::max(mm_w, mm_h) * px_per_mm > o.max_side_px;
  if (reduced) px_per_mm = o.max_side_px / std::max(mm_w, mm_h);
  const cv::Size out_size(std::max(1, int(std::lround(mm_w * px_per_mm))), std::max(1, int(std::lround(mm_h * px_per_mm))));
  // Shrinking averages (no aliased stripes); the masks below are still resized by nearest neighbour.
  cv::resize(bgr, bgr, out_size, 0, 0, reduced ? cv::INTER_AREA : cv::INTER_LINEAR);

  auto plane = [&](const Mask* m) {
    if (!m) return cv::Mat();
    cv::Mat p = display_plane<std::uint8_t, CV_8U>(*m, view, k);
    cv::resize(p, p, out_size, 0, 0, cv::INTER_NEAREST);
    return p;
  };
  const cv::Mat pred = plane(prediction), truth_plane = plane(truth);
  if (o.outline) {
    auto draw = [&](const cv::Mat& m, const cv::Scalar& colour) {
      if (m.empty()) return;
      std::vector<std::vector<cv::Point>> contours;
      cv::findContours(m, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
      cv::drawContours(bgr, contours, -1, colour, 1, cv::LINE_8);
    };
    draw(truth_plane, {0, 255, 0});
    draw(pred, {0, 0, 255});
  } else {
    for (int r = 0; r < bgr.rows; ++r)
      for (int c = 0; c < bgr.cols; ++c) {
        const bool p = !pred.empty() && pred.at<std::uint8_t>(r, c);
        const bool t = !truth_plane.empty() && truth_plane.at<std::uint8_t>(r, c);
        if (!p && !t) continue;
        const cv::Vec3b colour = p && t ? cv::Vec3b(0, 255, 255) : p ? cv::Vec3b(0, 0, 255) : cv::Vec3b(0, 255, 0);
        cv::Vec3b& px = bgr.at<cv::Vec3b>(r, c);
        for (int ch = 0; ch < 3; ++ch) px[ch] = std::uint8_t((px[ch] + 2 * colour[ch]) / 3);
      }
  }
  return bgr;
}

void write_png(const std::filesystem::path& path, const cv::Mat& picture) {
  if (picture.depth() != CV_8U || (picture.channels() != 3 && picture.channels() != 1) || picture.empty())
    throw OutputError(path.string(), "only 8-bit grey or BGR pictures are written as PNG");
  Picture p{picture.cols, picture.rows, picture.channels(), {}};
  p.pixels.resize(std::size_t(p.width) * std::size_t(p.height) * std::size_t(p.channels));
  std::uint8_t* out = p.pixels.data();
  for (int y = 0; y < picture.rows; ++y) {
    const std::uint8_t* row = picture.ptr<std::uint8_t>(y);
    if (p.channels == 1) {
      out = std::copy(row, row + picture.cols, out);
    } else {
      for (int x = 0; x < picture.cols; ++x, out += 3) {  // OpenCV's BGR to PNG's RGB
        out[0] = row[3 * x + 2];
        out[1] = row[3 * x + 1];
        out[2] = row[3 * x];
      }
    }
  }
  write_text_atomically(path, encode_png(p, 6));
}

}  // namespace c2f
