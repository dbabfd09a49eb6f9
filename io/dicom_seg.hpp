#pragma once
// DICOM Segmentation objects (DICOM-SEG) through DCMTK's dcmseg: a binary mask written so that
// PACS viewers (OHIF, 3D Slicer, Horos) overlay it on the series it was computed from.
//
// Inputs: the mask on c2f's canonical RAS grid, the NativeLayout that puts it back onto the
// series' own grid (as write_nifti does), and the series' headers (DicomSource).
// Output: one multi-frame SEG file, written atomically, holding
//   * a new Series and SOP Instance UID; the Study Instance UID, Frame of Reference UID and the
//     patient and study modules copied from the source; Referenced Series Sequence naming the
//     source series and every slice of it;
//   * one segment, "Pancreas": category 123037004 "Anatomical Structure", type 15776009
//     "Pancreas" (SNOMED CT, SCT), algorithm type AUTOMATIC, algorithm name "c2f" and c2f's
//     version (also in the Segmentation Algorithm Identification Sequence, family 123110 DCM
//     "Artificial Intelligence");
//   * shared Plane Orientation (Patient) and Pixel Measures from the source; per frame the Plane
//     Position (Patient) of its source slice, as stored there, and a Derivation Image Sequence
//     whose Source Image Sequence names that slice (SOP Class and Instance UID).
// Frame k is native slice k of the series (its slices in position order), i.e. the source slice
// at that Image Position (Patient), whatever order the files were stored or named in.
//
// Frames: by default one per source slice that holds mask voxels (as dcmqi and highdicom do): a
// pancreas spans a fifth of an abdominal scan's slices, and frames without a voxel say nothing a
// reader cannot infer (a SEG's absent frame is empty). An empty mask still gets one empty frame
// (a SEG must have one). every_slice writes a frame for every source slice.
#include <cstdint>
#include <filesystem>
#include <string>

#include "../pipeline/case.hpp"
#include "../pipeline/geometry.hpp"
#include "../pipeline/volume.hpp"
#include "dicom.hpp"

namespace c2f {

struct DicomSegOptions {
  std::string series_description = "c2f pancreas segmentation";  // LO: at most 64 characters
  // A number a CT series rarely has, so that viewers list the SEG apart from its source.
  int series_number = 1000;
  bool every_slice = false;       // a frame for every source slice, empty ones included
  std::string algorithm_version;  // empty: c2f's version (the CMake project version)
  void validate() const;          // throws OptionError
};

// What was written.
struct DicomSegSummary {
  std::string series_uid, sop_instance_uid;
  std::int64_t frames = 0;
  std::int64_t foreground_pixels = 0;
};

// Writes the mask as a DICOM-SEG at `path` (any name; ".dcm" is customary).
// Throws InputError naming the series folder when the series cannot be referenced (a UID missing,
// malformed, or not the same on every slice: DicomSource::problem()) or when its grid is not the
// layout's native grid; std::invalid_argument when the mask is not on the layout's canonical grid;
// OutputError when the file cannot be written. Nothing is left at `path` after an error.
DicomSegSummary write_dicom_seg(const std::filesystem::path& path, const Mask& mask, const NativeLayout& layout,
                                const DicomSource& source, const DicomSegOptions& options = {});

// The same for a case read from a DICOM series folder (Case::source), as c2f-segment holds it:
// the series' headers are read again (no pixel is decoded). Throws InputError naming the folder
// when Case::source is not a DICOM series folder.
DicomSegSummary write_dicom_seg(const std::filesystem::path& path, const Case& c, const Mask& mask,
                                const DicomSegOptions& options = {});

// c2f's version as the SEG states it: the CMake project version.
std::string c2f_version();

}  // namespace c2f
