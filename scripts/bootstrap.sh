#!/usr/bin/env bash
# Creates the development environment from nothing: finds (or, on Debian as root, installs) Python 3.11+,
# puts uv in .tools/, and installs every workspace package from uv.lock into .venv/. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

PYTHON=$(find_python || true)
if [ -z "$PYTHON" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Python 3 with venv support (Debian)" >&2
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv python3-dev gcc >/dev/null
    PYTHON=$(find_python)
  else
    echo "bootstrap: Python 3.11+ with the venv module is required; on Debian run: sudo apt-get install python3 python3-venv" >&2
    exit 1
  fi
fi

if [ ! -x .tools/bin/uv ] || ! .tools/bin/uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
  echo "bootstrap: installing uv $UV_VERSION into .tools/" >&2
  "$PYTHON" -m venv .tools
  .tools/bin/pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi

# --frozen: install exactly what uv.lock says; a pyproject change without `uv lock` fails loudly here.
UV_PYTHON="$PYTHON" .tools/bin/uv sync --all-packages --frozen --quiet
