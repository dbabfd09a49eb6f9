#include <doctest/doctest.h>

#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

#include <fmt/format.h>

#include "../../io/dicom.hpp"
#include "../../io/dicom_seg.hpp"
#include "../../io/nifti.hpp"
#include "../../phantom/phantom.hpp"
#include "../../phantom/phantom_cohort.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {

struct Run {
  int rc = -1;
  std::string output;
};

Run run(const std::string& command) {
  Run r;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quoted(const fs::path& p) {
  std::string q = "'";  // appended, not "'" + string: GCC 12 warns falsely (-Wrestrict)
  q += p.string();
  q += "'";
  return q;
}

// The two outside judges of a written SEG: dciodvfy (the standard's IOD rules: no errors, warnings
// printed) and tests/io/check_dicom_seg.py (pydicom reads it; every frame, placed by its own
// position, equals the NIfTI mask there and references the source slice there).
void validate(const fs::path& seg, const fs::path& source_folder, const fs::path& nifti) {
  INFO("SEG ", seg.string());
  const std::string dciodvfy = C2F_DCIODVFY;
  if (dciodvfy.empty()) FAIL("dciodvfy not found: install the Debian package dicom3tools and configure again");
  const Run v = run(dciodvfy + " " + quoted(seg));
  std::istringstream lines(v.output);
  std::string line, errors, warnings;
  while (std::getline(lines, line)) {
    if (line.rfind("Error", 0) == 0) errors += line + "\n";
    if (line.rfind("Warning", 0) == 0) warnings += line + "\n";
  }
  CHECK_MESSAGE(errors.empty(), "dciodvfy errors:\n", errors);
  CHECK_MESSAGE(v.output.find("Segmentation") != std::string::npos, "dciodvfy did not check a Segmentation:\n",
                v.output);
  MESSAGE("dciodvfy on ", seg.filename().string(), ": ", test::count_lines(errors), " errors, ",
          test::count_lines(warnings), " warnings; its whole output:\n", v.output);

  const Run p =
      run(fmt::format("{} {} {} {} {} {}", C2F_PYTHON, quoted(fs::path(C2F_SOURCE_DIR) / "tests/io/check_dicom_seg.py"),
                      quoted(seg), quoted(source_folder), quoted(nifti), C2F_VERSION));
  CHECK_MESSAGE(p.rc == 0, "check_dicom_seg.py:\n", p.output);
  MESSAGE("check_dicom_seg.py: ", p.output);
}

// A mask that no flip or transposition maps onto itself: a block against the right and
// anterior sides that widens towards the head, a posterior strip in the lower slices (the last
// row of their DICOM frames, which DCMTK 3.6.7 packs wrongly when a frame is not whole bytes),
// one voxel alone near the left posterior corner, and the first and last slices empty.
Mask asymmetric_mask(const Geometry& g) {
  Mask m(g, 0);
  const std::int64_t nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  for (std::int64_t z = 1; z + 1 < nz; ++z)
    for (std::int64_t y = ny / 2; y < ny - 1; ++y)
      for (std::int64_t x = 1; x < std::min(nx - 1, 2 + z); ++x) m(x, y, z) = 1;
  for (std::int64_t z = 1; z <= nz / 2; ++z)
    for (std::int64_t x = 0; x < nx; ++x) m(x, 0, z) = 1;
  m(nx - 2, 1, 2) = 1;
  return m;
}

Image small_ct() {
  PhantomOptions o;
  o.size = {23, 19, 9};
  o.seed = 5;
  return *make_phantom(o, 0).c.image;
}

std::int64_t slices_with_foreground(const Mask& m) {
  std::int64_t n = 0;
  for (std::int64_t z = 0; z < m.nz(); ++z) {
    const auto s = m.slice(View::Axial, z);
    bool any = false;
    for (std::int64_t v = 0; v < s.height && !any; ++v)
      for (std::int64_t u = 0; u < s.width && !any; ++u) any = s(u, v) != 0;
    n += any;
  }
  return n;
}

// Rewrites every slice file of a series through DCMTK (pixel data kept as stored, compressed or not).
void edit_slices(const fs::path& folder, const std::function<void(DcmFileFormat&, int)>& edit) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (std::size_t i = 0; i < files.size(); ++i) {
    DcmFileFormat file;
    REQUIRE(file.loadFile(files[i].c_str()).good());
    // DCMTK reads large values (pixel data) lazily from the file it is about to overwrite.
    REQUIRE(file.loadAllDataIntoMemory().good());
    edit(file, int(i));
    REQUIRE(file.saveFile(files[i].c_str()).good());
  }
}

}  // namespace

TEST_CASE("a DICOM-SEG of a phantom NIH-layout series in shuffled file order matches the NIfTI mask frame by frame") {
  test::ScratchDir dir("seg-nih");
  PhantomCohortOptions o;
  o.layout = PhantomLayout::Nih;
  o.cases = 1;
  o.phantom.size = {45, 37, 16};
  const auto summaries = write_phantom_cohort(dir / "nih", o);
  REQUIRE(summaries.size() == 1);
  REQUIRE(summaries[0].pancreas_voxels > 0);
  const DicomSeries series = read_dicom_series(summaries[0].image);
  const NiftiMask label = read_nifti_mask(summaries[0].label);
  REQUIRE(label.mask.geometry().same_grid(series.image.geometry(), 1e-3));
  const Mask& mask = label.mask;

  write_nifti(dir / "mask.nii", mask, series.layout);
  const DicomSegSummary written = write_dicom_seg(dir / "seg.dcm", mask, series.layout, series.source);
  CHECK(written.frames == slices_with_foreground(mask));
  CHECK(written.foreground_pixels == count_foreground(mask));
  CHECK(written.series_uid != series.series_uid);
  CHECK(written.sop_instance_uid.rfind("2.25.", 0) == 0);
  validate(dir / "seg.dcm", summaries[0].image, dir / "mask.nii");
}

TEST_CASE("series stored head first and feet first give SEG frames at their own slices' positions, unflipped") {
  test::ScratchDir dir("seg-hf-ff");
  const Image ct = small_ct();  // 23 x 19 pixels: frames of 437 bits, not whole bytes
  for (const bool feet_first : {false, true}) {
    CAPTURE(feet_first);
    const std::string name = feet_first ? "ffs" : "hfs";
    DicomWriteOptions w;
    w.feet_first = feet_first;
    w.scramble_order = true;
    w.uid_seed = feet_first ? 12 : 11;
    write_dicom_series(dir / name, ct, w);
    const DicomSeries series = read_dicom_series(dir / name);
    // Head first the series' own axes are LPS; feet first RPI: columns and slices both reversed.
    CHECK(series.layout.native.orientation_code() == (feet_first ? "RPI" : "LPS"));
    REQUIRE(series.image.geometry().same_grid(ct.geometry(), 1e-3));
    const Mask mask = asymmetric_mask(series.image.geometry());
    write_nifti(dir / (name + ".nii"), mask, series.layout);

    // Frames only where the mask has voxels, and one per slice.
    const DicomSegSummary some = write_dicom_seg(dir / (name + ".dcm"), mask, series.layout, series.source);
    CHECK(some.frames == ct.nz() - 2);
    validate(dir / (name + ".dcm"), dir / name, dir / (name + ".nii"));
    DicomSegOptions every;
    every.every_slice = true;
    const DicomSegSummary all = write_dicom_seg(dir / (name + "-all.dcm"), mask, series.layout, series.source, every);
    CHECK(all.frames == ct.nz());
    validate(dir / (name + "-all.dcm"), dir / name, dir / (name + ".nii"));

    // As c2f-segment calls it: the case read from the folder and its final mask.
    Case c;
    c.source = (dir / name).string();
    c.layout = series.layout;
    const DicomSegSummary from_case = write_dicom_seg(dir / (name + "-case.dcm"), c, mask);
    CHECK(from_case.frames == some.frames);
    CHECK(from_case.series_uid != some.series_uid);  // a new series each time
    validate(dir / (name + "-case.dcm"), dir / name, dir / (name + ".nii"));
  }
}

TEST_CASE("an empty mask gives a valid SEG with one empty frame") {
  test::ScratchDir dir("seg-empty");
  write_dicom_series(dir / "ct", small_ct());
  const DicomSeries series = read_dicom_series(dir / "ct");
  const Mask empty(series.image.geometry(), 0);
  write_nifti(dir / "empty.nii", empty, series.layout);
  const DicomSegSummary s = write_dicom_seg(dir / "empty.dcm", empty, series.layout, series.source);
  CHECK(s.frames == 1);
  CHECK(s.foreground_pixels == 0);
  validate(dir / "empty.dcm", dir / "ct", dir / "empty.nii");
}

TEST_CASE(
    "the real JPEG 2000 series, anonymised without its UIDs, is refused; with them restored its SEG holds the "
    "pancreas where the NIfTI has it") {
  if (test::no_real_ct()) {
    MESSAGE("skipped: the real CT files are absent (" C2F_REAL_CT_DIR ")");
    return;
  }
  test::ScratchDir dir("seg-real");
  const fs::path folder = test::real_ct("totalsegmentator-example/dicom");
  const DicomSeries series = read_dicom_series(folder);
  const NiftiMask organs = read_nifti_mask(test::real_ct("totalsegmentator-example/dicom_organs_v2.nii.gz"), 7);
  REQUIRE(organs.mask.geometry().same_grid(series.image.geometry(), 0.5));
  // The labels were made on this series: the same voxels, on the grid c2f reads the series onto.
  Mask mask = organs.mask;
  mask.set_geometry(series.image.geometry());

  // Its anonymiser blanked the Study, Series and SOP Instance UIDs and the SOP Class UID of every
  // slice (the file meta still holds the SOP ones): nothing a SEG could reference.
  try {
    write_dicom_seg(dir / "refused.dcm", mask, series.layout, series.source);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.path() == folder.string());
    CHECK(std::string(e.what()).find("SeriesInstanceUID missing") != std::string::npos);
    MESSAGE(std::string(e.what()));
  }
  CHECK_FALSE(fs::exists(dir / "refused.dcm"));

  // A copy with the UIDs restored: SOP Class and Instance from each file's meta information, a
  // study and a series UID for all; pixel data stays JPEG 2000 as stored.
  fs::copy(folder, dir / "dicom");
  edit_slices(dir / "dicom", [](DcmFileFormat& f, int) {
    OFString sop_class, sop_instance;
    REQUIRE(f.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sop_class).good());
    REQUIRE(f.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sop_instance).good());
    DcmDataset& ds = *f.getDataset();
    REQUIRE(ds.putAndInsertOFStringArray(DCM_SOPClassUID, sop_class).good());
    REQUIRE(ds.putAndInsertOFStringArray(DCM_SOPInstanceUID, sop_instance).good());
    REQUIRE(ds.putAndInsertString(DCM_StudyInstanceUID, "2.25.1").good());
    REQUIRE(ds.putAndInsertString(DCM_SeriesInstanceUID, "2.25.2").good());
  });
  const DicomSeries restored = read_dicom_series(dir / "dicom");
  CHECK(restored.transfer_syntax == "1.2.840.10008.1.2.4.90");
  CHECK(restored.source.problem().empty());
  REQUIRE(restored.image.geometry().same_grid(series.image.geometry(), 1e-6));
  write_nifti(dir / "pancreas.nii", mask, restored.layout);
  const DicomSegSummary s = write_dicom_seg(dir / "pancreas.dcm", mask, restored.layout, restored.source);
  CHECK(s.foreground_pixels == 1327);  // the README's count of label 7
  CHECK(s.frames == slices_with_foreground(mask));
  validate(dir / "pancreas.dcm", dir / "dicom", dir / "pancreas.nii");
}

TEST_CASE("a series with missing or inconsistent UIDs gives an InputError naming the folder and no file") {
  test::ScratchDir dir("seg-bad");
  const Image ct = small_ct();
  const auto expect_refused = [&](const fs::path& folder, const std::string& fragment) {
    CAPTURE(fragment);
    const DicomSeries series = read_dicom_series(folder);  // the volume itself reads: NIfTI outputs still work
    const Mask mask = asymmetric_mask(series.image.geometry());
    fs::create_directories(dir / "out");
    for (const bool from_case : {false, true}) {
      try {
        if (from_case) {
          Case c;
          c.source = folder.string();
          c.layout = series.layout;
          write_dicom_seg(dir / "out" / "seg.dcm", c, mask);
        } else {
          write_dicom_seg(dir / "out" / "seg.dcm", mask, series.layout, series.source);
        }
        FAIL("no error");
      } catch (const InputError& e) {
        CHECK(e.path() == folder.string());
        CHECK(std::string(e.what()).find(fragment) != std::string::npos);
        MESSAGE(std::string(e.what()));
      }
      CHECK(test::count_entries(dir / "out") == 0);  // no file, no temporary
    }
  };

  write_dicom_series(dir / "no-series-uid", ct);
  edit_slices(dir / "no-series-uid",
              [](DcmFileFormat& f, int) { f.getDataset()->findAndDeleteElement(DCM_SeriesInstanceUID); });
  expect_refused(dir / "no-series-uid", "SeriesInstanceUID missing");

  write_dicom_series(dir / "two-frames", ct);
  edit_slices(dir / "two-frames", [](DcmFileFormat& f, int i) {
    if (i == 4) f.getDataset()->putAndInsertString(DCM_FrameOfReferenceUID, "2.25.99");
  });
  expect_refused(dir / "two-frames", "slices disagree on FrameOfReferenceUID");

  write_dicom_series(dir / "no-study-uid", ct);
  edit_slices(dir / "no-study-uid", [](DcmFileFormat& f, int i) {
    if (i == 2) f.getDataset()->findAndDeleteElement(DCM_StudyInstanceUID);
  });
  expect_refused(dir / "no-study-uid", "StudyInstanceUID missing");

  write_dicom_series(dir / "bad-sop-uid", ct);
  edit_slices(dir / "bad-sop-uid", [](DcmFileFormat& f, int i) {
    if (i == 0) f.getDataset()->putAndInsertString(DCM_SOPInstanceUID, "1.2.03.x");
  });
  expect_refused(dir / "bad-sop-uid", "is not a valid UID");
}

TEST_CASE("a DICOM-SEG is refused for a case that is not a DICOM series, or a mask off the series' grid") {
  test::ScratchDir dir("seg-misuse");
  const Image ct = small_ct();
  write_dicom_series(dir / "ct", ct);
  const DicomSeries series = read_dicom_series(dir / "ct");
  write_nifti(dir / "ct.nii.gz", ct);
  Case nifti_case;
  nifti_case.source = (dir / "ct.nii.gz").string();
  nifti_case.layout = series.layout;
  CHECK_THROWS_AS(write_dicom_seg(dir / "a.dcm", nifti_case, Mask(ct.geometry(), 0)), InputError);

  Geometry other = ct.geometry();
  other.dims[2] -= 1;
  CHECK_THROWS_AS(write_dicom_seg(dir / "b.dcm", Mask(other, 0), series.layout, series.source), std::invalid_argument);
  DicomSource shorter = series.source;
  shorter.slices.pop_back();
  CHECK_THROWS_AS(write_dicom_seg(dir / "c.dcm", Mask(ct.geometry(), 0), series.layout, shorter), InputError);

  DicomSegOptions bad;
  bad.series_number = -1;
  CHECK_THROWS_AS(write_dicom_seg(dir / "d.dcm", Mask(ct.geometry(), 0), series.layout, series.source, bad),
                  OptionError);
  CHECK_FALSE(fs::exists(dir / "a.dcm"));
  CHECK_FALSE(fs::exists(dir / "b.dcm"));
  CHECK_FALSE(fs::exists(dir / "c.dcm"));
  CHECK_FALSE(fs::exists(dir / "d.dcm"));
}
