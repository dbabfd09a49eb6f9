#include <doctest/doctest.h>


#include "../../io/overlay.hpp"
#include "../../io/png.hpp"
#include "test_support.hpp"

using namespace c2f;

TEST_CASE("overlays use the paper's colours in radiological orientation") {
  Geometry g;
  g.dims = {8, 6, 3};
  Image ct(g, -1000.0f);
  Mask pred(g, 0), truth(g, 0);
  pred(1, 1, 1) = 1;   // prediction only: red
  truth(2, 1, 1) = 1;  // truth only: green
  pred(3, 4, 1) = truth(3, 4, 1) = 1;  // both: yellow
  OverlayOptions o;
  o.min_height_px = 6;  // no enlargement: one pixel per voxel
  const cv::Mat pic = render_slice(ct, View::Axial, 1, &pred, &truth, o);
  REQUIRE(pic.rows == 6);
  REQUIRE(pic.cols == 8);
  // Voxel (x, y) is drawn at column nx-1-x, row ny-1-y; air is black, colours blend 2:1.
  CHECK(pic.at<cv::Vec3b>(6 - 1 - 1, 8 - 1 - 1) == cv::Vec3b(0, 0, 170));
  CHECK(pic.at<cv::Vec3b>(6 - 1 - 1, 8 - 1 - 2) == cv::Vec3b(0, 170, 0));
  CHECK(pic.at<cv::Vec3b>(6 - 1 - 4, 8 - 1 - 3) == cv::Vec3b(0, 170, 170));
  CHECK(pic.at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 0));

  test::ScratchDir dir("overlay");
  write_png(dir / "a.png", pic);
  const Picture back = decode_png(test::read_bytes(dir / "a.png"));
  REQUIRE(back.width == 8);
  REQUIRE(back.height == 6);
  REQUIRE(back.channels == 3);
  const std::uint8_t* px = &back.pixels[std::size_t((4 * 8 + 6) * 3)];
  CHECK(px[0] == 170);  // RGB in the file: red
  CHECK(px[1] == 0);
  CHECK(px[2] == 0);
}
