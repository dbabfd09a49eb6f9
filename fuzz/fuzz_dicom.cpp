// libFuzzer target: the DICOM series reader. The input is split into up to three files of one
// series folder at 0xFF 0xFE 'C' '2' markers, so that the series logic (sorting by position,
// gaps, duplicates, two series) is reached, not only the parser of one file.
#include <string_view>

#include "../io/dicom.hpp"
#include "../pipeline/errors.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const fs::path folder = c2f::fuzz::scratch_dir() / "series";
  std::error_code ec;
  fs::remove_all(folder, ec);
  fs::create_directories(folder);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view marker("\xFF\xFE" "C2", 4);
  std::size_t start = 0;
  for (int file = 0; file < 3; ++file) {
    const std::size_t end = file == 2 ? bytes.size() : std::min(bytes.find(marker, start), bytes.size());
    c2f::fuzz::write_file(folder / ("slice" + std::to_string(file) + ".dcm"), data + start, end - start);
    if (end >= bytes.size()) break;
    start = end + marker.size();
  }
  try {
    (void)c2f::read_dicom_series(folder);
  } catch (const c2f::Error&) {
  }
  return 0;
}
