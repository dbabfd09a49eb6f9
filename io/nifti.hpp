#pragma once
// NIfTI-1 and NIfTI-2 reading and writing (.nii and .nii.gz) through libnifti2.
//
// Reading applies scl_slope/scl_inter, takes the grid from the sform (else the qform, else the
// voxel sizes alone), and reorients the voxels to the canonical RAS grid (geometry.hpp). The
// file's own grid is kept in the returned NativeLayout, and writing through that layout puts the
// voxels back in the file's order with its geometry, so a mask lines up with its input voxel for
// voxel and in any viewer.
#include <filesystem>
#include <string>

#include "../pipeline/geometry.hpp"
#include "../pipeline/volume.hpp"

namespace c2f {

// What the header says, as read.
struct NiftiHeader {
  int version = 1;          // 1 or 2
  int datatype = 0;         // NIfTI DT_* code
  std::string datatype_name;  // "int16", "float32", ...
  double scl_slope = 1.0, scl_inter = 0.0;
  int qform_code = 0, sform_code = 0;
  Geometry grid;  // the file's own grid (file axis order)
};

struct NiftiVolume {
  Image image;          // canonical RAS grid, values after scaling
  NativeLayout layout;  // back to the file's grid
  NiftiHeader header;
};

// Reads a NIfTI file. Throws InputError naming the file and the problem: missing, not NIfTI,
// truncated, zero or absurd dims, more than one volume, unsupported datatype, NaN/Inf voxels.
NiftiVolume read_nifti(const std::filesystem::path& path);

// Reads only the header (cheap: for listings and checks).
NiftiHeader read_nifti_header(const std::filesystem::path& path);

// A label file as a mask: voxels > 0.5 are foreground (so MSD's 1 = pancreas and 2 = tumour
// both count, and float-stored binary masks work). With a label value, only voxels of that value
// are (a multi-organ map: TotalSegmentator v2's pancreas is 7).
struct NiftiMask {
  Mask mask;
  NativeLayout layout;
  NiftiHeader header;
};
NiftiMask read_nifti_mask(const std::filesystem::path& path, int label_value = 0);

struct NiftiWriteOptions {
  int version = 1;            // 1 or 2 (2 is chosen automatically when dims exceed NIfTI-1's)
  int compression_level = 1;  // for .nii.gz: 1 is fast and close to the best for masks
  int qform_code = 1;         // NIFTI_XFORM_SCANNER_ANAT
  int sform_code = 1;
  std::string description = "c2f";
};

// Writes a volume (canonical grid) back onto a native grid, atomically (temporary name, rename).
// The name decides compression: ".nii.gz" compressed, ".nii" not.
// T: uint8, int16, int32, float or double.
template <class T>
void write_nifti(const std::filesystem::path& path, const Volume<T>& canonical, const NativeLayout& layout,
                 const NiftiWriteOptions& options = {});

// Writes a volume with its own grid as the file's grid.
template <class T>
void write_nifti(const std::filesystem::path& path, const Volume<T>& volume, const NiftiWriteOptions& options = {});

// The 4x4 voxel-to-world matrix of a grid (RAS mm), row-major.
std::array<std::array<double, 4>, 4> affine_of(const Geometry& g);

}  // namespace c2f
