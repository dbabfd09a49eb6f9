#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../../io/cohort.hpp"
#include "../../io/nifti.hpp"
#include "../../phantom/phantom_cohort.hpp"
#include "../../pipeline/atomic_file.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
PhantomCohortOptions tiny(PhantomLayout layout) {
  PhantomCohortOptions o;
  o.phantom.size = {32, 28, 12};
  o.phantom.seed = 11;
  o.cases = 2;
  o.layout = layout;
  return o;
}

// The loaded case equals the generated one, whatever layout and orientation it went through.
void check_matches_generated(const Case& c, const PhantomOptions& o, int index) {
  const PhantomCase truth = make_phantom(o, index);
  REQUIRE(c.image->dims() == truth.c.image->dims());
  CHECK(c.image->geometry().same_grid(truth.c.image->geometry(), 1e-2));
  CHECK(std::equal(c.image->voxels().begin(), c.image->voxels().end(), truth.c.image->voxels().begin()));
  REQUIRE(c.label);
  CHECK(std::equal(c.label->voxels().begin(), c.label->voxels().end(), truth.c.label->voxels().begin()));
}
}  // namespace

TEST_CASE("the plain layout is found and each case loads with its label") {
  test::ScratchDir dir("cohort-plain");
  auto o = tiny(PhantomLayout::Plain);
  o.write_tissues = true;  // companions must not be taken for cases
  write_phantom_cohort(dir.path(), o);
  const Cohort c = discover_cohort(dir.path());
  CHECK(c.layout == CohortLayout::Plain);
  REQUIRE(c.cases.size() == 2);
  CHECK(c.cases[0].id == "phantom_000");
  CHECK(c.cases[1].label.filename() == "phantom_001_label.nii.gz");
  check_matches_generated(load_case(c.cases[1]), o.phantom, 1);
}

TEST_CASE("the Decathlon layout is read from dataset.json, labels 1 and 2 both counting as pancreas") {
  test::ScratchDir dir("cohort-msd");
  const auto o = tiny(PhantomLayout::Msd);
  write_phantom_cohort(dir.path(), o);
  const Cohort c = discover_cohort(dir.path());
  CHECK(c.layout == CohortLayout::Msd);
  REQUIRE(c.cases.size() == 2);
  check_matches_generated(load_case(c.cases[0]), o.phantom, 0);

  // Turn half of case 1's pancreas into "tumour" (2): the mask must not change.
  const NiftiVolume lab = read_nifti(c.cases[1].label);
  Volume<std::uint8_t> two(lab.image.geometry());
  std::int64_t ones = 0;
  for (std::int64_t i = 0; i < two.size(); ++i) {
    two.data()[i] = lab.image.data()[i] > 0 ? std::uint8_t(1 + (ones++ % 2)) : 0;
  }
  write_nifti(c.cases[1].label, two, lab.layout);
  const Case loaded = load_case(c.cases[1]);
  CHECK(count_foreground(*loaded.label) == ones);
}

TEST_CASE("the NIH layout pairs PANCREAS_NNNN DICOM series with labelNNNN.nii.gz") {
  test::ScratchDir dir("cohort-nih");
  const auto o = tiny(PhantomLayout::Nih);
  write_phantom_cohort(dir.path(), o);
  const Cohort c = discover_cohort(dir.path());
  CHECK(c.layout == CohortLayout::Nih);
  REQUIRE(c.cases.size() == 2);
  CHECK(c.cases[0].id == "PANCREAS_0001");
  CHECK(c.cases[1].label.filename() == "label0002.nii.gz");
  check_matches_generated(load_case(c.cases[1]), o.phantom, 1);
}

TEST_CASE("a single file or series folder is a cohort of one without a label" * doctest::skip(c2f::test::no_real_ct())) {
  test::ScratchDir dir("cohort-single");
  write_phantom_cohort(dir.path(), tiny(PhantomLayout::Plain));
  const Cohort c = discover_cohort(dir / "phantom_001.nii.gz");
  CHECK(c.layout == CohortLayout::Single);
  REQUIRE(c.cases.size() == 1);
  CHECK(c.cases[0].id == "phantom_001");
  CHECK(c.cases[0].label.empty());
  const Cohort d = discover_cohort(test::real_ct("totalsegmentator-example/dicom"));
  CHECK(d.layout == CohortLayout::Single);
}

TEST_CASE("a label whose grid differs from its image is refused, naming the label") {
  test::ScratchDir dir("cohort-mismatch");
  write_phantom_cohort(dir.path(), tiny(PhantomLayout::Plain));
  // Replace case 0's label by a smaller one.
  Geometry g;
  g.dims = {32, 28, 11};
  write_nifti(dir / "phantom_000_label.nii.gz", Mask(g, 0));
  const Cohort c = discover_cohort(dir.path());
  const auto label = c.cases[0].label.string();
  CHECK_THROWS_WITH_AS(load_case(c.cases[0]), doctest::Contains((label + ": label grid 32x28x11 differs").c_str()), InputError);
  // Same size, but shifted in space.
  const NiftiMask m = read_nifti_mask(c.cases[1].label);
  Mask shifted = m.mask;
  Geometry sg = shifted.geometry();
  sg.origin_mm[2] += 40;
  shifted.set_geometry(sg);
  write_nifti(c.cases[1].label, shifted);
  CHECK_THROWS_WITH_AS(load_case(c.cases[1]), doctest::Contains("does not line up"), InputError);
}

TEST_CASE("an empty or unknown folder is refused with the layouts it expected") {
  test::ScratchDir dir("cohort-empty");
  CHECK_THROWS_WITH_AS(discover_cohort(dir.path()), doctest::Contains("no cases found"), InputError);
  CHECK_THROWS_WITH_AS(discover_cohort(dir / "absent"), doctest::Contains("no such file"), InputError);
  write_text_atomically(dir / "dataset.json", "{ not json");
  CHECK_THROWS_WITH_AS(discover_cohort(dir.path()), doctest::Contains("invalid dataset.json"), InputError);
}
