#!/usr/bin/env bash
# Installs the offline validators that tests/deploy needs, only where they are missing:
#   - docker-compose  (Debian package; `docker-compose config -q` checks docker-compose.yml without an engine)
#   - kubernetes-validate (from the dev dependency group in uv.lock, lands in .venv/bin)
# Idempotent and silent when everything is already there, so `make test` can always call it first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { echo "install_deploy_tools: $*" >&2; }

if ! command -v docker-compose >/dev/null 2>&1; then
    if [[ "$(id -u)" != 0 ]]; then
        say "docker-compose is missing and this is not root: run 'apt-get install docker-compose' as root"
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "docker-compose is missing and there is no apt-get: install docker-compose 1.29+ by hand"
        exit 1
    fi
    say "installing docker-compose (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

if [[ ! -x "$root/.venv/bin/kubernetes-validate" ]]; then
    if ! command -v uv >/dev/null 2>&1; then
        say "kubernetes-validate is missing from .venv and uv is not installed: run 'pip install uv==0.13.9'"
        exit 1
    fi
    say "installing the locked dev dependencies (kubernetes-validate) into .venv"
    # --inexact: add what is missing, remove nothing another step of the build installed.
    (cd "$root" && uv sync --frozen --inexact --quiet)
fi
