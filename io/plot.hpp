#pragma once
// Small charts as pictures (PNG through write_png in overlay.hpp): what c2f-eval draws for people
// to look at (mean d(t) against t, the histogram of iterations, DSC coarse vs fine per case).
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace c2f {

struct Chart {
  enum class Kind { Line, Bars, Scatter };
  Kind kind = Kind::Line;
  std::string title, x_label, y_label;
  std::vector<double> x, y;        // same length
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  bool diagonal = false;           // draw y = x (scatter of two scores)
};

// A 640 x 480 BGR picture. Throws std::invalid_argument when x and y differ in length.
cv::Mat draw_chart(const Chart& chart);

}  // namespace c2f
