// libFuzzer target: the checkpoint loader (LibTorch archive, c2f_info record, weights).
#include "../model/checkpoint.hpp"
#include "../pipeline/errors.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = c2f::fuzz::scratch_dir() / "network.pt";
  c2f::fuzz::write_file(path, data, size);
  try {
    (void)c2f::load_checkpoint(path);
  } catch (const c2f::Error&) {
  }
  return 0;
}
