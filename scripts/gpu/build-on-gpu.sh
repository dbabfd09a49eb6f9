#!/usr/bin/env bash
# On the GPU machine (see docs/gpu.md): unpack the carried dependencies, build c2f against the
# CUDA LibTorch of the machine's PyTorch, and run the GPU checks and benchmark.
#
#   bash scripts/gpu/build-on-gpu.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-/tmp/c2f-gpu-out}}
mkdir -p "$out"
deps=/tmp/c2f-deps
[ -d "$deps" ] || tar -C /tmp -xJf .carry/c2f-deps.tar.xz
arch=x86_64-linux-gnu
export LD_LIBRARY_PATH="$deps/usr/lib/$arch:$deps/usr/lib/$arch/hdf5/serial/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DCMAKE_LIBRARY_ARCHITECTURE=$arch \
  -DHDF5_ROOT="$deps/usr/lib/$arch/hdf5/serial" \
  -DC2F_REAL_CT_DIR=/nonexistent 2>&1 | tee "$out/cmake.log"
cmake --build build-gpu 2>&1 | tail -50 | tee "$out/build.log"
./build-gpu/bin/c2f-models --untrained-set fcn8s-vgg16 /tmp/fcn8s-untrained
{
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  # CPU fp32 against GPU bf16 on the same phantoms and weights: the masks must agree.
  ./build-gpu/bin/c2f-phantom --out /tmp/ph --cases 4 --seed 4242 --size 128x128x64
  ./build-gpu/bin/c2f-segment -i /tmp/ph -o /tmp/seg-cpu -q --device cpu
  ./build-gpu/bin/c2f-segment -i /tmp/ph -o /tmp/seg-gpu -q --device cuda
  python3 - <<'PY'
import glob, gzip, struct
def voxels(p):
    b = gzip.open(p).read(); off = int(struct.unpack('<f', b[108:112])[0]); return b[off:]
for cpu in sorted(glob.glob('/tmp/seg-cpu/*/mask.nii.gz')):
    a, g = voxels(cpu), voxels(cpu.replace('seg-cpu', 'seg-gpu'))
    both = sum(1 for x, y in zip(a, g) if x and y); n = sum(1 for x in a if x) + sum(1 for y in g if y)
    print(cpu.split('/')[-2], 'DSC(cpu fp32, gpu bf16) =', 1.0 if n == 0 else 2 * both / n)
PY
  ./build-gpu/bin/c2f-bench --device cuda --volume --stages --graph --peak-tflops 989 -o "$out/bench-light.json"
  ./build-gpu/bin/c2f-bench --device cuda --volume --models /tmp/fcn8s-untrained --peak-tflops 989 -o "$out/bench-fcn8s.json"
} 2>&1 | tee "$out/gpu.log"
