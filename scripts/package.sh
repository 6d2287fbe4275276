#!/usr/bin/env bash
# Builds StreamCue's Linux packages with the Tauri bundler: a .deb (and an .rpm, which the
# bundler writes itself with no download) and prints their paths on stdout, the .deb first.
# Everything else it says goes to stderr.
#
#   bash scripts/package.sh               release build → target/release/bundle/{deb,rpm}/
#   bash scripts/package.sh --debug       the debug build instead (what the install test uses)
#   bash scripts/package.sh --no-build    package the binary already in target/ (no UI build,
#                                         no cargo build); the install test runs
#                                         `--debug --no-build` on the window tests' debug build
#
# The Tauri CLI comes from npm (packaging/package.json: @tauri-apps/cli, a prebuilt binary,
# pinned to the tauri crate's version in Cargo.lock; scripts/setup.sh installs it). No
# AppImage: its bundler downloads AppRun and linuxdeploy while it builds (see the README).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PROFILE=release
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --debug) PROFILE=debug ;;
    --no-build) BUILD=0 ;;
    -h | --help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "package: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

# setup.sh talks on stdout; stdout is for the package paths only.
source "$ROOT/scripts/setup.sh" >&2
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

TAURI="$ROOT/packaging/node_modules/.bin/tauri"
# The CLI must be the tauri crate's version: its bundler reads the config that crate's build
# script and macros read too.
CRATE_VERSION="$(awk '/^name = "tauri"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
CLI_VERSION="$("$TAURI" --version | awk '{ print $2 }')"
if [ "$CLI_VERSION" != "$CRATE_VERSION" ]; then
  echo "package: the Tauri CLI is $CLI_VERSION but Cargo.lock has tauri $CRATE_VERSION;" >&2
  echo "         set @tauri-apps/cli to $CRATE_VERSION in packaging/package.json and run" >&2
  echo "         (cd packaging && npm install)" >&2
  exit 1
fi

TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
BIN="$TARGET_DIR/$PROFILE/streamcue"

if [ "$BUILD" = 1 ]; then
  echo "=== UI: npm run build" >&2
  (cd ui && npm run build --silent) >&2
  # The same build as scripts/run.sh and bench-ui.sh (the shell's custom-protocol feature is
  # always on, so the binary embeds ui/dist), so they share its artifacts. `tauri build` would
  # run `cargo build --bins --features tauri/custom-protocol` over the workspace instead (the
  # CLI takes the repository root, which holds tauri.conf.json, for the app's crate): another
  # feature set, a second build of much of the stack. `tauri bundle` below only packs.
  echo "=== cargo build ($PROFILE) -p streamcue-app" >&2
  if [ "$PROFILE" = release ]; then
    cargo build --release -p streamcue-app --locked >&2
  else
    cargo build -p streamcue-app --locked >&2
  fi
fi
if [ ! -x "$BIN" ]; then
  echo "package: no $BIN to package (build it first, or leave out --no-build)" >&2
  exit 1
fi

# Depends: what tauri.conf.json lists (ffmpeg), what the bundler always adds (WebKitGTK 4.1,
# GTK 3), and, as Debian packages do (${shlibs:Depends}), every library the binary links to
# with the lowest version that provides the symbols it uses, from dpkg-shlibdeps (e.g.
# libc6 (>= 2.34)), so apt refuses a system too old to run it instead of the app failing at
# start. The bundler's two names are left out of that list: it adds them itself.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/debian"
printf 'Source: streamcue\n\nPackage: streamcue\nArchitecture: any\n' >"$WORK/debian/control"
SHLIBS="$(cd "$WORK" && dpkg-shlibdeps -O "$BIN" 2>"$WORK/err")" || {
  cat "$WORK/err" >&2
  exit 1
}
DEPENDS_JSON="$(node -e '
  const conf = require(process.argv[1]);
  const own = conf.bundle.linux.deb.depends;
  const added = ["libwebkit2gtk-4.1-0", "libgtk-3-0"];
  const libs = process.argv[2].replace(/^shlibs:Depends=/, "").split(", ")
    .filter((d) => d && !added.includes(d.split(" ")[0]) && !own.includes(d));
  console.log(JSON.stringify([...own, ...libs]));
' "$ROOT/tauri.conf.json" "$SHLIBS")"

# Debian ships binaries without debug info (dh_strip). The build keeps line tables (Cargo.toml:
# debug = "line-tables-only", for backtraces and profiling), which makes the binary ~5× larger.
# The bundler packs <target dir>/<profile>/streamcue, the target dir as cargo reports it, so it
# is pointed at a stand-in target dir holding a stripped copy (symbols kept: backtraces still
# name functions); cargo's own files are left as cargo made them.
STAGE="$WORK/target"
mkdir -p "$STAGE/$PROFILE"
strip --strip-debug -o "$STAGE/$PROFILE/streamcue" "$BIN"

DEBUG_FLAG=()
[ "$PROFILE" = debug ] && DEBUG_FLAG=(--debug)
echo "=== tauri bundle ($PROFILE): deb, rpm" >&2
# productName "streamcue": Debian's package name is the kebab-case of productName, and
# "StreamCue" would make it "stream-cue". The app itself keeps "StreamCue" (tauri.conf.json).
# --no-binary-patching: the bundler would otherwise rewrite the packed binary (a marker for
# Tauri's updater, which StreamCue does not use).
CARGO_TARGET_DIR="$STAGE" "$TAURI" bundle "${DEBUG_FLAG[@]}" --bundles deb,rpm --ci \
  --no-binary-patching \
  --config "{\"productName\": \"streamcue\", \"bundle\": {\"linux\": {\"deb\": {\"depends\": $DEPENDS_JSON}}}}" >&2

BUNDLE_DIR="$TARGET_DIR/$PROFILE/bundle"
rm -rf "$BUNDLE_DIR/deb" "$BUNDLE_DIR/rpm"
mkdir -p "$BUNDLE_DIR/deb" "$BUNDLE_DIR/rpm"
mv "$STAGE/$PROFILE/bundle/deb/"*.deb "$BUNDLE_DIR/deb/"
mv "$STAGE/$PROFILE/bundle/rpm/"*.rpm "$BUNDLE_DIR/rpm/" 2>/dev/null || true

DEB="$(find "$BUNDLE_DIR/deb" -maxdepth 1 -name 'streamcue_*.deb' | head -n 1)"
RPM="$(find "$BUNDLE_DIR/rpm" -maxdepth 1 -name 'streamcue-*.rpm' | head -n 1)"
if [ -z "$DEB" ]; then
  echo "package: the bundler made no .deb in $BUNDLE_DIR/deb" >&2
  exit 1
fi

# What the streamer's desktop reads: the entry must be valid (warnings are printed, errors fail).
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK" usr/share/applications/streamcue.desktop
desktop-file-validate "$WORK/usr/share/applications/streamcue.desktop" >&2

echo "$DEB"
[ -n "$RPM" ] && echo "$RPM"
exit 0
