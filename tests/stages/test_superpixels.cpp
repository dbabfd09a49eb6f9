#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../../pipeline/errors.hpp"
#include "../../stages/superpixels.hpp"

using namespace c2f;

namespace {

// A windowed volume with structure: soft-tissue blocks of different brightness, a bright disc
// that moves from slice to slice, and a fixed pseudo-random texture (a hash of the position).
Volume<float> textured_volume(const Index3& dims, const Vec3& spacing = {1, 1, 1}) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  Volume<float> v(g);
  for (std::int64_t z = 0; z < dims[2]; ++z)
    for (std::int64_t y = 0; y < dims[1]; ++y)
      for (std::int64_t x = 0; x < dims[0]; ++x) {
        float value = 0.2f + 0.15f * float((x / 12 + y / 9) % 4);
        const double dx = double(x) - (12.0 + 2.0 * double(z)), dy = double(y) - 15.0;
        if (dx * dx + dy * dy < 49.0) value = 0.9f;
        const std::uint32_t h = std::uint32_t(x * 73856093) ^ std::uint32_t(y * 19349663) ^ std::uint32_t(z * 83492791);
        v(x, y, z) = std::clamp(value + 0.02f * float(h % 100) / 100.0f, 0.0f, 1.0f);
      }
  return v;
}

// The DSC of the optimal superpixel labelling, computed voxel by voxel as a reference.
double reference_upper_bound(const Superpixels& sp, const Mask& label) {
  std::vector<double> inside(std::size_t(sp.count), 0), size(std::size_t(sp.count), 0);
  for (std::int64_t i = 0; i < label.size(); ++i) {
    size[std::size_t(sp.labels.data()[i])] += 1;
    inside[std::size_t(sp.labels.data()[i])] += label.data()[i];
  }
  double overlap = 0, a = 0, b = 0;
  for (std::int64_t i = 0; i < label.size(); ++i) {
    const auto s = std::size_t(sp.labels.data()[i]);
    const bool chosen = inside[s] > 0.5 * size[s];
    a += chosen, b += label.data()[i], overlap += chosen && label.data()[i];
  }
  return a + b == 0 ? 1.0 : 2 * overlap / (a + b);
}

}  // namespace

TEST_CASE(
    "axial superpixels number their ids contiguously, slice by slice, each id in one slice with its box and size") {
  const auto v = textured_volume({48, 36, 5});
  for (auto method : {SuperpixelMethod::Slic, SuperpixelMethod::Slico, SuperpixelMethod::Mslic, SuperpixelMethod::Seeds,
                      SuperpixelMethod::Lsc}) {
    CAPTURE(superpixel_method_name(method));
    SuperpixelOptions o;
    o.method = method;
    o.region_size_px = 8;
    const auto sp = axial_superpixels(v, o);
    REQUIRE(sp.count > 5);
    CHECK(sp.labels.geometry().same_grid(v.geometry()));
    REQUIRE(sp.first_id.size() == 6);
    CHECK(sp.first_id.front() == 0);
    CHECK(sp.first_id.back() == sp.count);
    // Recompute boxes and sizes by brute force.
    std::vector<Box3> boxes(std::size_t(sp.count), Box3{{1 << 20, 1 << 20, 1 << 20}, {-1, -1, -1}});
    std::vector<std::int64_t> sizes(std::size_t(sp.count), 0);
    bool in_slice = true;
    for (std::int64_t z = 0; z < 5; ++z)
      for (std::int64_t y = 0; y < 36; ++y)
        for (std::int64_t x = 0; x < 48; ++x) {
          const auto l = sp.labels(x, y, z);
          REQUIRE((l >= 0 && l < sp.count));
          in_slice = in_slice && l >= sp.first_id[std::size_t(z)] && l < sp.first_id[std::size_t(z) + 1];
          auto& b = boxes[std::size_t(l)];
          b.lo = {std::min(b.lo[0], x), std::min(b.lo[1], y), std::min(b.lo[2], z)};
          b.hi = {std::max(b.hi[0], x + 1), std::max(b.hi[1], y + 1), std::max(b.hi[2], z + 1)};
          ++sizes[std::size_t(l)];
        }
    CHECK(in_slice);
    CHECK(boxes == sp.boxes);
    CHECK(sizes == sp.voxel_counts);
    CHECK(std::all_of(sizes.begin(), sizes.end(), [](auto n) { return n > 0; }));  // no unused id
    CHECK(std::all_of(sp.boxes.begin(), sp.boxes.end(), [](const Box3& b) { return b.extent(2) == 1; }));
  }
}

TEST_CASE(
    "the upper bound is 1 for a label made of whole superpixels and equals the optimal labelling's DSC otherwise") {
  const auto v = textured_volume({48, 36, 4});
  SuperpixelOptions o;
  o.region_size_px = 6;
  const auto sp = axial_superpixels(v, o);
  std::vector<std::int32_t> ids;
  for (std::int32_t s = 0; s < sp.count; s += 3) ids.push_back(s);
  const Mask whole = superpixel_mask(sp, ids);
  CHECK(superpixel_upper_bound_dsc(sp, whole) == doctest::Approx(1.0));
  const auto optimal = optimal_superpixel_labels(sp, whole);
  for (std::int32_t s = 0; s < sp.count; ++s) CHECK(optimal[std::size_t(s)] == (s % 3 == 0 ? 1 : 0));

  // A label that cuts across superpixels: a box, compared with the voxel-by-voxel reference.
  Mask box(v.geometry(), 0);
  for (std::int64_t z = 1; z < 3; ++z)
    for (std::int64_t y = 5; y < 23; ++y)
      for (std::int64_t x = 7; x < 30; ++x) box(x, y, z) = 1;
  const double bound = superpixel_upper_bound_dsc(sp, box);
  CHECK(bound == doctest::Approx(reference_upper_bound(sp, box)).epsilon(1e-6));
  CHECK(bound < 1.0);
  CHECK(superpixel_upper_bound_dsc(sp, Mask(v.geometry(), 0)) == 1.0);  // nothing to find, nothing chosen
}

TEST_CASE("superpixels follow a bright disc's edge: its upper bound is high") {
  const auto v = textured_volume({64, 48, 3});
  Mask disc(v.geometry(), 0);
  for (std::int64_t z = 0; z < 3; ++z)
    for (std::int64_t y = 0; y < 48; ++y)
      for (std::int64_t x = 0; x < 64; ++x)
        if (v(x, y, z) >= 0.9f) disc(x, y, z) = 1;
  SuperpixelOptions o;
  o.region_size_px = 6;
  CHECK(superpixel_upper_bound_dsc(axial_superpixels(v, o), disc) > 0.9);
}

TEST_CASE("a region size in mm follows the in-plane spacing, and smaller regions make more superpixels") {
  SuperpixelOptions o;
  o.region_size_mm = 6;
  Geometry fine, coarse;
  fine.spacing_mm = {0.5, 0.5, 2};
  coarse.spacing_mm = {1.0, 1.0, 2};
  CHECK(o.region_px(fine) == 12);
  CHECK(o.region_px(coarse) == 6);
  o.region_size_px = 9;
  CHECK(o.region_px(fine) == 9);

  const auto v = textured_volume({48, 36, 2});
  SuperpixelOptions small, large;
  small.region_size_px = 5;
  large.region_size_px = 10;
  CHECK(axial_superpixels(v, small).count > axial_superpixels(v, large).count);
}

TEST_CASE("superpixels refuse bad options, an empty volume, tiny slices and a label of another grid") {
  SuperpixelOptions o;
  o.region_size_mm = 0;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.iterations = 0;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.ruler = -1;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.region_size_px = -3;
  CHECK_THROWS_AS(o.validate(), OptionError);
  CHECK_THROWS_AS(parse_superpixel_method("ers"), OptionError);
  CHECK(parse_superpixel_method("seeds") == SuperpixelMethod::Seeds);

  CHECK_THROWS_AS(axial_superpixels(Volume<float>{}), std::invalid_argument);
  CHECK_THROWS_AS(axial_superpixels(textured_volume({1, 20, 3})), std::invalid_argument);
  const auto sp = axial_superpixels(textured_volume({20, 20, 2}), SuperpixelOptions{.region_size_px = 5});
  Geometry other;
  other.dims = {20, 20, 3};
  CHECK_THROWS_AS(superpixel_upper_bound_dsc(sp, Mask(other, 0)), std::invalid_argument);
  CHECK_THROWS_AS(superpixel_mask(sp, std::vector<std::int32_t>{sp.count}), std::invalid_argument);
}
