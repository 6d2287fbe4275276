#!/usr/bin/env bash
# Ensures a Debian 13 (trixie) root with OBS Studio 30.2 + obs-websocket 5.5 for the real-OBS
# tests (testkit/src/real_obs), idempotently. Debian 12 only ships OBS 29, which obws 0.15
# cannot talk to; see docs in testkit/src/real_obs/mod.rs.
#
# The root lives outside the repo so it survives between runs:
#   ${STREAMCUE_OBS_ROOT:-/var/cache/streamcue/obs-trixie}
# It is only marked ready (ROOT/.streamcue-ready, holding the OBS version) once complete; a
# root without the marker is a leftover of an interrupted build and is made again. When the
# package list below changes, a ready root gets the new packages installed in place.
# Needs root (or sudo): debootstrap, chroot and mount namespaces.
set -euo pipefail

OBS_ROOT="${STREAMCUE_OBS_ROOT:-/var/cache/streamcue/obs-trixie}"
MARKER="$OBS_ROOT/.streamcue-ready"
PACKAGES_FILE="$OBS_ROOT/.streamcue-packages"
MIRROR="${STREAMCUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Inside the root. libgl1-mesa-dri: llvmpipe software GL; fonts: text sources; qt6-svg-plugins:
# the UI's icons (screenshots).
ROOT_PACKAGES=(obs-studio libgl1-mesa-dri ffmpeg fonts-dejavu-core qt6-svg-plugins)

is_ready() {
  [ -f "$MARKER" ] && [ "$(cat "$PACKAGES_FILE" 2>/dev/null)" = "${ROOT_PACKAGES[*]}" ]
}
if is_ready; then
  echo "obs-root: ready at $OBS_ROOT (OBS $(cat "$MARKER"))"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then
    exec sudo --preserve-env=STREAMCUE_OBS_ROOT,STREAMCUE_DEBIAN_MIRROR bash "$0" "$@"
  fi
  echo "obs-root: must run as root (debootstrap, chroot, mount namespaces)" >&2
  exit 1
fi

START=$SECONDS
elapsed() { echo "$((SECONDS - START)) s"; }

# One builder at a time (scripts/run.sh and scripts/test.sh may start together).
mkdir -p "$(dirname "$OBS_ROOT")"
exec 9>"$OBS_ROOT.lock"
if ! flock -n 9; then
  echo "obs-root: another build of $OBS_ROOT is running; waiting for it"
  flock 9
fi
if is_ready; then
  echo "obs-root: ready at $OBS_ROOT (OBS $(cat "$MARKER"))"
  exit 0
fi

LOG="$(mktemp /tmp/streamcue-obs-root.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT
fail() {
  echo "obs-root: $1 failed; the last lines of its output:" >&2
  tail -n 30 "$LOG" >&2
  exit 1
}

# Host tools.
if ! command -v debootstrap >/dev/null || ! command -v unshare >/dev/null; then
  echo "obs-root: installing debootstrap on the host"
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        --no-install-recommends debootstrap util-linux
  } >>"$LOG" 2>&1 || fail "installing debootstrap"
fi

# Never delete through a mount: refuse if anything is mounted under the root (all our mounts
# are made in private namespaces and vanish with them, so this only trips on manual mounts).
if grep -qF " $OBS_ROOT/" /proc/mounts; then
  echo "obs-root: something is mounted under $OBS_ROOT; unmount it first:" >&2
  grep -F " $OBS_ROOT/" /proc/mounts >&2
  exit 1
fi
if [ -f "$MARKER" ]; then
  # A complete root from an older package list: add the new packages in place.
  echo "obs-root: the package list changed; updating $OBS_ROOT"
  rm -f "$MARKER"
  UPDATE=1
else
  UPDATE=0
  if [ -e "$OBS_ROOT" ]; then
    echo "obs-root: removing an unfinished root at $OBS_ROOT"
    rm -rf --one-file-system "$OBS_ROOT"
  fi
fi

# Runs a command inside the root with proc/dev/sys mounted, in a private mount namespace so
# nothing stays mounted on the host even if this script is killed.
in_root() {
  unshare --mount --propagation private env OBS_ROOT="$OBS_ROOT" sh -c '
    mount -t proc proc "$OBS_ROOT/proc" &&
    mount --rbind /dev "$OBS_ROOT/dev" &&
    mount -t sysfs sys "$OBS_ROOT/sys" &&
    exec chroot "$OBS_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' in_root "$@"
}

if [ "$UPDATE" = 0 ]; then
  echo "obs-root: debootstrap trixie (minbase) into $OBS_ROOT"
  # debootstrap mounts proc/sys itself; a private namespace keeps those off the host too.
  unshare --mount --propagation private \
    debootstrap --variant=minbase trixie "$OBS_ROOT" "$MIRROR" >>"$LOG" 2>&1 || fail "debootstrap"
  echo "obs-root: base system done ($(elapsed))"
  # No daemons start inside the root during installs.
  printf '#!/bin/sh\nexit 101\n' >"$OBS_ROOT/usr/sbin/policy-rc.d"
  chmod +x "$OBS_ROOT/usr/sbin/policy-rc.d"
fi
cp -L /etc/resolv.conf "$OBS_ROOT/etc/resolv.conf" 2>/dev/null || true

echo "obs-root: installing ${ROOT_PACKAGES[*]} inside the root"
{
  in_root apt-get update -q &&
    in_root apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${ROOT_PACKAGES[@]}" &&
    in_root apt-get clean
} >>"$LOG" 2>&1 || fail "apt-get install inside the root"

VERSION="$(in_root dpkg-query -W -f='${Version}' obs-studio 2>>"$LOG")" || fail "dpkg-query"
[ -x "$OBS_ROOT/usr/bin/obs" ] || fail "finding /usr/bin/obs"
[ -e "$OBS_ROOT/usr/lib/x86_64-linux-gnu/obs-plugins/obs-websocket.so" ] ||
  ls "$OBS_ROOT"/usr/lib/*/obs-plugins/obs-websocket.so >/dev/null 2>&1 || fail "finding obs-websocket"

echo "${ROOT_PACKAGES[*]}" >"$PACKAGES_FILE"
echo "$VERSION" >"$MARKER.tmp"
mv "$MARKER.tmp" "$MARKER"
echo "obs-root: ready at $OBS_ROOT (OBS $VERSION), done in $(elapsed) ($(du -sh --one-file-system "$OBS_ROOT" | cut -f1))"
