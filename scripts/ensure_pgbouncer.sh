#!/usr/bin/env bash
# Best effort: make the `pgbouncer` binary available for tests/deploy/test_pgbouncer.py, which runs a
# service's database through PgBouncer in transaction mode. As root on Debian it installs the package
# (only the binary is used: the test starts its own PgBouncer on a free port, with its own config, and
# the package's own service is left stopped); otherwise it prints the command. The test is skipped, with
# the reason, when the binary is missing.
set -uo pipefail
command -v pgbouncer >/dev/null 2>&1 && exit 0
[ -x /usr/sbin/pgbouncer ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_pgbouncer: pgbouncer is missing; on Debian run as root: apt-get install pgbouncer" >&2
  exit 0
fi
echo "ensure_pgbouncer: installing pgbouncer (Debian package)" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# policy-rc.d 101: the package's post-install must not start its own instance on 6432.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && created_policy=1
fi
if ! { apt-get install -y -qq --no-install-recommends pgbouncer >"$log" 2>&1 \
       || { apt-get update -qq >>"$log" 2>&1 && apt-get install -y -qq --no-install-recommends pgbouncer >>"$log" 2>&1; }; }; then
  cat "$log" >&2
fi
[ "$created_policy" = 1 ] && rm -f "$policy"
rm -f "$log"
exit 0
