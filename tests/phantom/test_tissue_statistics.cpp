// The phantom's unenhanced tissues against a real non-contrast CT (TotalSegmentator example,
// 3 mm voxels): mean HU inside the real scan's 10th-90th percentile range and a spread of the
// same order. The real CT has no contrast, so the phantom is compared in its native phase.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../../io/nifti.hpp"
#include "../../phantom/phantom.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
struct Stats {
  double mean = 0, sd = 0, p10 = 0, p90 = 0;
  std::size_t n = 0;
};
Stats stats(std::vector<float> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  double sum = 0, sq = 0;
  for (float x : v) {
    sum += x;
    sq += double(x) * x;
  }
  s.mean = sum / double(v.size());
  s.sd = std::sqrt(std::max(0.0, sq / double(v.size()) - s.mean * s.mean));
  std::sort(v.begin(), v.end());
  s.p10 = v[v.size() / 10];
  s.p90 = v[v.size() * 9 / 10];
  return s;
}
bool is_fat_hu(float v) { return v > -190 && v < -30; }
}  // namespace

TEST_CASE("native-phase phantom tissues fall in the HU ranges of a real CT's pancreas, liver, spleen and fat" * doctest::skip(c2f::test::no_real_ct())) {
  const NiftiVolume ct = read_nifti(test::real_ct("totalsegmentator-example/ct.nii.gz"));
  const NiftiVolume organs = read_nifti(test::real_ct("totalsegmentator-example/organs_v1.nii.gz"));
  REQUIRE(ct.image.size() == organs.image.size());

  PhantomOptions o;
  o.phase = ContrastPhase::Native;
  o.size = {128, 128, 80};  // about 3 mm voxels, like the real scan
  o.seed = 2024;

  struct Organ {
    const char* name;
    std::uint8_t real_code, phantom_code, phantom_code2;
  };
  const Organ organs_checked[] = {{"pancreas", 10, tissue::kPancreas, tissue::kPancreas},
                                  {"liver", 5, tissue::kLiver, tissue::kLiver},
                                  {"spleen", 1, tissue::kSpleen, tissue::kSpleen},
                                  {"fat", 0, tissue::kSubcutaneousFat, tissue::kVisceralFat}};
  std::vector<PhantomCase> phantoms;
  for (int i = 0; i < 3; ++i) phantoms.push_back(make_phantom(o, i));

  for (const Organ& organ : organs_checked) {
    std::vector<float> real, phantom;
    for (std::int64_t v = 0; v < ct.image.size(); ++v) {
      const float hu = ct.image.data()[v];
      const auto code = std::uint8_t(organs.image.data()[v]);
      if (code == organ.real_code && (organ.real_code != 0 || is_fat_hu(hu))) real.push_back(hu);
    }
    for (const auto& pc : phantoms)
      for (std::int64_t v = 0; v < pc.tissues->size(); ++v) {
        const auto code = pc.tissues->data()[v];
        const float hu = pc.c.image->data()[v];
        if ((code == organ.phantom_code || code == organ.phantom_code2) && (organ.real_code != 0 || is_fat_hu(hu)))
          phantom.push_back(hu);
      }
    const Stats r = stats(real), p = stats(phantom);
    const std::string name = organ.name;
    CAPTURE(name);
    MESSAGE(name << ": real " << r.mean << " +- " << r.sd << " HU (p10 " << r.p10 << ", p90 " << r.p90 << "), phantom "
                 << p.mean << " +- " << p.sd << " HU");
    CAPTURE(r.mean);
    CAPTURE(r.sd);
    CAPTURE(p.mean);
    CAPTURE(p.sd);
    REQUIRE(r.n > 500);
    REQUIRE(p.n > 500);
    CHECK(p.mean >= r.p10);
    CHECK(p.mean <= r.p90);
    CHECK(p.sd >= 0.4 * r.sd);
    CHECK(p.sd <= 2.5 * r.sd);
  }
}
