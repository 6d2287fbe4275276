#!/usr/bin/env bash
# Ensures a clean Debian 12 (bookworm) root for the install test (src-tauri/tests/install.rs),
# idempotently: a minimal debootstrap system that has never seen StreamCue, plus the .deb files
# of what the package depends on (and of the test's own tools) waiting in apt's cache, so
# `apt-get install ./streamcue_….deb` resolves and installs the dependencies for real without
# downloading them on every run.
#
# The root lives outside the repo so it survives between runs:
#   ${STREAMCUE_DEB_ROOT:-/var/cache/streamcue/deb-bookworm}
# Nothing is ever installed into it after it is made: the test mounts an overlay on top of it
# (a throwaway upper layer per run), so every run starts from the same clean system. It is only
# marked ready (ROOT/.streamcue-ready) once complete; a root without the marker is a leftover of
# an interrupted build and is made again. When the package list below changes, a ready root
# downloads the new packages in place (into apt's cache only; nothing gets installed).
# Needs root (or sudo): debootstrap, chroot and mount namespaces.
set -euo pipefail

DEB_ROOT="${STREAMCUE_DEB_ROOT:-/var/cache/streamcue/deb-bookworm}"
MARKER="$DEB_ROOT/.streamcue-ready"
PACKAGES_FILE="$DEB_ROOT/.streamcue-packages"
MIRROR="${STREAMCUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${STREAMCUE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Downloaded into the root's apt cache, never installed there. The package's own dependencies
# (what `dpkg-deb -f … Depends` lists: tauri.conf.json → bundle.linux.deb.depends plus the two
# the Tauri bundler always adds) and, for the test only, WebKitWebDriver. A dependency missing
# here still installs, downloaded at test time.
CACHED_PACKAGES=(libwebkit2gtk-4.1-0 libgtk-3-0 ffmpeg webkit2gtk-driver)
# Bumped when the way the root is made changes (forces a fresh root).
FORMAT=2
WANTED="format=$FORMAT ${CACHED_PACKAGES[*]}"

is_ready() {
  [ -f "$MARKER" ] && [ "$(cat "$PACKAGES_FILE" 2>/dev/null)" = "$WANTED" ]
}
if is_ready; then
  echo "deb-root: ready at $DEB_ROOT ($(cat "$MARKER"))"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then
    exec sudo --preserve-env=STREAMCUE_DEB_ROOT,STREAMCUE_DEBIAN_MIRROR,STREAMCUE_DEBIAN_SECURITY_MIRROR \
      bash "$0" "$@"
  fi
  echo "deb-root: must run as root (debootstrap, chroot, mount namespaces)" >&2
  exit 1
fi

START=$SECONDS
elapsed() { echo "$((SECONDS - START)) s"; }

# One builder at a time; the install test takes the same lock (shared) while it uses the root.
mkdir -p "$(dirname "$DEB_ROOT")"
exec 9>"$DEB_ROOT.lock"
if ! flock -n 9; then
  echo "deb-root: $DEB_ROOT is being built or used; waiting for it"
  flock 9
fi
if is_ready; then
  echo "deb-root: ready at $DEB_ROOT ($(cat "$MARKER"))"
  exit 0
fi

LOG="$(mktemp /tmp/streamcue-deb-root.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT
fail() {
  echo "deb-root: $1 failed; the last lines of its output:" >&2
  tail -n 30 "$LOG" >&2
  exit 1
}

# Host tools.
if ! command -v debootstrap >/dev/null || ! command -v unshare >/dev/null; then
  echo "deb-root: installing debootstrap on the host"
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        --no-install-recommends debootstrap util-linux
  } >>"$LOG" 2>&1 || fail "installing debootstrap"
fi

# Never delete through a mount: refuse if anything is mounted under the root (the test's mounts
# live in private namespaces and vanish with them, so this only trips on manual mounts).
if grep -qF " $DEB_ROOT/" /proc/mounts; then
  echo "deb-root: something is mounted under $DEB_ROOT; unmount it first:" >&2
  grep -F " $DEB_ROOT/" /proc/mounts >&2
  exit 1
fi
UPDATE=0
if [ -f "$MARKER" ] && grep -q "^format=$FORMAT " "$PACKAGES_FILE" 2>/dev/null; then
  echo "deb-root: the package list changed; updating $DEB_ROOT's apt cache"
  rm -f "$MARKER"
  UPDATE=1
elif [ -e "$DEB_ROOT" ]; then
  echo "deb-root: removing an unfinished or outdated root at $DEB_ROOT"
  rm -rf --one-file-system "$DEB_ROOT"
fi

# Runs a command inside the root with proc/dev/sys mounted, in a private mount namespace so
# nothing stays mounted on the host even if this script is killed.
in_root() {
  unshare --mount --propagation private env DEB_ROOT="$DEB_ROOT" sh -c '
    mount -t proc proc "$DEB_ROOT/proc" &&
    mount --rbind /dev "$DEB_ROOT/dev" &&
    mount -t sysfs sys "$DEB_ROOT/sys" &&
    exec chroot "$DEB_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' in_root "$@"
}

if [ "$UPDATE" = 0 ]; then
  echo "deb-root: debootstrap bookworm (minbase) into $DEB_ROOT"
  # debootstrap mounts proc/sys itself; a private namespace keeps those off the host too.
  unshare --mount --propagation private \
    debootstrap --variant=minbase bookworm "$DEB_ROOT" "$MIRROR" >>"$LOG" 2>&1 || fail "debootstrap"
  echo "deb-root: base system done ($(elapsed))"
  # A user's Debian 12: the release, its updates and security updates (the versions the host
  # builds against come from the same suites).
  cat >"$DEB_ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
EOF
  # No daemons start inside the root during installs.
  printf '#!/bin/sh\nexit 101\n' >"$DEB_ROOT/usr/sbin/policy-rc.d"
  chmod +x "$DEB_ROOT/usr/sbin/policy-rc.d"
  # apt-get keeps what it downloads (the default, said explicitly: the cache is the point).
  echo 'APT::Keep-Downloaded-Packages "true";' >"$DEB_ROOT/etc/apt/apt.conf.d/10streamcue-keep"
fi
cp -L /etc/resolv.conf "$DEB_ROOT/etc/resolv.conf" 2>/dev/null || true

echo "deb-root: downloading ${CACHED_PACKAGES[*]} (and their dependencies) into the root's apt cache"
{
  in_root apt-get update -q &&
    # Up to date like a user's system (the base comes from the release, not its updates).
    in_root apt-get upgrade -y -q -o Dpkg::Use-Pty=0 &&
    in_root apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends --download-only \
      "${CACHED_PACKAGES[@]}"
} >>"$LOG" 2>&1 || fail "apt-get --download-only inside the root"

# The point of the root: nothing of the app, nor its dependencies, is installed in it.
for p in streamcue libwebkit2gtk-4.1-0 ffmpeg webkit2gtk-driver; do
  if in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "deb-root: $p is installed in $DEB_ROOT; it must not be (remove the root and run again)" >&2
    exit 1
  fi
done

DEBS="$(find "$DEB_ROOT/var/cache/apt/archives" -maxdepth 1 -name '*.deb' | wc -l)"
echo "$WANTED" >"$PACKAGES_FILE"
echo "Debian $(cat "$DEB_ROOT/etc/debian_version"), $DEBS cached packages" >"$MARKER.tmp"
mv "$MARKER.tmp" "$MARKER"
echo "deb-root: ready at $DEB_ROOT ($(cat "$MARKER")), done in $(elapsed) ($(du -sh --one-file-system "$DEB_ROOT" | cut -f1))"
