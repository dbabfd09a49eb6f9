#!/usr/bin/env bash
# Builds the whole tree with sanitizers and runs the test suite under them; any report fails.
#   bash scripts/sanitize.sh address   # ASan + UBSan, every test
#   bash scripts/sanitize.sh thread    # TSan, the suites that run oneTBB flow graphs and parallel loops
# Build folders: build-asan/, build-tsan/.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: sanitize.sh address|thread}
supp=$PWD/scripts/sanitizers
case $kind in
  address)
    dir=build-asan; flags="address,undefined"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
    filter=() ;;
  thread)
    dir=build-tsan; flags="thread"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
    # The model suite runs LibTorch only (no flow graph); LibTorch is not built for TSan.
    filter=(-E '^model: ') ;;
  *) echo "sanitize.sh: unknown kind '$kind' (address or thread)" >&2; exit 2 ;;
esac
# -g1: line tables for the reports, without the compile time of full debug information.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g1 -DC2F_SANITIZE="$flags" >/dev/null
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure -j2 "${filter[@]}"
