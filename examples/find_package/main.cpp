// Makes one small phantom with the installed c2f, writes it as NIfTI in LPS order, reads it back
// onto the canonical grid and checks that nothing moved. Exit code 0 when everything lines up.
#include <cstdio>
#include <filesystem>

#include <c2f/io/nifti.hpp>
#include <c2f/phantom/phantom.hpp>

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : "phantom_example.nii.gz";
  c2f::PhantomOptions options;
  options.size = {48, 48, 16};
  const c2f::PhantomCase pc = c2f::make_phantom(options, 0);
  const c2f::Image& image = *pc.c.image;
  c2f::write_nifti(out, image, c2f::layout_with_orientation(image.geometry(), "LPS"));
  const c2f::NiftiVolume back = c2f::read_nifti(out);
  const bool same = back.image.geometry().same_grid(image.geometry(), 1e-3) &&
                    std::equal(image.voxels().begin(), image.voxels().end(), back.image.voxels().begin());
  std::printf("%s: %lld x %lld x %lld voxels, stored %s, pancreas %lld voxels, round trip %s\n", out.c_str(),
              static_cast<long long>(image.nx()), static_cast<long long>(image.ny()), static_cast<long long>(image.nz()),
              back.header.grid.orientation_code().c_str(), static_cast<long long>(c2f::count_foreground(*pc.c.label)),
              same ? "identical" : "DIFFERENT");
  return same ? 0 : 1;
}
