#!/usr/bin/env bash
# Print the path of a Python >= 3.14.2 (what Home Assistant 2026.x requires) as the last line
# of stdout, installing one when none is found. Looked for, in this order:
#   1. $STOREFRONT_PYTHON;
#   2. python3.14 on the PATH;
#   3. pyenv's 3.14.* versions;
#   4. an interpreter uv already manages (`uv python install 3.14` — the first choice on a
#      laptop with internet access);
#   5. the copy this script installed before, in $STOREFRONT_CACHE/python3.14
#      (default ~/.cache/storefront/python3.14, outside the repository, shared by clones);
#   6. else it installs that copy from Debian's own binary packages: forky's (else sid's)
#      python3.14 and the libraries it links, glibc included, unpacked into the cache and
#      relocated with patchelf, so it runs on bookworm without touching the system.
# Machines that reach only Debian, PyPI and npm (no python.org, no GitHub) get Python this way;
# it takes about two minutes once. Logs go to stderr.
set -euo pipefail

series=3.14
minimum=3.14.2
cache=${STOREFRONT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/storefront}
prefix="$cache/python$series"

log() { echo "get_python: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root (or sudo) to run: $*"; exit 1
  fi
}

# An interpreter is good when it is new enough and has the modules HA and the tests rely on,
# and a venv made from it starts.
usable() {
  local py=$1 scratch rc=0
  [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || return 1
  "$py" - "$minimum" >/dev/null 2>&1 <<'PY' || return 1
import sys
if sys.version_info[:3] < tuple(int(part) for part in sys.argv[1].split(".")):
    sys.exit(1)
import bz2, ctypes, ensurepip, hashlib, lzma, sqlite3, ssl, uuid, venv, zlib  # noqa: F401
PY
  scratch=$(mktemp -d)
  "$py" -m venv --without-pip "$scratch/venv" >/dev/null 2>&1 &&
    "$scratch/venv/bin/python" -c 'import ssl, sqlite3' >/dev/null 2>&1 || rc=1
  rm -rf "$scratch"
  return $rc
}

candidates() {
  [ -n "${STOREFRONT_PYTHON:-}" ] && echo "$STOREFRONT_PYTHON"
  command -v "python$series" 2>/dev/null || true
  if command -v pyenv >/dev/null; then
    ls -d "$(pyenv root)"/versions/"$series".*/bin/python"$series" 2>/dev/null | sort -Vr || true
  fi
  if command -v uv >/dev/null; then
    uv python find --no-python-downloads "$series" 2>/dev/null || true
  fi
  ls -d "${UV_PYTHON_INSTALL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/uv/python}"/cpython-"$series".*/bin/python"$series" \
    2>/dev/null | sort -Vr || true
  echo "$prefix/bin/python$series"
}

find_existing() {
  local py
  while IFS= read -r py; do
    if usable "$py"; then command -v "$py"; return 0; fi
  done < <(candidates)
  return 1
}

# The first Debian archive of the system's apt sources (deb822 or one-line format).
debian_mirror() {
  {
    awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk '/^deb / {print $2}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
  } | grep -v -- '-security' | head -n 1
}

# apt-get/apt-cache options for a private set of indexes (forky, sid): the system's sources,
# preferences and package state stay untouched.
private_apt() {
  local dir=$1 mirror=$2
  mkdir -p "$dir/lists/partial" "$dir/archives/partial"
  printf 'deb %s %s main\n' "$mirror" forky "$mirror" sid > "$dir/sources.list"
  apt_options=(
    -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o Dir::State::Lists="$dir/lists" -o Dir::State::status=/dev/null
    -o Dir::Cache="$dir" -o Dir::Cache::archives="$dir/archives"
    -o APT::Sandbox::User="$(id -un)" -o Acquire::Retries=3 -o Acquire::Languages=none
    -o APT::Architectures="$(dpkg --print-architecture)"
  )
}

# "suite version" of the newest python3.14 binary package >= $minimum, forky first.
pick_release() {
  local suite version
  for suite in forky sid; do
    version=$(apt-cache "${apt_options[@]}" madison "python$series-minimal" |
      awk -F'|' -v s=" $suite/" '$3 ~ s {gsub(/ /, "", $2); print $2}' | sort -Vr | head -n 1)
    [ -n "$version" ] || continue
    local upstream=${version%%-*}
    [[ $upstream =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue   # no alphas or release candidates
    dpkg --compare-versions "$upstream" ge "$minimum" || continue
    echo "$suite $version"; return 0
  done
  return 1
}

# Unpack the interpreter, its standard library, venv, pip's wheel and every shared library
# they need into $tree (one directory, as if it were /).
unpack_packages() {
  local suite=$1 tree=$2 debs=$3 libraries
  local -a options=("${apt_options[@]}" -o APT::Default-Release="$suite")
  libraries=$(apt-cache "${options[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances \
    "python$series-minimal" "libpython$series-stdlib" | grep -E '^lib[a-z0-9]' | sort -u)
  mkdir -p "$debs"
  # shellcheck disable=SC2086  # one word per package name
  (cd "$debs" && apt-get "${options[@]}" download -q \
    "python$series" "python$series-minimal" "python$series-venv" "python$series-dev" \
    "libpython$series-minimal" "libpython$series-stdlib" "libpython$series-dev" \
    python3-pip-whl python3-setuptools-whl $libraries >&2)
  local deb
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$tree"; done
}

# Make the unpacked tree work from $prefix: the interpreter loads the tree's own glibc and
# libraries, links point inside the tree, and the paths Debian compiled in follow it.
relocate() {
  local tree=$1 triplet libdir loader link target script
  triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
  libdir="$prefix/usr/lib/$triplet"
  loader=$(basename "$(patchelf --print-interpreter "$tree/usr/bin/python$series")")
  [ -e "$tree/usr/lib/$triplet/$loader" ] || { log "no $loader among the unpacked libraries"; return 1; }
  # DT_RPATH (not RUNPATH) so that extension modules find the tree's libraries as well.
  patchelf --set-interpreter "$libdir/$loader" --force-rpath --set-rpath "$libdir" \
    "$tree/usr/bin/python$series"
  while IFS= read -r link; do
    target=$(readlink "$link")
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$tree$target")" "$link"
  done < <(find "$tree" -type l -lname '/*')
  # Debian's pyconfig.h only includes the multiarch one from /usr/include/<triplet>.
  if [ -f "$tree/usr/include/$triplet/python$series/pyconfig.h" ]; then
    cp --remove-destination "$tree/usr/include/$triplet/python$series/pyconfig.h" \
      "$tree/usr/include/python$series/pyconfig.h"
  fi
  # ensurepip (python -m venv) looks for pip's wheel where Debian keeps it.
  grep -rl /usr/share/python-wheels "$tree/usr/lib/python$series"/_sysconfig* 2>/dev/null |
    xargs -r sed -i -E "s#(['\"])/usr/share/python-wheels/?(['\"])#\1$prefix/usr/share/python-wheels/\2#g"
  for script in "$tree"/usr/bin/*; do
    [ -L "$script" ] || [ "$(head -c 2 "$script")" != '#!' ] ||
      sed -i "1s|^#! *\(/usr/bin/python$series\)|#!$prefix\1|" "$script"
  done
  # bin/ lib/ include/ at the top, so $prefix/bin/python3.14 finds its standard library both
  # when run directly and as the home of a venv.
  ln -s usr/bin "$tree/bin"; ln -s usr/lib "$tree/lib"; ln -s usr/include "$tree/include"
}

install_from_debian() {
  local work="$prefix.work" mirror release
  command -v patchelf >/dev/null || {
    log "installing patchelf"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patchelf >&2 ||
      { as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive \
          apt-get install -y -qq --no-install-recommends patchelf >&2; }
  }
  mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
  [ -n "$mirror" ] || { log "no Debian mirror in the apt sources: set DEBIAN_MIRROR"; return 1; }
  rm -rf "$work"; mkdir -p "$work"
  private_apt "$work/apt" "$mirror"
  log "reading forky's and sid's package lists from $mirror"
  apt-get "${apt_options[@]}" update -qq >&2
  release=$(pick_release) || { log "no python$series >= $minimum in Debian forky or sid"; return 1; }
  log "installing Debian's python$series ${release#* } (${release%% *}) into $prefix"
  unpack_packages "${release%% *}" "$work/tree" "$work/debs"
  relocate "$work/tree"
  echo "debian ${release#* } ${release%% *}" > "$work/tree/.storefront-python"
  rm -rf "$prefix"; mv "$work/tree" "$prefix"
  rm -rf "$work"
}

if [ -n "${STOREFRONT_PYTHON:-}" ] && ! usable "$STOREFRONT_PYTHON"; then
  log "STOREFRONT_PYTHON=$STOREFRONT_PYTHON is not a working Python >= $minimum (with ssl, sqlite3"
  log "and venv): point it at one, or unset it to let this script find or install one"
  exit 1
fi
if python=$(find_existing); then
  log "using $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))"
  echo "$python"; exit 0
fi
log "no Python >= $minimum found (STOREFRONT_PYTHON, PATH, pyenv, uv, $prefix)"
if [ -e "$prefix" ] && [ ! -e "$prefix/.storefront-python" ]; then
  log "$prefix exists but was not made by this script: move it away or set STOREFRONT_PYTHON"; exit 1
fi
install_from_debian
usable "$prefix/bin/python$series" || { log "$prefix/bin/python$series does not work"; exit 1; }
log "ready: $prefix/bin/python$series"
echo "$prefix/bin/python$series"
