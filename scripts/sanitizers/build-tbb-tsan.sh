#!/usr/bin/env bash
# Builds Debian's own oneTBB source (the version libtbb-dev installs) with ThreadSanitizer into
# build-tbb-tsan/prefix, for scripts/sanitize.sh thread. TSan cannot see the synchronisation
# inside an uninstrumented libtbb.so: every task handed to another thread (a parallel_for body,
# a flow-graph message) would be reported as a race. Idempotent; about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$PWD/build-tbb-tsan
[ -f "$out/prefix/.done" ] && exit 0
version=$(dpkg-query -W -f='${source:Version}' libtbb-dev)
if ! apt-cache showsrc onetbb >/dev/null 2>&1 || [ -z "$(apt-cache showsrc onetbb 2>/dev/null)" ]; then
  # Debian's source archive, beside the binary one the system already uses.
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
    "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/c2f-debian-src.sources >/dev/null
  "${sudo_cmd[@]}" apt-get update -qq
fi
rm -rf "$out" && mkdir -p "$out/src"
(cd "$out/src" && apt-get source -qq --download-only "onetbb=$version" 2>/dev/null && tar xf onetbb_*.orig.tar.xz)
src=$(find "$out/src" -maxdepth 1 -type d -name 'oneTBB-*' | head -1)
cmake -S "$src" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTBB_SANITIZE=thread -DTBB_TEST=OFF \
  -DTBB_EXAMPLES=OFF -DTBB_STRICT=OFF -DCMAKE_INSTALL_PREFIX="$out/prefix" >/dev/null
cmake --build "$out/build"
cmake --install "$out/build" >/dev/null
touch "$out/prefix/.done"
