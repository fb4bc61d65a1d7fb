#!/usr/bin/env bash
# Start the Docker engine, Redis and a local registry on 127.0.0.1:5000 when none answers, and
# build the local busybox base image (nothing can be pulled). Logs and data live under var/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
mkdir -p "$VAR/log" "$VAR/registry" "$VAR/redis"

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "stack: $what did not come up; see $VAR/log" >&2; return 1; fi
    sleep 0.5
  done
}

if ! docker info >/dev/null 2>&1; then
  echo "stack: starting dockerd without the default bridge (these machines forbid private-range traffic)"
  nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$VAR/log/dockerd.log" 2>&1 &
  wait_for 60 dockerd docker info
fi

REDIS_PORT=${AUTOBUILD_REDIS_PORT:-6379}
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  echo "stack: starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --maxmemory-policy noeviction --daemonize yes --logfile "$VAR/log/redis.log"
  wait_for 20 redis redis-cli -p "$REDIS_PORT" ping
fi

# With AUTOBUILD_REGISTRY_NOTIFY_URL (and AUTOBUILD_REGISTRY_TOKEN) the registry tells Autobuild
# of every push (POST /hooks/registry), so a new base image rebuilds the images built from it.
NOTIFY_URL=${AUTOBUILD_REGISTRY_NOTIFY_URL:-}
if ! curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  echo "stack: starting docker-registry on 127.0.0.1:5000${NOTIFY_URL:+ (notifying $NOTIFY_URL)}"
  (umask 077; cat >"$VAR/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $VAR/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YAML
  if [ -n "$NOTIFY_URL" ]; then
    : "${AUTOBUILD_REGISTRY_TOKEN:?AUTOBUILD_REGISTRY_NOTIFY_URL needs AUTOBUILD_REGISTRY_TOKEN}"
    cat >>"$VAR/registry.yml" <<YAML
notifications:
  endpoints:
    - name: autobuild
      url: $NOTIFY_URL
      headers:
        Authorization: [Bearer $AUTOBUILD_REGISTRY_TOKEN]
      timeout: 10s
      threshold: 5
      backoff: 2s
      ignore:
        mediatypes: [application/octet-stream]
        actions: [pull]
YAML
  fi)
  nohup docker-registry serve "$VAR/registry.yml" >"$VAR/log/registry.log" 2>&1 &
  echo $! >"$VAR/registry.pid"
  wait_for 30 registry curl -fsS http://127.0.0.1:5000/v2/
elif [ -n "$NOTIFY_URL" ] && ! grep -qsF "url: $NOTIFY_URL" "$VAR/registry.yml"; then
  echo "stack: the registry on 127.0.0.1:5000 is already running without notifications to" \
       "$NOTIFY_URL, so pushing a new base image rebuilds nothing; to get them, stop it" \
       "(kill \$(cat $VAR/registry.pid), or the process serving port 5000) and run this again" >&2
fi

if ! docker image inspect local/busybox:latest >/dev/null 2>&1; then
  echo "stack: building the local/busybox:latest base image from Debian's busybox-static"
  d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/tmp" "$d/etc"
  cp /bin/busybox "$d/bin/"
  for applet in sh ls cat echo sleep false true grep mkdir rm cp date env wc; do
    ln -s busybox "$d/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$d/etc/passwd"
  tar -C "$d" -c . | docker import -c 'ENV PATH=/bin' - local/busybox:latest >/dev/null
  rm -rf "$d"
fi
bash scripts/platforms.sh  # QEMU for arm64 and the two-platform base on the registry
echo "stack: docker, redis (127.0.0.1:$REDIS_PORT) and registry (127.0.0.1:5000) are up"
