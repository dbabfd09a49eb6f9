#!/usr/bin/env bash
# Fuzzes c2f's readers with libFuzzer for a bounded time each and reports executions per target.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
# Needs the main build (build/) for the seed corpora, which the phantom writer makes; builds the
# instrumented targets with clang in build-fuzz/. A crash leaves its input in
# build-fuzz/artifacts/<target>/ and fails the script: copy it to tests/data/fuzz-regressions/
# <target>/ and fix the reader; tests/io/test_fuzz_regressions.cpp replays every file there.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
main=${C2F_BUILD:-build}
for tool in c2f-phantom c2f-segment c2f-models replay_fuzz_checkpoint; do
  [ -x "$main/bin/$tool" ] || { echo "fuzz.sh: $main/bin/$tool is missing: build the main tree first" >&2; exit 2; }
done

# Without the model: clang 14 cannot compile LibTorch 1.13's headers as C++20 (incomplete
# c10::IValue in std::vector). The checkpoint loader is fuzzed without coverage feedback instead,
# by the GCC build's replay_fuzz_checkpoint in mutation mode (below).
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-gline-tables-only \
  -DC2F_FUZZ=ON -DC2F_BUILD_TESTS=OFF -DC2F_BUILD_MODEL=OFF >/dev/null
targets=(fuzz_nifti fuzz_dicom fuzz_case_store)
cmake --build build-fuzz --target "${targets[@]}"

# Seed corpora from the phantom writer: tiny cases, so that mutations reach past the headers.
seeds=build-fuzz/seeds
if [ ! -f "$seeds/.done" ]; then
  rm -rf "$seeds" && mkdir -p "$seeds"/{fuzz_nifti,fuzz_dicom,fuzz_case_store,fuzz_checkpoint} "$seeds/work"
  "$main/bin/c2f-phantom" -q --out "$seeds/work/plain" --cases 1 --seed 1 --size 24x20x8
  "$main/bin/c2f-phantom" -q --out "$seeds/work/ras" --cases 1 --seed 2 --size 16x16x8 --orientation RAS
  "$main/bin/c2f-phantom" -q --out "$seeds/work/nih" --cases 1 --seed 3 --size 16x16x8 --layout nih
  for f in "$seeds"/work/plain/*.nii.gz "$seeds"/work/ras/*.nii.gz; do
    cp "$f" "$seeds/fuzz_nifti/$(basename "$(dirname "$f")")_$(basename "$f")"
    gunzip -c "$f" > "$seeds/fuzz_nifti/$(basename "$(dirname "$f")")_$(basename "$f" .gz)"
  done
  # One series of three slices as the DICOM target reads it: files joined by its marker.
  mapfile -t slices < <(find "$seeds/work/nih" -type f -path '*/series/*' | sort)
  printf '\xff\xfeC2' > "$seeds/work/marker"
  cat "${slices[0]}" "$seeds/work/marker" "${slices[1]}" "$seeds/work/marker" "${slices[2]}" > "$seeds/fuzz_dicom/series3"
  cp "${slices[0]}" "$seeds/fuzz_dicom/slice1"
  "$main/bin/c2f-segment" -q -i "$seeds/work/plain" -o "$seeds/work/seg" --save-probability --no-overlays --iterations 1 >/dev/null
  cp "$seeds"/work/seg/*/probability.h5 "$seeds/fuzz_case_store/"
  "$main/bin/c2f-models" --untrained-set light-unet "$seeds/work/models" >/dev/null
  cp "$seeds/work/models/fine_axial.pt" "$seeds/fuzz_checkpoint/"
  touch "$seeds/.done"
fi

# Leaks of a reader are not this job's finding. A malformed HDF5 file makes HDF5 ask malloc for
# 2^58 bytes; it checks for NULL and fails cleanly, as without ASan: let ASan return NULL too
# (and libFuzzer not call one huge malloc an out-of-memory; the RSS limit still holds).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
report=build-fuzz/fuzz-report.txt
: > "$report"
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t artifacts=build-fuzz/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  log=build-fuzz/$t.log
  set +e
  TMPDIR=$(mktemp -d) build-fuzz/bin/$t "$corpus" "$seeds/$t" -max_total_time="$seconds" -rss_limit_mb=4096 -malloc_limit_mb=1048576 \
    -timeout=25 -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  line=$(printf '%-16s %4ss  %9s executions  %6s edges  %s' "$t" "$seconds" "${execs:-?}" "${cov:-?}" \
    "$([ $rc -eq 0 ] && echo ok || echo "FOUND A CRASH (see $log, input in $artifacts)")")
  echo "$line" | tee -a "$report"
  [ $rc -eq 0 ] || status=1
done
# The checkpoint loader: blind mutation of its seeds by the GCC build's replay target.
t=fuzz_checkpoint log=build-fuzz/$t.log
mkdir -p build-fuzz/artifacts/$t
set +e
(cd build-fuzz/artifacts/$t && "$OLDPWD/$main/bin/replay_$t" --mutate-for "$seconds" "$OLDPWD/$seeds/$t") >"$log" 2>&1
rc=$?
set -e
execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
printf '%-16s %4ss  %9s executions  %6s edges  %s\n' "$t" "$seconds" "${execs:-?}" "-" \
  "$([ $rc -eq 0 ] && echo "ok (blind mutation, no coverage: GCC build)" || echo "FOUND A CRASH (see $log; input: build-fuzz/artifacts/$t/mutant)")" | tee -a "$report"
[ $rc -eq 0 ] || status=1
exit $status
