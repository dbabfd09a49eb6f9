// libFuzzer target: the NIfTI reader (header, orientation, voxel data; gzip when the bytes are).
#include "../io/nifti.hpp"
#include "../pipeline/errors.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const auto path = c2f::fuzz::scratch_dir() / (gz ? "image.nii.gz" : "image.nii");
  c2f::fuzz::write_file(path, data, size);
  try {
    (void)c2f::read_nifti(path);
  } catch (const c2f::Error&) {
  }
  try {
    (void)c2f::read_nifti_mask(path);
  } catch (const c2f::Error&) {
  }
  return 0;
}
