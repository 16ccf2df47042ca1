#!/usr/bin/env bash
# One-stop, idempotent set-up for tests and the demo on a fresh Debian machine:
#   1. Debian packages (brokers, databases, browser) — only the missing ones are installed;
#   2. Python >= 3.14.2 (scripts/get_python.sh finds one or installs one from Debian's packages)
#      and a virtual environment in .venv with the pinned requirements/lock.txt (Home Assistant
#      and every test tool);
#   3. the edge node's own venv, .venv-edge, on Python 3.11 (Raspberry Pi OS bookworm's) with
#      requirements/edge-lock.txt and no Home Assistant;
#   4. real footage and images, fetched and sha256-checked by scripts/fetch_assets.sh, and the
#      demo's shelf clip composed from them (storefront_dev/shelf_scenes.py).
# Each venv is skipped when its stamp (sha256 of its lock file, pyproject.toml and this script)
# is unchanged, so a second run reinstalls nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
venv="$top/.venv"
lock="$top/requirements/lock.txt"
edge_venv="$top/.venv-edge"
edge_lock="$top/requirements/edge-lock.txt"
apt_packages=(mosquitto mosquitto-clients influxdb victoria-metrics chromium fonts-dejavu-core)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root (or sudo) to run: $*" >&2; exit 1
  fi
}

install_debian_packages() {
  local missing=()
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Home Assistant pins this uv; the lock file installs the same one over it.
uv_version=0.13.5
# uv verifies TLS with the system's CA store, as pip does here.
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

python_is() {  # python_is PY MAJOR.MINOR
  "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$2'.split('.'))))" 2>/dev/null
}

# The camera node's Python: Raspberry Pi OS bookworm ships 3.11, as Debian bookworm does.
find_edge_python() {
  local py candidates=()
  [ -n "${STOREFRONT_EDGE_PYTHON:-}" ] && candidates+=("$STOREFRONT_EDGE_PYTHON")
  candidates+=(/usr/bin/python3 python3.11)
  if command -v pyenv >/dev/null; then
    candidates+=("$(pyenv root)"/versions/3.11.*/bin/python3.11)
  fi
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 && python_is "$py" 3.11; then
      command -v "$py"; return 0
    fi
  done
  cat >&2 <<MSG
setup: no Python 3.11 found for the edge node's tests (Raspberry Pi OS bookworm runs 3.11).
  Install Debian's python3 (bookworm), 'pyenv install 3.11', or point STOREFRONT_EDGE_PYTHON at
  a python3.11 binary, then run 'make test' again.
MSG
  return 1
}

stamp_of() {  # stamp_of LOCK: what a venv built from LOCK was made from
  cat "$1" "$top/pyproject.toml" "$top/scripts/setup.sh" | sha256sum | cut -d' ' -f1
}

up_to_date() {  # up_to_date VENV STAMP
  [ -f "$1/.storefront-stamp" ] && [ "$(cat "$1/.storefront-stamp")" = "$2" ]
}

sync_venv() {  # sync_venv VENV LOCK STAMP: the lock's packages and the node, editable
  "$venv/bin/uv" pip sync --quiet --python "$1/bin/python" "$2"
  "$venv/bin/uv" pip install --quiet --python "$1/bin/python" --no-deps -e "$top"
  echo "$3" > "$1/.storefront-stamp"
}

venv_usable() {  # the main venv on Python 3.14, with the uv that set-up runs
  [ -x "$venv/bin/uv" ] && python_is "$venv/bin/python" 3.14
}

create_venv() {
  local py
  py=$("$top/scripts/get_python.sh" | tail -n 1)
  echo "setup: creating .venv with $py"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "uv==$uv_version"
}

edge_venv_usable() {
  python_is "$edge_venv/bin/python" 3.11
}

create_edge_venv() {
  local py
  py=$(find_edge_python)
  echo "setup: creating .venv-edge with $py"
  rm -rf "$edge_venv"
  "$venv/bin/uv" venv --quiet --python "$py" "$edge_venv"
}

# install_venv VENV LOCK USABLE CREATE: VENV synced to LOCK; made anew by CREATE unless USABLE
# says the one there will do.
install_venv() {
  local name want
  name=$(basename "$1")
  want=$(stamp_of "$2")
  if up_to_date "$1" "$want"; then
    echo "setup: $name is up to date (stamp $want)"
    return 0
  fi
  if "$3"; then
    echo "setup: updating $name to ${2#"$top"/}"
  else
    "$4"
  fi
  sync_venv "$1" "$2" "$want"
}

install_debian_packages
install_venv "$venv" "$lock" venv_usable create_venv
install_venv "$edge_venv" "$edge_lock" edge_venv_usable create_edge_venv
"$top/scripts/fetch_assets.sh"
if [ ! -f "$top/.assets/demo-shelf.truth.json" ]; then
  echo "setup: composing the demo's shelf clip into .assets/ (about a minute)"
  (cd "$top" && "$venv/bin/python" -m storefront_dev.shelf_scenes .assets .assets demo-shelf)
fi
