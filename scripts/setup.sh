#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian bookworm machine: installs only what is
# missing, so `make demo` and `make test` can both call it every time.
#
#   scripts/setup.sh          runtime needs (OpenCV, ffmpeg, locale, onnxruntime)
#   scripts/setup.sh --test   plus test tools (staticcheck, versitygw, gpsbabel)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${DESENS_CACHE:-$PWD/.cache}
mkdir -p "$CACHE/bin"

ORT_VERSION=1.24.1
STATICCHECK_VERSION=v0.8.2
VERSITYGW_VERSION=v1.8.0

log() { echo "setup: $*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# Debian packages. dpkg-query is cheap; apt-get runs only when something is missing.
pkgs=(libopencv-dev ffmpeg locales pkg-config fonts-wqy-zenhei fonts-droid-fallback opencv-data opencv-doc npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# npm is only needed when node does not already bring it.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime (and ORT itself) want a UTF-8 locale.
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
  log "generating en_US.UTF-8 locale"
  $SUDO sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
  grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen >/dev/null
  $SUDO locale-gen >/dev/null
fi

# onnxruntime shared library, from the npm package that ships it (CPU provider).
ORT_DIR="$CACHE/ort-$ORT_VERSION"
if [ ! -s "$ORT_DIR/libonnxruntime.so" ]; then
  log "fetching onnxruntime $ORT_VERSION (npm onnxruntime-node)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mkdir -p "$ORT_DIR"
  mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_DIR/libonnxruntime.so"
  rm -rf "$tmp"
fi
ln -sfn "ort-$ORT_VERSION" "$CACHE/ort"

if [ "${1:-}" = "--test" ]; then
  # gpsbabel reads the desensitized GPX, NMEA and KML back in tests.
  if ! command -v gpsbabel >/dev/null 2>&1; then
    log "installing gpsbabel"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gpsbabel >/dev/null
  fi
  export GOBIN="$CACHE/bin"
  if [ ! -x "$GOBIN/staticcheck" ]; then
    log "installing staticcheck $STATICCHECK_VERSION"
    go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  fi
  if [ ! -x "$GOBIN/versitygw" ]; then
    log "building versitygw $VERSITYGW_VERSION (about 100 s, once)"
    go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  fi
fi
log "ok (onnxruntime: $CACHE/ort/libonnxruntime.so)"
