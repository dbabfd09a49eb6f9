// c2f-info: what a user checks first about an image, as JSON on stdout.
#include <nlohmann/json.hpp>

#include "../io/medical_image.hpp"
#include "tool_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Print a NIfTI file's or DICOM series' geometry and intensity range as JSON", "c2f-info"};
  std::string path;
  app.add_option("path", path, "a NIfTI file (.nii, .nii.gz) or a DICOM series folder")->required();
  return c2f::run_tool(app, argc, argv, [&] {
    fmt::print("{}\n", c2f::describe_image(path).dump(2));
    return 0;
  });
}
