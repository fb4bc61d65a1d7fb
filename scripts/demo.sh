#!/usr/bin/env bash
# Seed the demo: a small app with a Dockerfile committed into var/demo/hello.git (a bare repo the
# example rules point at), FROM the registry's base image 127.0.0.1:5000/local/busybox (pushing a
# new one rebuilds the demo), and var/secrets.env with a generated API token, webhook secret and
# registry notification token.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
mkdir -p "$VAR/demo"

if [ ! -f "$VAR/secrets.env" ]; then
  umask 077
  {
    echo "AUTOBUILD_API_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    echo "AUTOBUILD_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    echo "AUTOBUILD_DEMO_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  } >"$VAR/secrets.env"
fi
if ! grep -q '^AUTOBUILD_REGISTRY_TOKEN=' "$VAR/secrets.env"; then  # the registry's notifications
  (umask 077; echo "AUTOBUILD_REGISTRY_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    >>"$VAR/secrets.env")
fi

if [ ! -d "$VAR/demo/hello.git" ]; then
  work=$(mktemp -d)
  mkdir -p "$work/app"
  cat >"$work/Dockerfile" <<'DOCKERFILE'
FROM 127.0.0.1:5000/local/busybox:latest
COPY app/ /app/
RUN echo "built at $(date -u +%Y-%m-%dT%H:%M:%SZ)" > /app/BUILD_INFO && cat /app/BUILD_INFO
CMD ["/bin/sh", "/app/hello.sh"]
DOCKERFILE
  cat >"$work/app/hello.sh" <<'APP'
#!/bin/sh
echo "Hello from the Autobuild demo"
APP
  cat >"$work/README.md" <<'README'
# demo/hello

The Autobuild demo: push to main (or press Build now) and it becomes 127.0.0.1:5000/demo/hello:latest.
README
  git -C "$work" init -q -b main
  git -C "$work" add -A
  git -C "$work" -c user.name=Autobuild -c user.email=demo@autobuild.invalid commit -q -m "Demo app"
  git -C "$work" tag v1.0.0
  git clone -q --bare "$work" "$VAR/demo/hello.git"
  rm -rf "$work"
  echo "demo: seeded var/demo/hello.git (branch main, tag v1.0.0)"
fi
