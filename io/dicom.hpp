#pragma once
// DICOM CT series through GDCM.
//
// Reading takes a folder holding one series: slices are ordered by their position along the
// slice normal (ImagePositionPatient projected on the cross product of ImageOrientationPatient's
// cosines), never by file name or InstanceNumber; RescaleSlope/Intercept give HU; in-plane
// spacing comes from PixelSpacing and the slice spacing from the sorted positions. Any transfer
// syntax GDCM decodes works, JPEG 2000 included (Debian's GDCM links OpenJPEG).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../pipeline/geometry.hpp"
#include "../pipeline/volume.hpp"

namespace c2f {

struct DicomSeries {
  Image image;          // canonical RAS grid, HU
  NativeLayout layout;  // the series' own grid: columns, rows, slices in position order
  std::string series_uid;
  std::string modality;
  std::string transfer_syntax;
  std::string pixel_type;  // stored pixel type of the first slice, e.g. "int16", "uint16"
  std::vector<std::filesystem::path> files;  // in slice order
};

// Throws InputError naming the folder (or the slice file) and the problem: no DICOM images, two
// or more series, slices that disagree in size or orientation, two slices at one position, a
// gap where slices are missing, pixel data that cannot be decoded.
DicomSeries read_dicom_series(const std::filesystem::path& folder);

// Whether the folder directly holds at least one DICOM file (checks the "DICM" preamble).
bool is_dicom_folder(const std::filesystem::path& folder);

struct DicomWriteOptions {
  std::string patient_id = "C2F_PHANTOM";
  std::uint64_t uid_seed = 1;  // UIDs are derived from it, so the same seed writes the same files
  // Name files by SOP instance UID and number instances in a shuffled order, as real archives
  // often do: readers must sort by position.
  bool scramble_order = false;
  double rescale_intercept = -1024.0;  // stored value = HU - intercept (unsigned 16 bit)
};

// Writes a canonical HU volume as an axial CT series, one file per slice, in the scanner's LPS
// convention (rows towards posterior, columns towards the patient's left). For tests and the
// phantom's NIH-style layout.
void write_dicom_series(const std::filesystem::path& folder, const Image& hu, const DicomWriteOptions& options = {});

}  // namespace c2f
