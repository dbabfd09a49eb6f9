#include <doctest/doctest.h>

#include "../../model/runtime.hpp"
#include "../../pipeline/errors.hpp"

using namespace c2f;

TEST_CASE("the LibTorch runtime reports its version and what devices it has") {
  const TorchRuntime r = torch_runtime();
  const bool known_major = r.version.rfind("1.", 0) == 0 || r.version.rfind("2.", 0) == 0;
  CHECK(known_major);
  CHECK(r.intra_op_threads >= 1);
  CHECK(r.cuda_devices >= 0);
  CHECK((r.cuda_devices > 0) == r.cuda_available);
}

TEST_CASE("device names are checked against what the runtime has") {
  CHECK(check_device_name("cpu") == "cpu");
  CHECK_THROWS_AS(check_device_name("gpu"), OptionError);
  if (!torch_runtime().cuda_available) CHECK_THROWS_WITH_AS(check_device_name("cuda"), doctest::Contains("no CUDA"), OptionError);
}
