#!/usr/bin/env bash
# Builds the tree with sanitizers and runs the test suite under them; any report fails a test.
#   bash scripts/sanitize.sh address [--without-model]   # ASan + UBSan
#   bash scripts/sanitize.sh thread  [--without-model]   # TSan
# The whole suite takes about an hour on 2 cores (LibTorch translation units, the model tests);
# --without-model builds everything but LibTorch's part (about 15 minutes): the readers, the stages,
# the phantom, the inference flow graph on stand-in networks and the fuzz regression replays.
# Build folders: build-asan/, build-tsan/ (and -lite/ without the model).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: sanitize.sh address|thread [--without-model]}
model=ON suffix=
if [ "${2:-}" = --without-model ]; then model=OFF suffix=-lite; fi
supp=$PWD/scripts/sanitizers
filter=() extra=()
case $kind in
  address)
    dir=build-asan$suffix; flags="address,undefined"
    # allocator_may_return_null: a malformed HDF5 file (a fuzz regression) makes HDF5 ask for
    # 2^58 bytes; HDF5 checks for NULL and fails cleanly, as it does without ASan.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp" ;;
  thread)
    dir=build-tsan$suffix; flags="thread"
    # Against a oneTBB built with TSan (Debian's own source): an uninstrumented libtbb hides the
    # synchronisation of every task hand-off, and TSan would report each one as a race.
    bash scripts/sanitizers/build-tbb-tsan.sh
    extra=(-DCMAKE_PREFIX_PATH="$PWD/build-tbb-tsan/prefix")
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1:suppressions=$supp/tsan.supp"
    # Only what runs threads of c2f's own. The model suite runs LibTorch alone (not built for
    # TSan: its thread pool would be all the suite reports); the fuzz replays (single-threaded
    # readers: ASan's part), reports, evaluation and training suites run no threads; the
    # candidate stage's loops are OpenCV's, which run serially under TSan (tests/test_main.cpp).
    filter=(-E '^(model|fuzz|reports|evaluation|training): |cascade|superpixel') ;;
  *) echo "sanitize.sh: unknown kind '$kind' (address or thread)" >&2; exit 2 ;;
esac
# -g1: line tables for the reports, without the compile time of full debug information.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g1 -DC2F_SANITIZE="$flags" \
  -DC2F_BUILD_MODEL=$model "${extra[@]}" >/dev/null
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure -j2 "${filter[@]}"
