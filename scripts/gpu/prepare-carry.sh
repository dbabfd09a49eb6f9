#!/usr/bin/env bash
# Here, on Debian 12 after `cmake --build build`: pack what a build on the GPU machine needs
# besides the CUDA LibTorch that machine's PyTorch ships. That machine has no package registry,
# so the headers, CMake package files and shared libraries of c2f's other dependencies travel
# as .carry/c2f-deps.tar.xz (git ignores .carry/; name it in the device tool's `carry`).
#
#   bash scripts/gpu/prepare-carry.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ -f "$build/lib/libc2f_io.so" ] || { echo "prepare-carry: build c2f first (no $build/lib/libc2f_io.so)" >&2; exit 1; }
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.carry/' "$exclude" 2>/dev/null || echo '/.carry/' >> "$exclude"
mkdir -p .carry
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/c2f-deps
mkdir -p "$root"

# Headers, CMake package files and link-time .so names of the -dev packages.
dev_packages="libtbb-dev libhdf5-dev libfmt-dev libnifti2-dev libgdcm-dev libcli11-dev nlohmann-json3-dev doctest-dev
  libopencv-core-dev libopencv-imgproc-dev zlib1g-dev libopenjp2-7-dev libcharls-dev libjsoncpp-dev libsz2 libaec-dev"
list=$stage/files
: > "$list"
# With the library packages each -dev package depends on directly: CMake package files check
# for every library they name (libtbbmalloc, libhdf5_hl, ...), loaded or not.
runtime=$(for pkg in $dev_packages; do
  dpkg-query -W -f='${Depends}\n' "$pkg" 2>/dev/null | tr ',|' '\n\n' | sed 's/(.*)//; s/:any//; s/ //g' | grep '^lib' || true
done | sort -u)
for pkg in $dev_packages $runtime; do
  dpkg -s "$pkg" >/dev/null 2>&1 || continue  # optional ones (codec headers) may be absent
  dpkg -L "$pkg" | while read -r f; do
    case "$f" in /usr/share/doc/* | /usr/share/man/* | /usr/share/lintian/*) continue ;; esac
    if [ -L "$f" ] || [ -f "$f" ]; then echo "$f" >> "$list"; fi
  done
done

# The shared libraries c2f's own libraries load at run time, with their soname links; not
# LibTorch's (the GPU machine has its own) and not the C and C++ runtimes every machine has.
ldd "$build"/lib/libc2f_io.so "$build"/lib/libc2f_phantom.so "$build"/lib/libc2f_stages.so "$build"/lib/libc2f_pipeline.so |
  awk '/=>/ {print $3}' | sort -u |
  grep -vE 'libc2f_|/libc\.so|/libm\.so|/libstdc\+\+|/libgcc_s|/ld-linux|/libpthread|/libdl\.so|/librt\.so' |
  while read -r lib; do
    echo "$lib" >> "$list"
    readlink -f "$lib" >> "$list"
  done
# What the -dev packages' .so links point to (libtbbmalloc.so -> .so.2 -> .so.2.8), which their
# CMake files check for even when c2f does not load it.
while read -r f; do
  [ -L "$f" ] || continue
  t=$(readlink "$f")
  case "$t" in /*) echo "$t" ;; *) echo "$(dirname "$f")/$t" ;; esac
  readlink -f "$f"
done < "$list" > "$list.links"
cat "$list.links" >> "$list"
# One name per file (Debian 12 merged /lib into /usr/lib); tar keeps symbolic links as links.
while read -r f; do echo "$(readlink -f "$(dirname "$f")")/$(basename "$f")"; done < "$list" | sort -u |
  tar -cf - --no-recursion -T - 2>/dev/null | tar -xf - -C "$root"
tar -C "$stage" -cJf .carry/c2f-deps.tar.xz c2f-deps
du -sh "$root" | awk '{print "prepare-carry: " $1 " of headers and libraries"}'
ls -l .carry/c2f-deps.tar.xz | awk '{print "prepare-carry: .carry/c2f-deps.tar.xz, " $5 " bytes"}'
