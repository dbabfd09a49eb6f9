// Phantoms on real anatomy: the label is the map's pancreas, the organs the map has come only
// from it, intensities follow the phase, and the voxels do not depend on the thread count. Small
// grids (fixed 3-4 mm spacing) keep these quick.
#include <doctest/doctest.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "../../phantom/anatomy.hpp"
#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
fs::path real_labels() { return fs::path(C2F_REAL_CT_DIR).parent_path() / "real-labels"; }
bool no_real_labels() { return !fs::exists(real_labels() / "README.md"); }

PhantomOptions on_map(const fs::path& map, ContrastPhase phase = ContrastPhase::Native, double spacing_mm = 3) {
  PhantomOptions o;
  o.seed = 11;
  o.anatomy = {map};
  o.phase = phase;
  o.spacing_mm = {spacing_mm, spacing_mm, spacing_mm};
  return o;
}
fs::path shipped(int i) { return list_label_maps(shipped_anatomy_folder())[std::size_t(i)]; }

// The map's organ at the centre of each phantom voxel, by the same nearest-voxel rule.
Volume<std::uint8_t> map_on_grid(const LabelMapAnatomy& a, const PhantomCase& pc) {
  const Geometry& g = pc.c.image->geometry();
  const Geometry& m = a.organs.geometry();
  Volume<std::uint8_t> out(g);
  Vec3 origin;
  Mat3 to_index;
  for (int k = 0; k < 3; ++k) origin[k] = m.origin_mm[k] + pc.anatomy_offset_mm[k];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) to_index[r][c] = m.direction[c][r] / m.spacing_mm[r];
  for (std::int64_t z = 0; z < g.dims[2]; ++z)
    for (std::int64_t y = 0; y < g.dims[1]; ++y)
      for (std::int64_t x = 0; x < g.dims[0]; ++x) {
        const Vec3 p{g.origin_mm[0] + double(x) * g.spacing_mm[0], g.origin_mm[1] + double(y) * g.spacing_mm[1],
                     g.origin_mm[2] + double(z) * g.spacing_mm[2]};
        const Vec3 q{p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]};
        std::int64_t ijk[3];
        bool inside = true;
        for (int r = 0; r < 3; ++r) {
          ijk[r] = std::lround(to_index[r][0] * q[0] + to_index[r][1] * q[1] + to_index[r][2] * q[2]);
          inside = inside && ijk[r] >= 0 && ijk[r] < m.dims[r];
        }
        out(x, y, z) = inside ? a.organs(ijk[0], ijk[1], ijk[2]) : 0;
      }
  return out;
}

// Mean HU of a tissue's inner voxels (all six neighbours the same tissue): at 3 mm, partial
// volume and the reconstruction kernel blend the edge voxels with their neighbours.
double mean_hu(const PhantomCase& pc, std::uint8_t code) {
  const Mask& t = *pc.tissues;
  double s = 0;
  std::int64_t n = 0;
  for (std::int64_t z = 1; z + 1 < t.nz(); ++z)
    for (std::int64_t y = 1; y + 1 < t.ny(); ++y)
      for (std::int64_t x = 1; x + 1 < t.nx(); ++x)
        if (t(x, y, z) == code && t(x - 1, y, z) == code && t(x + 1, y, z) == code && t(x, y - 1, z) == code &&
            t(x, y + 1, z) == code && t(x, y, z - 1) == code && t(x, y, z + 1) == code) {
          s += (*pc.c.image)(x, y, z);
          ++n;
        }
  return n ? s / double(n) : std::nan("");
}

bool same_voxels(const PhantomCase& a, const PhantomCase& b) {
  return a.c.image->geometry().same_grid(b.c.image->geometry()) &&
         std::equal(a.c.image->voxels().begin(), a.c.image->voxels().end(), b.c.image->voxels().begin()) &&
         std::equal(a.tissues->voxels().begin(), a.tissues->voxels().end(), b.tissues->voxels().begin());
}

// The label is the map's pancreas on the phantom's grid; every voxel the tissue map gives to an
// organ the map has lies in that organ of the map (nothing of it was painted by hand).
void check_against_map(const fs::path& file, const PhantomCase& pc) {
  const LabelMapAnatomy a = read_label_map_anatomy(file);
  const auto truth = map_on_grid(a, pc);
  using O = AnatomyOrgan;
  const std::map<std::uint8_t, O> organ_of = {
      {tissue::kLiver, O::Liver},       {tissue::kSpleen, O::Spleen},     {tissue::kKidneyRight, O::KidneyRight},
      {tissue::kKidneyLeft, O::KidneyLeft}, {tissue::kGallbladder, O::Gallbladder}, {tissue::kStomach, O::Stomach},
      {tissue::kAorta, O::Aorta},       {tissue::kIvc, O::Ivc},           {tissue::kPortalSplenicVein, O::PortalSplenicVein},
      {tissue::kDuodenum, O::Duodenum}, {tissue::kSmallBowel, O::SmallBowel}, {tissue::kPancreas, O::Pancreas}};
  std::int64_t label = 0, truth_pancreas = 0, label_mismatch = 0, hand_painted = 0;
  for (std::int64_t v = 0; v < truth.size(); ++v) {
    const bool is_pancreas = truth.data()[v] == std::uint8_t(O::Pancreas);
    label += pc.c.label->data()[v] != 0;
    truth_pancreas += is_pancreas;
    label_mismatch += (pc.c.label->data()[v] != 0) != is_pancreas;
    const auto it = organ_of.find(pc.tissues->data()[v]);
    if (it != organ_of.end() && a.has(it->second) && truth.data()[v] != std::uint8_t(it->second)) ++hand_painted;
  }
  CAPTURE(file);
  CHECK(label > 0);
  // The same rounding as the generator's: equal but for ties at exactly half a voxel.
  CHECK(double(label_mismatch) <= 0.002 * double(truth_pancreas));
  CHECK(hand_painted == 0);
  // And the volume is the map's own, within the rounding of a 3 mm grid.
  const Geometry& m = a.organs.geometry();
  std::int64_t map_voxels = 0;
  for (std::int64_t v = 0; v < a.organs.size(); ++v) map_voxels += a.organs.data()[v] == std::uint8_t(O::Pancreas);
  const double map_ml = double(map_voxels) * m.spacing_mm[0] * m.spacing_mm[1] * m.spacing_mm[2] / 1000;
  const Vec3 s = pc.c.image->geometry().spacing_mm;
  const double label_ml = double(label) * s[0] * s[1] * s[2] / 1000;
  CHECK(label_ml == doctest::Approx(map_ml).epsilon(0.15));
}
}  // namespace

TEST_CASE("a phantom on a shipped map takes its pancreas and organs from the map and paints none of them by hand") {
  for (int i = 0; i < 2; ++i) {
    const PhantomCase pc = make_phantom(on_map(shipped(i)), 0);
    CHECK(pc.anatomy_set == "totalseg");
    CHECK(pc.anatomy == shipped(i).string());
    CHECK(pc.c.image->geometry().spacing_mm[2] == doctest::Approx(3));
    check_against_map(shipped(i), pc);
  }
}

TEST_CASE("a phantom on a FLARE22 map takes its pancreas from the map and paints around it" * doctest::skip(no_real_labels())) {
  const fs::path map = real_labels() / "flare22/labels/FLARE22_Tr_0003.nii.gz";
  const PhantomCase pc = make_phantom(on_map(map, ContrastPhase::PortalVenous, 4), 0);
  check_against_map(map, pc);
  // What FLARE22 lacks is painted by hand: bowel, bone, fat, muscle.
  for (std::uint8_t code : {tissue::kSmallBowel, tissue::kColon, tissue::kBone, tissue::kVisceralFat,
                            tissue::kSubcutaneousFat, tissue::kMuscle, tissue::kPortalSplenicVein}) {
    CAPTURE(int(code));
    CHECK(std::count(pc.tissues->voxels().begin(), pc.tissues->voxels().end(), code) > 0);
  }
}

TEST_CASE("real-anatomy intensities follow the phase: native and portal-venous as the hand-made, arterial bright arteries") {
  const PhantomCase native = make_phantom(on_map(shipped(0), ContrastPhase::Native), 0);
  const PhantomCase pv = make_phantom(on_map(shipped(0), ContrastPhase::PortalVenous), 0);
  const PhantomCase art = make_phantom(on_map(shipped(0), ContrastPhase::Arterial), 0);
  CHECK(same_voxels(native, native));
  CHECK(std::ranges::equal(native.tissues->voxels(), pv.tissues->voxels()));  // the phase changes intensities only
  // Native: the values measured on the real non-contrast CT (liver 48, fat -92 to -100 HU).
  CHECK(mean_hu(native, tissue::kLiver) == doctest::Approx(48).epsilon(0.4));
  CHECK(mean_hu(native, tissue::kSubcutaneousFat) == doctest::Approx(-100).epsilon(0.15));
  CHECK(mean_hu(native, tissue::kVisceralFat) == doctest::Approx(-92).epsilon(0.2));
  CHECK(mean_hu(native, tissue::kPancreas) < 40);
  // Portal-venous: liver +55, pancreas +72, aorta +140 over native.
  CHECK(mean_hu(pv, tissue::kLiver) - mean_hu(native, tissue::kLiver) == doctest::Approx(55).epsilon(0.25));
  CHECK(mean_hu(pv, tissue::kPancreas) - mean_hu(native, tissue::kPancreas) > 50);
  CHECK(mean_hu(pv, tissue::kAorta) - mean_hu(native, tissue::kAorta) == doctest::Approx(140).epsilon(0.2));
  // Arterial: aorta near +280, pancreas enhancing strongly (about +90), liver barely (about +15).
  CHECK(mean_hu(art, tissue::kAorta) - mean_hu(native, tissue::kAorta) > 230);
  // (The pancreas' fatty lobules do not enhance, so its mean gains less than +90.)
  const double pancreas_gain = mean_hu(art, tissue::kPancreas) - mean_hu(native, tissue::kPancreas);
  const double liver_gain = mean_hu(art, tissue::kLiver) - mean_hu(native, tissue::kLiver);
  CHECK(pancreas_gain > 60);
  CHECK(liver_gain < 30);
  CHECK(pancreas_gain > 3 * liver_gain);
}

TEST_CASE("a real-anatomy phantom is the same at one and two threads, and differs per case") {
  const auto o = on_map(shipped(1), ContrastPhase::Arterial, 4);
  const PhantomCase a = make_phantom(o, 1);
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    CHECK(same_voxels(a, make_phantom(o, 1)));
  }
  {
    tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
    CHECK(same_voxels(a, make_phantom(o, 1)));
  }
  CHECK_FALSE(same_voxels(a, make_phantom(o, 2)));
}

TEST_CASE("a cohort on several maps cycles through them, and random phases mix") {
  PhantomOptions o = on_map(shipped(0), ContrastPhase::Native, 5);
  o.anatomy = list_label_maps(shipped_anatomy_folder());
  o.random_phase = true;
  std::set<std::string> phases;
  for (int i = 0; i < 6; ++i) {
    const PhantomCase pc = make_phantom(o, i);
    CHECK(pc.anatomy == o.anatomy[std::size_t(i % 2)].string());
    phases.insert(phase_name(pc.phase));
  }
  CHECK(phases.size() >= 2);
}

TEST_CASE("impossible real-anatomy options are refused") {
  auto o = on_map(shipped(0));
  o.spacing_mm = {0.1, 0.1, 3};
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = on_map(shipped(0));
  o.anatomy_set = "btcv";
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = on_map(shipped(0));
  o.spacing_mm = {3, 2, 3};  // pixels must be square
  CHECK_THROWS_AS(make_phantom(o, 0), OptionError);
}
