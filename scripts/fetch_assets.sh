#!/usr/bin/env bash
# Fetch the real footage and images the tests, benchmarks and demo use.
# They come from Debian's opencv-doc package (Apache-2.0 / BSD-3-Clause) and are never committed:
# the .deb is cached under $STOREFRONT_CACHE, every extracted file is checked against its sha256,
# and the results land in .assets/ (git-ignored).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${STOREFRONT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/storefront}
assets="$top/.assets"
deb_name="opencv-doc_4.6.0+dfsg-12_all.deb"
deb_sha="4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a"
data="./usr/share/doc/opencv-doc/examples/data"

# file name  sha256
files="
vtest.avi 45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
basketball1.png ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6
messi5.jpg 1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9
box.png 1094629c1e2ebbc8a9ae2c9c63e18c1dff0f5f1481146e02f3b11a3d30feb20a
box_in_scene.png 8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51
fruits.jpg 9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1
smarties.png ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417
"

all_present() {
  local name sum
  while read -r name sum; do
    [ -n "$name" ] || continue
    echo "$sum  $assets/$name" | sha256sum --check --status 2>/dev/null || return 1
  done <<<"$files"
}

if all_present; then
  exit 0
fi

mkdir -p "$cache" "$assets"
deb="$cache/$deb_name"
if ! echo "$deb_sha  $deb" | sha256sum --check --status 2>/dev/null; then
  echo "fetch_assets: downloading $deb_name from Debian (95 MB, cached in $cache)"
  (cd "$cache" && rm -f "$deb_name" && apt-get download opencv-doc=4.6.0+dfsg-12) || {
    echo "fetch_assets: 'apt-get download opencv-doc=4.6.0+dfsg-12' failed." >&2
    echo "  Run 'apt-get update' (Debian bookworm sources) and try again." >&2
    exit 1
  }
  echo "$deb_sha  $deb" | sha256sum --check --status || {
    echo "fetch_assets: $deb does not match its expected sha256; refusing to use it." >&2
    exit 1
  }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
members=()
while read -r name _; do
  [ -n "$name" ] && members+=("$data/$name")
done <<<"$files"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "${members[@]}"
while read -r name sum; do
  [ -n "$name" ] || continue
  echo "$sum  $tmp/$data/$name" | sha256sum --check --status || {
    echo "fetch_assets: $name from $deb_name has an unexpected sha256." >&2
    exit 1
  }
  cp "$tmp/$data/$name" "$assets/$name"
done <<<"$files"
echo "fetch_assets: footage ready in $assets"
