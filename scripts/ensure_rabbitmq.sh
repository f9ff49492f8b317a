#!/usr/bin/env bash
# Makes sure a RabbitMQ broker answers at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/).
# If nothing answers on a local address: starts the locally installed rabbitmq-server, installing it first
# on Debian when run as root; otherwise stops and prints the exact command to run.
set -euo pipefail
AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
hostport=${AMQP_URL#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=5672

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if answers; then exit 0; fi
case "$host" in
  127.0.0.1|localhost|::1) ;;
  *) echo "RabbitMQ does not answer at $host:$port (AMQP_URL). Start it there, or unset AMQP_URL to use a local broker." >&2; exit 1 ;;
esac

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_rabbitmq: installing rabbitmq-server (Debian)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  else
    echo "RabbitMQ is not installed. Run: sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached" >&2
    exit 1
  fi
fi

echo "ensure_rabbitmq: starting the local rabbitmq-server" >&2
PATH=$PATH:/usr/sbin
if [ "$(id -u)" = 0 ] || [ -w /var/lib/rabbitmq ]; then
  rabbitmq-server -detached >/dev/null 2>&1 || true
  # A node that exists but whose app was stopped (rabbitmqctl stop_app) needs start_app instead.
  rabbitmqctl start_app >/dev/null 2>&1 || true
else
  echo "Cannot start RabbitMQ as this user. Run: sudo rabbitmq-server -detached" >&2
  exit 1
fi
for _ in $(seq 1 60); do
  if answers; then exit 0; fi
  sleep 1
done
echo "RabbitMQ did not come up on $host:$port within 60 s; see /var/log/rabbitmq/" >&2
exit 1
