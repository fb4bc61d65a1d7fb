#!/usr/bin/env bash
# Install what Autobuild needs on Debian 12 (as root): the engine, registry and Redis packages,
# then a virtualenv with the project under var/venv. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
mkdir -p "$VAR"

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v git-lfs >/dev/null 2>&1 || need_apt+=(git-lfs)  # rules with lfs: true
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
[ -x /usr/bin/qemu-aarch64-static ] || need_apt+=(qemu-user-static)  # arm64 builds: platforms.sh
command -v update-binfmts >/dev/null 2>&1 || need_apt+=(binfmt-support)
if [ "${1:-run}" = test ]; then  # browser tests drive Debian's Chromium (no browser downloads)
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)  # checks deploy/systemd units
fi
if [ "${1:-run}" = test ] || [ "${1:-run}" = bench ]; then  # records tests and bench on PostgreSQL
  command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
fi
if [ "${1:-run}" = bench ]; then  # scripts/bench: the intake load generator
  command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$VAR/venv/bin/python" ]; then
  echo "setup: creating virtualenv var/venv"
  python3 -m venv "$VAR/venv"
fi
stamp="$VAR/venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${1:-run}"
if [ ! -f "$stamp" ]; then
  echo "setup: installing the project into var/venv"
  "$VAR/venv/bin/pip" install -q --upgrade pip
  if [ "${1:-run}" = test ]; then
    "$VAR/venv/bin/pip" install -q -e ".[test]"
  elif [ "${1:-run}" = bench ]; then
    "$VAR/venv/bin/pip" install -q -e ".[bench]"
  else
    "$VAR/venv/bin/pip" install -q -e .
  fi
  touch "$stamp"
fi
