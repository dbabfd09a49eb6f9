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
  # Debian's source archive, at the same address as the binary one this machine already uses
  # (taken from its own apt configuration, so no mirror is written here).
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  uri=$(apt-cache policy | awk -v suite="$codename/main" '$3 == suite && /Packages/ {print $2; exit}')
  [ -n "$uri" ] || { echo "build-tbb-tsan: no $codename/main archive in this machine's apt sources" >&2; exit 1; }
  printf 'Types: deb-src\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" "$codename" "$codename" |
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
