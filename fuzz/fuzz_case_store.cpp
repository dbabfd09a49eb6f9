// libFuzzer target: the HDF5 case store reader (every case and probability map it lists).
#include "../io/case_store.hpp"
#include "../pipeline/errors.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = c2f::fuzz::scratch_dir() / "store.h5";
  c2f::fuzz::write_file(path, data, size);
  try {
    const c2f::CaseStoreReader store(path);
    for (const auto& id : store.case_ids()) {
      (void)store.read_case(id);
      (void)store.read_probability(id, "fused");
    }
  } catch (const c2f::Error&) {
  }
  return 0;
}
