#!/usr/bin/env bash
# Best effort: if a local PostgreSQL cluster is installed but stopped, start it, so the PostgreSQL variants
# of the tests run. Tests that need PostgreSQL are skipped (with the reason) when none answers.
set -uo pipefail
url=${CRM_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
hostport=${url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=5432
(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  done
fi
exit 0
