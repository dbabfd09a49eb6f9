#include <doctest/doctest.h>

#include "../../pipeline/errors.hpp"
#include "../../stages/window.hpp"

using namespace c2f;

TEST_CASE("WindowNormalize clips HU to the window and scales it to [0, 1]") {
  Geometry g;
  g.dims = {5, 1, 1};
  Image hu(g);
  const float values[5] = {-1000, -100, 70, 240, 3000};
  std::copy(values, values + 5, hu.data());
  const auto w = WindowNormalize{}(hu);  // default window [-100, 240]
  CHECK(w.data()[0] == 0.0f);
  CHECK(w.data()[1] == 0.0f);
  CHECK(w.data()[2] == doctest::Approx(170.0 / 340.0));
  CHECK(w.data()[3] == 1.0f);
  CHECK(w.data()[4] == 1.0f);
  CHECK(w.geometry().same_grid(hu.geometry()));
}

TEST_CASE("a window whose lower bound is not below its upper bound is refused") {
  CHECK_THROWS_AS((WindowOptions{240, -100}.validate()), OptionError);
  CHECK_THROWS_AS((WindowOptions{10, 10}.validate()), OptionError);
  CHECK_NOTHROW((WindowOptions{-160, 240}.validate()));
}
