// Label maps of real abdomens read into the phantom's organ vocabulary: the right organs on the
// right side whatever the file's orientation, the usable maps listed, bad maps refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "../../io/nifti.hpp"
#include "../../phantom/anatomy.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
// ../shared/data/real-labels beside the checkout; the tests that need it skip where it is absent.
fs::path real_labels() { return fs::path(C2F_REAL_CT_DIR).parent_path() / "real-labels"; }
bool no_real_labels() { return !fs::exists(real_labels() / "README.md"); }

// Mean RAS x (mm) of an organ's voxels; NaN when absent.
double mean_x(const LabelMapAnatomy& a, AnatomyOrgan o) {
  const Geometry& g = a.organs.geometry();
  double s = 0;
  std::int64_t n = 0;
  for (std::int64_t z = 0; z < g.dims[2]; z += 2)
    for (std::int64_t y = 0; y < g.dims[1]; y += 2)
      for (std::int64_t x = 0; x < g.dims[0]; x += 2)
        if (AnatomyOrgan(a.organs(x, y, z)) == o) {
          s += g.to_world({double(x), double(y), double(z)})[0];
          ++n;
        }
  return n ? s / double(n) : std::nan("");
}

// Liver and right kidney on the patient's right (+x), spleen and left kidney on the left (the
// maps' world origins are the scanners', so only the difference tells).
void check_sides(const LabelMapAnatomy& a) {
  CHECK(a.has(AnatomyOrgan::Pancreas));
  CHECK(a.has(AnatomyOrgan::Liver));
  CHECK(mean_x(a, AnatomyOrgan::Liver) > mean_x(a, AnatomyOrgan::Spleen) + 60);
  CHECK(mean_x(a, AnatomyOrgan::KidneyRight) > mean_x(a, AnatomyOrgan::KidneyLeft) + 60);
  // Canonical grid: index x grows to the right.
  CHECK(a.organs.geometry().direction[0][0] > 0.99);
}
}  // namespace

TEST_CASE("the shipped TotalSegmentator maps are listed and load with the organs on the right side") {
  const auto maps = list_label_maps(shipped_anatomy_folder());
  REQUIRE(maps.size() == 2);
  CHECK(maps[0].filename() == "s0001_total_v2_labels.nii.gz");
  CHECK(maps[1].filename() == "s0006_total_v2_labels.nii.gz");
  for (const auto& m : maps) {
    CAPTURE(m);
    const LabelMapAnatomy a = read_label_map_anatomy(m);
    CHECK(a.set == "totalseg");
    check_sides(a);
    CHECK(a.has(AnatomyOrgan::Bone));
    CHECK(a.has(AnatomyOrgan::Aorta));
  }
}

TEST_CASE("a FLARE22 map (stored RAS) and a WORD map (stored LPS) load the same way round" * doctest::skip(no_real_labels())) {
  const LabelMapAnatomy flare = read_label_map_anatomy(real_labels() / "flare22/labels/FLARE22_Tr_0001.nii.gz");
  CHECK(flare.set == "flare22");
  check_sides(flare);
  CHECK(flare.has(AnatomyOrgan::Adrenal));
  CHECK_FALSE(flare.has(AnatomyOrgan::Colon));  // FLARE22 has no bowel: the phantom paints it
  const LabelMapAnatomy word = read_label_map_anatomy(real_labels() / "word/labelsTs/word_0014.nii.gz");
  CHECK(word.set == "word");
  CHECK(read_nifti_header(word.file).grid.orientation_code() == "LPS");
  check_sides(word);
  CHECK(word.has(AnatomyOrgan::Colon));
  CHECK(word.has(AnatomyOrgan::Bladder));
}

TEST_CASE("the usable maps of the real-label sets are listed sorted, without pancreas-free maps or the AbdomenAtlas duplicate" *
          doctest::skip(no_real_labels())) {
  const auto all = list_label_maps(real_labels());
  CHECK(std::is_sorted(all.begin(), all.end()));
  // 50 FLARE22 + 30 WORD + the WORD template + 4 TotalSegmentator subjects with a pancreas.
  CHECK(all.size() == 85);
  for (const auto& p : all) {
    CAPTURE(p);
    CHECK(p.string().find("abdomenatlas") == std::string::npos);
    CHECK(p.filename().string().find("s0000") == std::string::npos);
    CHECK(p.filename().string().find("s0002") == std::string::npos);
    CHECK(p.filename().string().find("s0003") == std::string::npos);
  }
  CHECK(list_label_maps(real_labels() / "flare22").size() == 50);
}

TEST_CASE("a map without pancreas, of an unknown set, or missing is refused with an InputError naming the file") {
  test::ScratchDir dir("anatomy-bad");
  // A TotalSegmentator-numbered map with a liver (5) only.
  fs::create_directories(dir / "totalseg");
  Geometry g;
  g.dims = {8, 8, 8};
  Volume<std::uint8_t> v(g);
  for (std::int64_t i = 0; i < v.size(); ++i) v.data()[i] = 5;
  const fs::path no_pancreas = dir / "totalseg" / "liver_only_total_v2_labels.nii.gz";
  write_nifti(no_pancreas, v);
  const auto throws_naming = [](const fs::path& file, auto&& call) {
    CAPTURE(file);
    try {
      call();
      FAIL("no InputError");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(file.filename().string()) != std::string::npos);
    }
  };
  throws_naming(no_pancreas, [&] { read_label_map_anatomy(no_pancreas); });
  // The same file outside a set's folder, and with a set hint that no set has.
  const fs::path unknown = dir / "map.nii.gz";
  fs::copy_file(list_label_maps(shipped_anatomy_folder())[0], unknown);
  throws_naming(unknown, [&] { read_label_map_anatomy(unknown); });
  throws_naming(unknown, [&] { read_label_map_anatomy(unknown, "btcv"); });
  CHECK(read_label_map_anatomy(unknown, "totalseg").has(AnatomyOrgan::Pancreas));  // the hint tells the set
  const fs::path missing = dir / "totalseg" / "missing.nii.gz";
  throws_naming(missing, [&] { read_label_map_anatomy(missing); });
  throws_naming(dir / "nothing-here", [&] { list_label_maps(dir / "nothing-here"); });
}
