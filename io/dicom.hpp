#pragma once
// DICOM CT series through GDCM.
//
// Reading takes a folder holding one series: slices are ordered by their position along the
// slice normal (ImagePositionPatient projected on the cross product of ImageOrientationPatient's
// cosines), never by file name or InstanceNumber; RescaleSlope/Intercept give HU; in-plane
// spacing comes from PixelSpacing and the slice spacing from the sorted positions. Any transfer
// syntax GDCM decodes works, JPEG 2000 included (Debian's GDCM links OpenJPEG).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../pipeline/geometry.hpp"
#include "../pipeline/volume.hpp"

namespace c2f {

// One slice of a series as an object derived from it (a DICOM-SEG) references it.
struct DicomSlice {
  std::filesystem::path file;
  std::string sop_class_uid, sop_instance_uid;
  std::string study_uid, frame_of_reference_uid;  // as this slice states them (may disagree: see problem())
  Vec3 position_lps{0, 0, 0};                     // ImagePositionPatient as stored, mm
};

// What a derived object needs from its source series, read from the headers alone (no pixel is
// decoded). The series-level UIDs are the first slice's; problem() says whether every slice
// agrees. Patient and study attributes are not copied here: a writer imports them from
// slices.front().file.
struct DicomSource {
  std::filesystem::path folder;
  std::string study_uid, series_uid, frame_of_reference_uid;
  std::array<double, 6> orientation{};       // ImageOrientationPatient: row then column cosines (LPS)
  std::array<double, 2> pixel_spacing_mm{};  // PixelSpacing: between rows, between columns
  double slice_spacing_mm = 0;               // mean distance between neighbouring slices
  std::int64_t rows = 0, columns = 0;
  Geometry native;                 // the series' own grid (RAS), as DicomSeries::layout.native
  std::vector<DicomSlice> slices;  // in the volume's slice order: native slice k is slices[k]

  // Missing or inconsistent UIDs (a derived object could not reference the series), or "".
  std::string problem() const;
};

struct DicomSeries {
  Image image;          // canonical RAS grid, HU
  NativeLayout layout;  // the series' own grid: columns, rows, slices in position order
  std::string series_uid;
  std::string modality;
  std::string transfer_syntax;
  std::string pixel_type;  // stored pixel type of the first slice, e.g. "int16", "uint16"
  std::vector<std::filesystem::path> files;  // in slice order
  DicomSource source;  // UIDs and positions per slice, in slice order (for a DICOM-SEG)
};

// Throws InputError naming the folder (or the slice file) and the problem: no DICOM images, two
// or more series, slices that disagree in size or orientation, two slices at one position, a
// gap where slices are missing, pixel data that cannot be decoded. Missing or inconsistent UIDs
// are not an error here (the volume does not need them): DicomSource::problem() tells.
DicomSeries read_dicom_series(const std::filesystem::path& folder);

// The headers of the series in the folder, without decoding pixels: the same checks and the same
// slice order as read_dicom_series (which fills DicomSeries::source with the same thing).
DicomSource read_dicom_source(const std::filesystem::path& folder);

// Whether the folder directly holds at least one DICOM file (checks the "DICM" preamble).
bool is_dicom_folder(const std::filesystem::path& folder);

struct DicomWriteOptions {
  std::string patient_id = "C2F_PHANTOM";
  std::uint64_t uid_seed = 1;  // UIDs are derived from it, so the same seed writes the same files
  // Name files by SOP instance UID and number instances in a shuffled order, as real archives
  // often do: readers must sort by position.
  bool scramble_order = false;
  double rescale_intercept = -1024.0;  // stored value = HU - intercept (unsigned 16 bit)
  // Feet first supine (FFS), as a scanner writes it: columns run towards the patient's right and
  // the slice normal (row x column cosine) towards the feet, so readers must flip x and z. Head
  // first supine (HFS, the default): columns towards the left, normal towards the head.
  bool feet_first = false;
};

// Writes a canonical HU volume as an axial CT series, one file per slice, in the scanner's LPS
// convention (rows towards posterior; columns towards the patient's left, or right when feet
// first). InstanceNumber counts from the feet unless scramble_order. Each slice carries the
// series' Study, Series and Frame of Reference UIDs. For tests and the phantom's NIH-style layout.
void write_dicom_series(const std::filesystem::path& folder, const Image& hu, const DicomWriteOptions& options = {});

}  // namespace c2f
