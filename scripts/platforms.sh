#!/usr/bin/env bash
# Multi-platform builds on Debian 12 (as root): register QEMU user-mode emulation for arm64, then
# publish a two-platform base image 127.0.0.1:5000/local/busybox:latest (a manifest list of the
# amd64 local/busybox:latest that stack.sh makes and an arm64 one from Debian's busybox-static),
# because BuildKit resolves a --platform base from a registry, never from local images.
# Needs the engine and the registry up (scripts/stack.sh). Quick and silent when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
VAR="$(pwd)/var"
REGISTRY=${AUTOBUILD_PLATFORMS_REGISTRY:-127.0.0.1:5000}
BASE="$REGISTRY/local/busybox"
DOCKER=/usr/bin/docker   # Debian's 20.10 CLI: BuildKit without buildx, and `docker manifest`
mkdir -p "$VAR"
export DEBIAN_FRONTEND=noninteractive

# 1. QEMU user-mode emulation of arm64 (binfmt_misc; the F flag makes it work inside containers).
if [ ! -x /usr/bin/qemu-aarch64-static ] || ! command -v update-binfmts >/dev/null 2>&1; then
  echo "platforms: installing qemu-user-static binfmt-support"
  apt-get update -qq
  apt-get install -y -qq qemu-user-static binfmt-support >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ "$(head -n1 /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null)" != enabled ]; then
  echo "platforms: enabling qemu-aarch64 in binfmt_misc"
  update-binfmts --enable qemu-aarch64
fi

# 2. Is the registry's list already there, with both platforms, its amd64 entry being today's
#    local/busybox:latest? Then there is nothing to do.
list_is_current() {
  local amd64_id
  amd64_id=$($DOCKER image inspect -f '{{.Id}}' local/busybox:latest) || return 1
  python3 - "$REGISTRY" "$amd64_id" <<'PY'
import json, sys, urllib.request
registry, amd64_id = sys.argv[1], sys.argv[2]
def get(path, accept):
    request = urllib.request.Request(f"http://{registry}/v2/local/busybox/{path}",
                                     headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)
try:
    index = get("manifests/latest", "application/vnd.docker.distribution.manifest.list.v2+json")
    found = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
             for m in index.get("manifests", [])}
    amd64 = get(f"manifests/{found['linux/amd64']}",
                "application/vnd.docker.distribution.manifest.v2+json")
except (OSError, KeyError, ValueError):
    sys.exit(1)
sys.exit(0 if "linux/arm64" in found and amd64["config"]["digest"] == amd64_id else 1)
PY
}
if list_is_current; then
  exit 0
fi

# 3. An arm64 busybox rootfs from Debian's own package (no image can be pulled here).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "platforms: adding the arm64 architecture to dpkg"
  dpkg --add-architecture arm64
  apt-get update -qq
fi
chmod 777 "$work"  # apt-get download runs as the _apt user
if ! (cd "$work" && apt-get download -qq busybox-static:arm64 >/dev/null 2>&1); then
  apt-get update -qq
  (cd "$work" && apt-get download -qq busybox-static:arm64 >/dev/null)
fi
dpkg-deb -x "$work"/busybox-static_*_arm64.deb "$work/deb"
rootfs="$work/context/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
cp "$work/deb/bin/busybox" "$rootfs/bin/"
for applet in sh ls cat echo sleep false true grep mkdir rm cp date env wc; do
  ln -s busybox "$rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n' >"$work/context/Dockerfile"
echo "platforms: building the arm64 busybox base image"
DOCKER_BUILDKIT=1 $DOCKER build -q --platform linux/arm64 -t "$BASE:arm64" "$work/context" \
  >/dev/null

# 4. Push both platforms, then one manifest list holding both (its own DOCKER_CONFIG: no
#    credentials are needed for the local registry, and no stale local list can get in the way).
$DOCKER tag local/busybox:latest "$BASE:amd64"
$DOCKER push -q "$BASE:amd64" >/dev/null
$DOCKER push -q "$BASE:arm64" >/dev/null
export DOCKER_CONFIG="$work/docker-config"
mkdir -p "$DOCKER_CONFIG"
$DOCKER manifest create --insecure "$BASE:latest" "$BASE:amd64" "$BASE:arm64" >/dev/null
$DOCKER manifest push --insecure --purge "$BASE:latest" >/dev/null
list_is_current || { echo "platforms: $BASE:latest is not the expected list" >&2; exit 1; }
echo "platforms: pushed $BASE:latest (linux/amd64, linux/arm64); qemu-aarch64 enabled"
