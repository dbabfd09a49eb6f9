#pragma once
// One entry point for "an image a user points at": a NIfTI file or a DICOM series folder.
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "../pipeline/geometry.hpp"
#include "../pipeline/volume.hpp"

namespace c2f {

struct MedicalImage {
  Image image;          // canonical RAS grid, HU
  NativeLayout layout;  // back to the file's grid
  std::string format;   // "nifti-1", "nifti-2" or "dicom"
  std::string datatype; // stored datatype ("int16", "uint16", ...; for DICOM the first slice's)
  int qform_code = 1, sform_code = 1;  // NIfTI codes to write results back with
};

// Reads a NIfTI file (.nii, .nii.gz) or a DICOM series folder. Throws InputError.
MedicalImage read_medical_image(const std::filesystem::path& path);

// What `c2f-info` prints: the file's own grid (dims, spacing, origin, direction, orientation),
// its datatype, and min/max/mean of the values after scaling to HU.
nlohmann::json describe_image(const std::filesystem::path& path);

}  // namespace c2f
