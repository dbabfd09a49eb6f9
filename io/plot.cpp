#include "plot.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

namespace c2f {

cv::Mat draw_chart(const Chart& c) {
  if (c.x.size() != c.y.size()) throw std::invalid_argument("draw_chart: x and y differ in length");
  const int width = 640, height = 480, left = 70, right = 20, top = 40, bottom = 60;
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const double xr = c.x_max > c.x_min ? c.x_max - c.x_min : 1, yr = c.y_max > c.y_min ? c.y_max - c.y_min : 1;
  const auto px = [&](double x) { return int(left + (x - c.x_min) / xr * (width - left - right)); };
  const auto py = [&](double y) { return int(height - bottom - (y - c.y_min) / yr * (height - top - bottom)); };
  const cv::Scalar ink(40, 40, 40), grid(225, 225, 225), blue(180, 90, 30);
  const auto text = [&](const std::string& s, cv::Point at, double scale = 0.45) {
    cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, ink, 1, cv::LINE_AA);
  };
  for (int i = 0; i <= 5; ++i) {  // grid and tick labels
    const double yv = c.y_min + yr * i / 5, xv = c.x_min + xr * i / 5;
    cv::line(img, {left, py(yv)}, {width - right, py(yv)}, grid, 1);
    text(fmt::format("{:.2f}", yv), {28, py(yv) + 4});
    text(fmt::format("{:.4g}", xv), {px(xv) - 12, height - bottom + 18});
  }
  cv::rectangle(img, {left, top}, {width - right, height - bottom}, ink, 1);
  if (c.diagonal) cv::line(img, {px(c.x_min), py(c.y_min)}, {px(c.x_max), py(c.y_max)}, grid * 0.8, 1, cv::LINE_AA);
  switch (c.kind) {
    case Chart::Kind::Line:
      for (std::size_t i = 0; i < c.x.size(); ++i) {
        if (i > 0) cv::line(img, {px(c.x[i - 1]), py(c.y[i - 1])}, {px(c.x[i]), py(c.y[i])}, blue, 2, cv::LINE_AA);
        cv::circle(img, {px(c.x[i]), py(c.y[i])}, 4, blue, cv::FILLED, cv::LINE_AA);
      }
      break;
    case Chart::Kind::Bars: {
      const int half = std::max(2, int(0.35 * (width - left - right) / std::max(1.0, xr)));
      for (std::size_t i = 0; i < c.x.size(); ++i)
        cv::rectangle(img, {px(c.x[i]) - half, py(c.y[i])}, {px(c.x[i]) + half, py(c.y_min)}, blue, cv::FILLED);
      break;
    }
    case Chart::Kind::Scatter:
      for (std::size_t i = 0; i < c.x.size(); ++i) cv::circle(img, {px(c.x[i]), py(c.y[i])}, 5, blue, 2, cv::LINE_AA);
      break;
  }
  text(c.title, {left, 25}, 0.6);
  text(c.x_label, {left + (width - left - right) / 2 - 40, height - 15}, 0.5);
  // The y label, written sideways.
  cv::Mat label(24, height, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(label, c.y_label, {height / 2 - 60, 17}, cv::FONT_HERSHEY_SIMPLEX, 0.5, ink, 1, cv::LINE_AA);
  cv::Mat turned;
  cv::rotate(label, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  turned(cv::Rect(0, 0, 24, height)).copyTo(img(cv::Rect(0, 0, 24, height)));
  return img;
}

}  // namespace c2f
