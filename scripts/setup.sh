#!/usr/bin/env bash
# One-stop, idempotent set-up for tests and the demo on a fresh Debian machine:
#   1. Debian packages (brokers, databases, browser) — only the missing ones are installed;
#   2. a Python 3.13 virtual environment in .venv with the pinned lock file, skipped when the
#      stamp (sha256 of the lock file, pyproject.toml and this script) is unchanged;
#   3. real footage and images, fetched and sha256-checked by scripts/fetch_assets.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
venv="$top/.venv"
lock="$top/requirements/lock.txt"
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

find_python() {
  local candidates=()
  [ -n "${STOREFRONT_PYTHON:-}" ] && candidates+=("$STOREFRONT_PYTHON")
  if command -v pyenv >/dev/null; then
    candidates+=("$(pyenv root)"/versions/3.13.*/bin/python)
  fi
  candidates+=(python3.13)
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      command -v "$py"; return 0
    fi
  done
  cat >&2 <<MSG
setup: no Python 3.13 found. Home Assistant 2025.4 and the test suite need it.
  Install it with pyenv ('pyenv install 3.13.0') or your distribution ('apt install python3.13'),
  or point STOREFRONT_PYTHON at a python3.13 binary, then run 'make test' again.
MSG
  return 1
}

install_venv() {
  local stamp="$venv/.storefront-stamp" want
  want=$(cat "$lock" "$top/pyproject.toml" "$top/scripts/setup.sh" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup: .venv is up to date (stamp $want)"
    return 0
  fi
  if [ ! -x "$venv/bin/uv" ] ||
     ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
    local py
    py=$(find_python)
    echo "setup: creating .venv with $py"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet uv==0.6.10
  else
    echo "setup: updating .venv to requirements/lock.txt"
  fi
  # uv verifies TLS with the system's CA store, as pip does here.
  SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt} \
    "$venv/bin/uv" pip sync --quiet --python "$venv/bin/python" "$lock"
  SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt} \
    "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e "$top"
  echo "$want" > "$stamp"
}

install_debian_packages
install_venv
"$top/scripts/fetch_assets.sh"
