#include <doctest/doctest.h>

#include <tbb/global_control.h>

#include <set>

#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"

using namespace c2f;

namespace {
PhantomOptions options(std::uint64_t seed, Index3 size = {64, 64, 32}) {
  PhantomOptions o;
  o.seed = seed;
  o.size = size;
  return o;
}
bool same_voxels(const PhantomCase& a, const PhantomCase& b) {
  return std::equal(a.c.image->voxels().begin(), a.c.image->voxels().end(), b.c.image->voxels().begin()) &&
         std::equal(a.c.label->voxels().begin(), a.c.label->voxels().end(), b.c.label->voxels().begin());
}
}  // namespace

TEST_CASE("the same seed and case index give the same phantom at any thread count") {
  const PhantomCase a = make_phantom(options(7), 3);
  const PhantomCase b = make_phantom(options(7), 3);
  CHECK(same_voxels(a, b));
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    CHECK(same_voxels(a, make_phantom(options(7), 3)));
  }
  CHECK_FALSE(same_voxels(a, make_phantom(options(8), 3)));
  CHECK_FALSE(same_voxels(a, make_phantom(options(7), 4)));
  CHECK(a.c.id == "phantom_003");
}

TEST_CASE("the pancreas covers 0.1-0.5 % of the voxels, its shape and place varying per case") {
  std::set<std::int64_t> sizes;
  for (int i = 0; i < 6; ++i) {
    const PhantomCase pc = make_phantom(options(21, {96, 96, 48}), i);
    const double share = 100.0 * double(count_foreground(*pc.c.label)) / double(pc.c.label->size());
    CAPTURE(i);
    CHECK(share >= 0.1);
    CHECK(share <= 0.5);
    sizes.insert(count_foreground(*pc.c.label));
    // The label is exactly the pancreas of the tissue map.
    for (std::int64_t v = 0; v < pc.c.label->size(); ++v)
      REQUIRE((pc.c.label->data()[v] != 0) == (pc.tissues->data()[v] == tissue::kPancreas));
  }
  CHECK(sizes.size() == 6);
}

TEST_CASE("the pancreas touches the duodenum, bowel and splenic vein, so its boundary is hard") {
  for (int i = 0; i < 4; ++i) {
    const PhantomCase pc = make_phantom(options(3, {128, 128, 64}), i);
    const Mask& t = *pc.tissues;
    std::int64_t boundary = 0, duodenum = 0, vein = 0, bowel = 0;
    const int d[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    for (std::int64_t z = 1; z + 1 < t.nz(); ++z)
      for (std::int64_t y = 1; y + 1 < t.ny(); ++y)
        for (std::int64_t x = 1; x + 1 < t.nx(); ++x) {
          if (t(x, y, z) != tissue::kPancreas) continue;
          for (const auto& o : d) {
            const auto n = t(x + o[0], y + o[1], z + o[2]);
            if (n == tissue::kPancreas) continue;
            ++boundary;
            duodenum += n == tissue::kDuodenum;
            vein += n == tissue::kPortalSplenicVein;
            bowel += n == tissue::kSmallBowel || n == tissue::kColon || n == tissue::kStomach;
          }
        }
    CAPTURE(i);
    CHECK(boundary > 0);
    CHECK(duodenum > 0);
    CHECK(vein > 0);
    // Soft-tissue neighbours of similar enhancement make up a real share of the boundary.
    CHECK(double(duodenum + vein + bowel) / double(boundary) > 0.1);
  }
}

TEST_CASE("portal-venous contrast brightens the pancreas and vessels over the native phase") {
  auto o = options(5, {96, 96, 48});
  const PhantomCase pv = make_phantom(o, 0);
  o.phase = ContrastPhase::Native;
  const PhantomCase native = make_phantom(o, 0);
  auto mean_of = [](const PhantomCase& pc, std::uint8_t code) {
    double s = 0;
    std::int64_t n = 0;
    for (std::int64_t v = 0; v < pc.tissues->size(); ++v)
      if (pc.tissues->data()[v] == code) {
        s += pc.c.image->data()[v];
        ++n;
      }
    return s / double(n);
  };
  CHECK(mean_of(pv, tissue::kPancreas) - mean_of(native, tissue::kPancreas) > 50);
  CHECK(mean_of(pv, tissue::kAorta) - mean_of(native, tissue::kAorta) > 100);
  CHECK(mean_of(pv, tissue::kAorta) > 150);
}

TEST_CASE("impossible phantom options are refused before any voxel is made") {
  auto o = options(1);
  o.size = {4, 64, 64};
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = options(1);
  o.fov_mm = 50;
  CHECK_THROWS_AS(make_phantom(o, 0), OptionError);
  CHECK_THROWS_AS(make_phantom(options(1), -1), OptionError);
  CHECK_THROWS_AS(parse_phase("delayed"), OptionError);
}
