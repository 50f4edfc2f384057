#!/usr/bin/env bash
# Redis for tomecast without Docker: data kept on disk (appendonly, fsync every second, plus snapshots), a
# password, this machine only. Prints the TOMECAST_BROKER_URL to export.
#
#   scripts/redis.sh [DIR]          start (DIR: data, config and password; default ~/.local/share/tomecast/redis)
#   scripts/redis.sh --stop [DIR]   stop (Redis writes its data first)
#   REDIS_PORT=6380 scripts/redis.sh    another port (default 6379)
#
# Needs redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis). The password is
# made once (32 hex digits) and kept in DIR/password (mode 600); it never appears on a command line.
set -euo pipefail

stop=0
if [ "${1:-}" = "--stop" ]; then stop=1; shift; fi
dir=${1:-${XDG_DATA_HOME:-$HOME/.local/share}/tomecast/redis}
port=${REDIS_PORT:-6379}
mkdir -p "$dir"
chmod 700 "$dir"
pwfile=$dir/password
if [ ! -s "$pwfile" ]; then
  (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$pwfile")
fi
password=$(cat "$pwfile")
export REDISCLI_AUTH=$password

if [ "$stop" = 1 ]; then
  redis-cli -p "$port" shutdown
  exit 0
fi

command -v redis-server >/dev/null || { echo "redis.sh: redis-server is not installed" >&2; exit 1; }
(umask 077; cat > "$dir/redis.conf" <<CONF
bind 127.0.0.1 -::1
port $port
dir $dir
requirepass $password
appendonly yes
appendfsync everysec
save 3600 1 300 100 60 10000
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
CONF
)
redis-server "$dir/redis.conf"
for _ in $(seq 100); do
  if redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "export TOMECAST_BROKER_URL=redis://:$password@127.0.0.1:$port/0"
    exit 0
  fi
  sleep 0.1
done
echo "redis.sh: Redis did not answer on port $port; see $dir/redis.log" >&2
exit 1
