#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "../../pipeline/errors.hpp"
#include "../../evaluation/metrics.hpp"
#include "../../stages/crop_with_frame.hpp"
#include "../../stages/resample.hpp"

using namespace c2f;

namespace {
Geometry grid(const Index3& dims, const Vec3& spacing) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  g.origin_mm = {-40.5, 12.25, 100};
  return g;
}

// The world position of the field of view's low corner (not a voxel centre).
Vec3 corner(const Geometry& g) {
  Vec3 c{};
  for (int r = 0; r < 3; ++r) {
    c[r] = g.origin_mm[r];
    for (int a = 0; a < 3; ++a) c[r] -= g.direction[r][a] * 0.5 * g.spacing_mm[a];
  }
  return c;
}

Mask sphere(const Geometry& g, const Vec3& centre_mm, double radius_mm) {
  Mask m(g, 0);
  for (std::int64_t z = 0; z < g.dims[2]; ++z)
    for (std::int64_t y = 0; y < g.dims[1]; ++y)
      for (std::int64_t x = 0; x < g.dims[0]; ++x) {
        const Vec3 p = g.to_world({double(x), double(y), double(z)});
        const double d = std::hypot(p[0] - centre_mm[0], p[1] - centre_mm[1], p[2] - centre_mm[2]);
        m(x, y, z) = d <= radius_mm ? 1 : 0;
      }
  return m;
}
}  // namespace

TEST_CASE("the network grid covers the input's field of view with the network's spacing") {
  const Geometry in = grid({512, 512, 250}, {0.8, 0.8, 1.0});
  const Geometry net = network_grid(in, ResampleOptions{{2, 2, 2}});
  // 409.6 mm / 2 mm = 204.8 -> 205 voxels of 1.998 mm; 250 mm / 2 mm = 125 voxels of 2 mm.
  CHECK(net.dims == Index3{205, 205, 125});
  CHECK(net.spacing_mm[0] == doctest::Approx(409.6 / 205));
  CHECK(net.spacing_mm[2] == doctest::Approx(2.0));
  const Vec3 a = corner(in), b = corner(net);
  for (int r = 0; r < 3; ++r) CHECK(a[r] == doctest::Approx(b[r]));
}

TEST_CASE("an input already at the network's spacing (within the tolerance) is not resampled") {
  const Geometry in = grid({128, 128, 64}, {2.01, 1.99, 2.0});
  CHECK_FALSE(needs_resampling(in, ResampleOptions{{2, 2, 2}}));
  CHECK(network_grid(in, ResampleOptions{{2, 2, 2}}).dims == in.dims);
  CHECK(needs_resampling(in, ResampleOptions{{2, 2, 3}}));
}

TEST_CASE("a one-slice input keeps one slice") {
  const Geometry in = grid({512, 512, 1}, {0.7, 0.7, 2.5});
  CHECK(network_grid(in, ResampleOptions{{2, 2, 2}}).dims == Index3{179, 179, 1});
}

TEST_CASE("halving the grid averages each 2x2x2 block") {
  // Values x + 10 y + 100 z on 4x4x4 voxels of 1 mm; at 2 mm the block (0..1, 0..1, 0..1) averages
  // to 0.5 + 5 + 50 = 55.5, the next one along x to 57.5.
  const Geometry in = grid({4, 4, 4}, {1, 1, 1});
  Volume<float> v(in);
  for (std::int64_t z = 0; z < 4; ++z)
    for (std::int64_t y = 0; y < 4; ++y)
      for (std::int64_t x = 0; x < 4; ++x) v(x, y, z) = float(x + 10 * y + 100 * z);
  const Volume<float> r = resample(v, network_grid(in, ResampleOptions{{2, 2, 2}}));
  REQUIRE(r.dims() == Index3{2, 2, 2});
  CHECK(r(0, 0, 0) == doctest::Approx(55.5));
  CHECK(r(1, 0, 0) == doctest::Approx(57.5));
  CHECK(r(0, 1, 0) == doctest::Approx(75.5));
  CHECK(r(1, 1, 1) == doctest::Approx(2.5 + 25 + 250));
}

TEST_CASE("a linear ramp stays linear when the grid is refined") {
  const Geometry coarse = grid({10, 6, 8}, {2, 2, 2});
  Volume<float> v(coarse);
  for (std::int64_t z = 0; z < 8; ++z)
    for (std::int64_t y = 0; y < 6; ++y)
      for (std::int64_t x = 0; x < 10; ++x) v(x, y, z) = float(3 * x + 5 * z);
  const Geometry fine = network_grid(coarse, ResampleOptions{{1, 1, 1}});
  REQUIRE(fine.dims == Index3{20, 12, 16});
  const Volume<float> r = resample(v, fine);
  // Fine voxel i sits at coarse index (i + 0.5) / 2 - 0.5; away from the edges that is exact.
  for (std::int64_t z = 2; z < 14; ++z)
    for (std::int64_t x = 2; x < 18; ++x) {
      const double cx = (double(x) + 0.5) / 2 - 0.5, cz = (double(z) + 0.5) / 2 - 0.5;
      CHECK(r(x, 5, z) == doctest::Approx(3 * cx + 5 * cz).epsilon(1e-4));
    }
}

TEST_CASE("a sphere down to the network grid and back keeps its shape") {
  const Geometry in = grid({100, 90, 40}, {0.8, 0.8, 2.5});
  const Vec3 centre = in.to_world({50, 45, 20});
  const Mask m = sphere(in, centre, 18);
  const Geometry net = network_grid(in, ResampleOptions{{2, 2, 2}});
  const Mask down = resample_mask(m, net);
  CHECK(dice(down, sphere(net, centre, 18)) > 0.93);
  const Mask back = resample_mask(down, in);
  CHECK(back.dims() == in.dims);
  CHECK(dice(back, m) > 0.9);
}

TEST_CASE("a whole case is resampled, image and label together, the source kept") {
  const Geometry in = grid({40, 40, 10}, {1, 1, 4});
  Case c;
  c.id = "c";
  c.source = "c.nii.gz";
  c.image = std::make_shared<Image>(in, 40.f);
  c.label = std::make_shared<Mask>(sphere(in, in.to_world({20, 20, 5}), 8));
  const Case r = resample_case(c, ResampleOptions{{2, 2, 2}});
  CHECK(r.image->dims() == Index3{20, 20, 20});
  CHECK(r.label->dims() == r.image->dims());
  CHECK((*r.image)(3, 7, 11) == doctest::Approx(40));
  CHECK(r.source == "c.nii.gz");
}

TEST_CASE("spacings outside 0.05-20 mm and grids past the voxel cap are refused, naming the file") {
  const ResampleOptions o{{2, 2, 2}};
  CHECK_THROWS_WITH_AS(network_grid(grid({10, 10, 10}, {0.01, 1, 1}), o, "scan.nii.gz"),
                       doctest::Contains("scan.nii.gz: voxel spacing"), InputError);
  CHECK_THROWS_AS(network_grid(grid({10, 10, 10}, {1, 1, 25}), o, "scan.nii.gz"), InputError);
  // 2048^3 voxels of 1 mm at 0.1 mm would be 8.6e12 voxels.
  CHECK_THROWS_WITH_AS(network_grid(grid({2048, 2048, 2048}, {1, 1, 1}), ResampleOptions{{0.1, 0.1, 0.1}}, "big.nii"),
                       doctest::Contains("big.nii: resampled"), InputError);
}

TEST_CASE("spacings are parsed as one or three millimetre values, and bad ones throw") {
  CHECK(parse_spacing("2") == Vec3{2, 2, 2});
  CHECK(parse_spacing("0.8,0.8,2.5") == Vec3{0.8, 0.8, 2.5});
  CHECK_THROWS_AS(parse_spacing("2,2"), OptionError);
  CHECK_THROWS_AS(parse_spacing("abc"), OptionError);
  CHECK_THROWS_AS(parse_spacing("0"), OptionError);
  CHECK_THROWS_AS(parse_spacing("30"), OptionError);
}

TEST_CASE("a support box gives the whole computation's result in a part of the time") {
  // A map that is zero outside a box, resampled up (0.75 mm in-plane, 1.25 mm slices) and down
  // (3 mm): with the box as support, every voxel equals the whole computation's.
  const Geometry net = grid({60, 50, 40}, {2, 2, 2});
  const Box3 box{{17, 9, 11}, {31, 22, 25}};
  Volume<float> v(net, 0.0f);
  for (std::int64_t z = box.lo[2]; z < box.hi[2]; ++z)
    for (std::int64_t y = box.lo[1]; y < box.hi[1]; ++y)
      for (std::int64_t x = box.lo[0]; x < box.hi[0]; ++x)
        v(x, y, z) = float(0.5 + 0.5 * std::sin(0.7 * double(x) + 1.3 * double(y) - 0.4 * double(z)));
  for (const Vec3& spacing : {Vec3{0.75, 0.75, 1.25}, Vec3{3, 3, 3}, Vec3{0.8, 2.5, 4}, Vec3{2, 2, 0.7}}) {
    CAPTURE(spacing[0]);
    CAPTURE(spacing[1]);
    CAPTURE(spacing[2]);
    const Geometry target = network_grid(net, ResampleOptions{spacing});
    const Volume<float> whole = resample(v, target), part = resample(v, target, box);
    REQUIRE(part.dims() == whole.dims());
    double worst = 0, sum = 0;
    for (std::int64_t i = 0; i < whole.size(); ++i) {
      worst = std::max(worst, double(std::abs(whole.data()[i] - part.data()[i])));
      sum += whole.data()[i];
    }
    CHECK(sum > 0);
    CHECK(worst <= 1e-6);
  }
  // An empty support is an all-zero result on the target grid.
  const Volume<float> none = resample(v, network_grid(net, ResampleOptions{{1, 1, 1}}), Box3{});
  CHECK(none.dims() == Index3{120, 100, 80});
  CHECK(std::all_of(none.data(), none.data() + none.size(), [](float x) { return x == 0.0f; }));
}

TEST_CASE("a region resampled alone is the whole computation on the box it reaches, and zero beyond it") {
  const Geometry net = grid({60, 50, 40}, {2, 2, 2});
  const Box3 box{{0, 9, 11}, {31, 50, 25}};  // touching two edges of the grid
  Volume<float> region(sub_geometry(net, box));
  for (std::int64_t i = 0; i < region.size(); ++i) region.data()[i] = float(0.5 + 0.5 * std::sin(0.37 * double(i)));
  const Volume<float> v = paste_back(region, box, net, 0.0f);
  for (const Vec3& spacing : {Vec3{0.75, 0.75, 1.25}, Vec3{3, 3, 3}, Vec3{0.8, 2.5, 4}, Vec3{2, 2, 0.7}}) {
    CAPTURE(spacing[0]);
    CAPTURE(spacing[1]);
    CAPTURE(spacing[2]);
    const Geometry target = network_grid(net, ResampleOptions{spacing});
    const Volume<float> whole = resample(v, target);
    const ResampledRegion part = resample_region(region, box, net, target);
    REQUIRE(part.values.dims() == part.box.extents());
    CHECK(part.box.voxel_count() < whole.size());
    const Vec3 a = part.values.geometry().to_world({0, 0, 0});
    const Vec3 b = target.to_world({double(part.box.lo[0]), double(part.box.lo[1]), double(part.box.lo[2])});
    for (int k = 0; k < 3; ++k) CHECK(a[k] == doctest::Approx(b[k]));
    std::int64_t differ = 0, outside = 0;
    for (std::int64_t z = 0; z < target.dims[2]; ++z)
      for (std::int64_t y = 0; y < target.dims[1]; ++y)
        for (std::int64_t x = 0; x < target.dims[0]; ++x) {
          if (part.box.contains({x, y, z}))
            differ += part.values(x - part.box.lo[0], y - part.box.lo[1], z - part.box.lo[2]) != whole(x, y, z);
          else
            outside += whole(x, y, z) != 0.0f;
        }
    CHECK(differ == 0);
    CHECK(outside == 0);
  }
  // The region must be a box of the source grid, with the box's dimensions.
  const Geometry target = network_grid(net, ResampleOptions{{1, 1, 1}});
  CHECK_THROWS_AS(resample_region(region, Box3{{0, 9, 11}, {31, 51, 25}}, net, target), std::invalid_argument);
  CHECK_THROWS_AS(resample_region(region, Box3{{1, 9, 11}, {31, 50, 25}}, net, target), std::invalid_argument);
  CHECK_THROWS_AS(resample_region(region, Box3{}, net, target), std::invalid_argument);
}

TEST_CASE("each axis is resampled by its own rule: averaged when it shrinks, interpolated when it grows") {
  // x shrinks 2:1 (pairs averaged), y grows 1:2 (linear), z stays.
  const Geometry in = grid({4, 2, 1}, {1, 2, 1});
  Volume<float> v(in);
  for (std::int64_t y = 0; y < 2; ++y)
    for (std::int64_t x = 0; x < 4; ++x) v(x, y, 0) = float(10 * x + 100 * y);
  const Volume<float> r = resample(v, network_grid(in, ResampleOptions{{2, 1, 1}}));
  REQUIRE(r.dims() == Index3{2, 4, 1});
  CHECK(r(0, 0, 0) == doctest::Approx(5));     // (0 + 10) / 2, first row's edge replicated
  CHECK(r(1, 0, 0) == doctest::Approx(25));    // (20 + 30) / 2
  CHECK(r(0, 1, 0) == doctest::Approx(30));    // a quarter of the way from row 0 to row 1
  CHECK(r(0, 2, 0) == doctest::Approx(80));    // three quarters
  CHECK(r(1, 3, 0) == doctest::Approx(125));   // the last row's edge replicated
}
