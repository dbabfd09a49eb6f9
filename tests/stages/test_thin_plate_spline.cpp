#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../../pipeline/errors.hpp"
#include "../../stages/thin_plate_spline.hpp"

using namespace c2f;

TEST_CASE("a thin-plate spline with no displacement is the identity, and leaves images unchanged") {
  const auto control = tps_control_grid(32, 4);
  const std::vector<Point2> none(control.size());
  const TpsWarp w = thin_plate_spline(32, control, none);
  for (int v = 0; v < 32; ++v)
    for (int u = 0; u < 32; ++u) {
      CHECK(w.map_x[std::size_t(v * 32 + u)] == doctest::Approx(u).epsilon(1e-6));
      CHECK(w.map_y[std::size_t(v * 32 + u)] == doctest::Approx(v).epsilon(1e-6));
    }
  std::vector<float> images(2 * 32 * 32);
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = float(std::sin(0.37 * double(i)));
  const auto before = images;
  apply_warp(w, images.data(), 2, 32);
  for (std::size_t i = 0; i < images.size(); ++i) CHECK(images[i] == doctest::Approx(before[i]).epsilon(1e-5));
}

TEST_CASE("a thin-plate spline passes through its moved control points, and a shift of all of them translates") {
  const auto control = tps_control_grid(16, 3);
  std::vector<Point2> shift(control.size(), Point2{2.0, -1.0});
  const TpsWarp t = thin_plate_spline(16, control, shift);
  CHECK(t.map_x[5 * 16 + 7] == doctest::Approx(9.0).epsilon(1e-5));
  CHECK(t.map_y[5 * 16 + 7] == doctest::Approx(4.0).epsilon(1e-5));
  shift.assign(control.size(), Point2{});
  shift[4] = {1.5, 0.5};  // the centre point (7.5, 7.5) moves
  const TpsWarp c = thin_plate_spline(16, control, shift);
  // The grid's centre is not a pixel; the corners (control points that stay) keep their place.
  CHECK(c.map_x[0] == doctest::Approx(0.0).epsilon(1e-5));
  CHECK(c.map_y[15 * 16 + 15] == doctest::Approx(15.0).epsilon(1e-5));
  CHECK(c.map_x[7 * 16 + 7] > 7.5);
}

TEST_CASE("random deformations are bounded, differ by seed and repeat for a seed") {
  TpsOptions o;
  const TpsWarp a = random_thin_plate_spline(64, o, 1), b = random_thin_plate_spline(64, o, 1),
                c = random_thin_plate_spline(64, o, 2);
  CHECK(a.map_x == b.map_x);
  CHECK(a.map_x != c.map_x);
  double largest = 0;
  for (int v = 0; v < 64; ++v)
    for (int u = 0; u < 64; ++u)
      largest = std::max({largest, std::abs(double(a.map_x[std::size_t(v * 64 + u)]) - u), std::abs(double(a.map_y[std::size_t(v * 64 + u)]) - v)});
  CHECK(largest > 0.1);
  CHECK(largest < 3 * o.max_shift_px);  // a spline through shifts of at most 3 px stays near them
  o.grid = 1;
  CHECK_THROWS_AS(o.validate(), OptionError);
}
