#!/usr/bin/env bash
# Build mktbot's image from the Containerfile on a local Debian base, export it, and run it under chroot: the
# image's own `mktbot` answers a signed slash command from a local Slack over HTTP. Needs root, podman and
# debootstrap (installed here when missing). There is no container engine to `podman run` with here, so the
# exported filesystem is run with chroot, which is what the image's entry point would run.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="${MKTBOT_IMAGE_WORK:-/var/tmp/mktbot-image}"
BASE_DIR="$WORK/bookworm"
ROOT="$WORK/rootfs"
mkdir -p "$WORK"

need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The base: a minimal Debian bookworm, made once and kept (it only changes with Debian).
if ! podman image exists localhost/mktbot-base:bookworm; then
  if [ ! -x "$BASE_DIR/usr/bin/apt-get" ]; then
    rm -rf "$BASE_DIR"
    debootstrap --variant=minbase bookworm "$BASE_DIR" http://deb.debian.org/debian >/dev/null
  fi
  tar -C "$BASE_DIR" -c . | podman import - localhost/mktbot-base:bookworm >/dev/null
fi

# This machine's CA bundle goes in as a build secret: PyPI may be reached through a TLS-inspecting proxy.
secret=()
[ -s /etc/ssl/certs/ca-certificates.crt ] && secret=(--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt)
podman build --isolation chroot --network host --build-arg BASE=localhost/mktbot-base:bookworm "${secret[@]}" \
  -t localhost/mktbot:test -f Containerfile . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }

cleanup() {
  umount "$ROOT/proc" 2>/dev/null || true
  umount "$ROOT/dev" 2>/dev/null || true
  [ -n "${cid:-}" ] && podman rm -f "$cid" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
rm -rf "$ROOT" && mkdir -p "$ROOT"
cid=$(podman create localhost/mktbot:test)
podman export "$cid" | tar -C "$ROOT" -x
mount --bind /dev "$ROOT/dev"
mount -t proc proc "$ROOT/proc"

.venv/bin/python deploy/image_smoke.py "$ROOT"
