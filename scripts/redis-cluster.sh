#!/usr/bin/env bash
# A local Redis Cluster for the cluster store tests: three masters on loopback
# (ports 7001-7003 unless SESSIONPULSE_REDIS_CLUSTER_PORTS says otherwise), no
# replicas, no persistence. Idempotent: does nothing when the cluster is up and
# `cluster_state:ok`; restarts a node that stopped (it rejoins from its config);
# creates the cluster afresh when no node is running. Exits non-zero when the
# cluster is not ok within about 30 s.
set -euo pipefail

ports=(${SESSIONPULSE_REDIS_CLUSTER_PORTS:-7001 7002 7003})
dir="${SESSIONPULSE_REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/sessionpulse-redis-cluster}"

up() { redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1; }
state_ok() { redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
all_up() { for port in "${ports[@]}"; do up "$port" || return 1; done; }

command -v redis-server >/dev/null || { echo "redis-server is not on PATH (Debian: apt-get install redis-server)" >&2; exit 1; }

if all_up && state_ok; then
  echo "Redis Cluster is up on 127.0.0.1:${ports[*]}"
  exit 0
fi

running=0
for port in "${ports[@]}"; do up "$port" && running=$((running + 1)); done
mkdir -p "$dir"
# No node left: their configs describe a cluster that is gone, so start from nothing.
[ "$running" -eq 0 ] && rm -f "$dir"/nodes-*.conf

for port in "${ports[@]}"; do
  up "$port" && continue
  redis-server --bind 127.0.0.1 --port "$port" --cluster-enabled yes --cluster-config-file "$dir/nodes-$port.conf" \
    --save "" --appendonly no --dir "$dir" --logfile "$dir/redis-$port.log" --daemonize yes
done
for port in "${ports[@]}"; do
  for _ in $(seq 1 50); do up "$port" && break; sleep 0.1; done
  up "$port" || { echo "redis-server on 127.0.0.1:$port did not start (see $dir/redis-$port.log)" >&2; exit 1; }
done

# Nodes that know only themselves have never been joined: join them now.
known=$(redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
if [ "${known:-0}" -lt "${#ports[@]}" ]; then
  nodes=()
  for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
fi

for _ in $(seq 1 300); do
  if all_up && state_ok; then
    echo "Redis Cluster is up on 127.0.0.1:${ports[*]}"
    exit 0
  fi
  sleep 0.1
done
echo "Redis Cluster on 127.0.0.1:${ports[*]} is not cluster_state:ok after 30 s:" >&2
redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info >&2 || true
exit 1
