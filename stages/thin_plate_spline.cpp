#include "thin_plate_spline.hpp"

#include <cmath>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"

namespace c2f {

void TpsOptions::validate() const {
  if (grid < 2) throw OptionError("the TPS control grid needs at least 2 x 2 points");
  if (!(max_shift_px >= 0 && std::isfinite(max_shift_px))) throw OptionError("the TPS shift must be finite and not negative");
}

namespace {
double phi(double r2) { return r2 > 0 ? 0.5 * r2 * std::log(r2) : 0.0; }  // r^2 log r, from r^2
}  // namespace

TpsWarp thin_plate_spline(int size, std::span<const Point2> control, std::span<const Point2> shift) {
  const int n = int(control.size());
  if (n < 3 || shift.size() != control.size()) throw std::invalid_argument("thin_plate_spline: needs >= 3 control points with a shift each");
  // [K P; P^T 0] [c; a] = [shift; 0], one right-hand side per coordinate.
  cv::Mat A = cv::Mat::zeros(n + 3, n + 3, CV_64F), b = cv::Mat::zeros(n + 3, 2, CV_64F);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const double dx = control[std::size_t(i)].x - control[std::size_t(j)].x, dy = control[std::size_t(i)].y - control[std::size_t(j)].y;
      A.at<double>(i, j) = phi(dx * dx + dy * dy);
    }
    const double row[3] = {1.0, control[std::size_t(i)].x, control[std::size_t(i)].y};
    for (int k = 0; k < 3; ++k) A.at<double>(i, n + k) = A.at<double>(n + k, i) = row[k];
    b.at<double>(i, 0) = shift[std::size_t(i)].x;
    b.at<double>(i, 1) = shift[std::size_t(i)].y;
  }
  cv::Mat coef;
  if (!cv::solve(A, b, coef, cv::DECOMP_LU)) cv::solve(A, b, coef, cv::DECOMP_SVD);  // collinear points
  TpsWarp w{size, std::vector<float>(std::size_t(size) * std::size_t(size)), std::vector<float>(std::size_t(size) * std::size_t(size))};
  for (int v = 0; v < size; ++v)
    for (int u = 0; u < size; ++u) {
      double dx = coef.at<double>(n, 0) + coef.at<double>(n + 1, 0) * u + coef.at<double>(n + 2, 0) * v;
      double dy = coef.at<double>(n, 1) + coef.at<double>(n + 1, 1) * u + coef.at<double>(n + 2, 1) * v;
      for (int i = 0; i < n; ++i) {
        const double ex = u - control[std::size_t(i)].x, ey = v - control[std::size_t(i)].y;
        const double k = phi(ex * ex + ey * ey);
        dx += coef.at<double>(i, 0) * k;
        dy += coef.at<double>(i, 1) * k;
      }
      w.map_x[std::size_t(v) * std::size_t(size) + std::size_t(u)] = float(u + dx);
      w.map_y[std::size_t(v) * std::size_t(size) + std::size_t(u)] = float(v + dy);
    }
  return w;
}

std::vector<Point2> tps_control_grid(int size, int grid) {
  std::vector<Point2> points;
  for (int j = 0; j < grid; ++j)
    for (int i = 0; i < grid; ++i)
      points.push_back({double(i) * (size - 1) / (grid - 1), double(j) * (size - 1) / (grid - 1)});
  return points;
}

TpsWarp random_thin_plate_spline(int size, const TpsOptions& o, std::uint64_t seed) {
  o.validate();
  const auto control = tps_control_grid(size, o.grid);
  std::vector<Point2> shift;
  const auto uniform = [&](std::uint64_t i) { return double(mix64(seed * 0x9E3779B97F4A7C15ULL + i) >> 11) * 0x1.0p-53; };
  for (std::size_t i = 0; i < control.size(); ++i)
    shift.push_back({(2 * uniform(2 * i) - 1) * o.max_shift_px, (2 * uniform(2 * i + 1) - 1) * o.max_shift_px});
  return thin_plate_spline(size, control, shift);
}

void apply_warp(const TpsWarp& w, float* images, int channels, int size) {
  if (w.size_px != size) throw std::invalid_argument("apply_warp: the warp has another size");
  const cv::Mat map_x(size, size, CV_32F, const_cast<float*>(w.map_x.data()));
  const cv::Mat map_y(size, size, CV_32F, const_cast<float*>(w.map_y.data()));
  cv::Mat src;
  for (int c = 0; c < channels; ++c) {
    cv::Mat image(size, size, CV_32F, images + std::size_t(c) * std::size_t(size) * std::size_t(size));
    image.copyTo(src);
    cv::remap(src, image, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  }
}

}  // namespace c2f
