#!/usr/bin/env bash
# Idempotent set-up of onnxruntime with its CUDA provider, for `desens
# --device cuda` (`make gpu`; never part of the CPU-only `make demo` or
# `make test`). Fetches from npm, as scripts/setup.sh does for the CPU
# library:
#   com.github.asus4.onnxruntime               libonnxruntime.so (core)
#   com.github.asus4.onnxruntime.linux-x64-gpu libonnxruntime_providers_cuda.so
#                                              and libonnxruntime_providers_shared.so
# Both packages come from the same release, so the provider matches the core
# library's ORT version: onnxruntime loads the provider from the folder that
# holds libonnxruntime.so, so the three files live together in
# .cache/ort-gpu/. The core library is built without CUDA: desens registers
# the CUDA provider with it as a plug-in (it exports CreateEpFactories).
# Running this needs no GPU; running desens on it needs an NVIDIA driver,
# the CUDA 13 runtime and cuDNN 9 (see the message at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${DESENS_CACHE:-$PWD/.cache}

PKG_VERSION=0.4.9 # ships ORT 1.29
CORE_PKG=com.github.asus4.onnxruntime
GPU_PKG=com.github.asus4.onnxruntime.linux-x64-gpu
IN_PKG=package/Plugins/Linux/x64

log() { echo "setup-gpu: $*" >&2; }

command -v npm >/dev/null 2>&1 || { log "npm is missing: run scripts/setup.sh first (it installs npm)"; exit 1; }

DIR="$CACHE/ort-gpu-$PKG_VERSION"
mkdir -p "$DIR"

# fetch PKG FILE...: unpacks the named files of npm package PKG into DIR,
# through a temporary folder so that a broken download leaves nothing behind.
fetch() {
  local pkg=$1; shift
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  log "fetching $pkg@$PKG_VERSION from npm"
  (cd "$tmp" && npm pack --silent "$pkg@$PKG_VERSION" >/dev/null)
  local members=()
  for f in "$@"; do members+=("$IN_PKG/$f"); done
  tar -xzf "$tmp/$pkg-$PKG_VERSION.tgz" -C "$tmp" "${members[@]}" package/LICENSE
  for f in "$@"; do
    chmod 0755 "$tmp/$IN_PKG/$f"
    mv "$tmp/$IN_PKG/$f" "$DIR/$f"
  done
  mv "$tmp/package/LICENSE" "$DIR/LICENSE.$pkg"
}

[ -s "$DIR/libonnxruntime.so" ] || fetch "$CORE_PKG" libonnxruntime.so
if [ ! -s "$DIR/libonnxruntime_providers_cuda.so" ] || [ ! -s "$DIR/libonnxruntime_providers_shared.so" ]; then
  fetch "$GPU_PKG" libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so
fi
ln -sfn "ort-gpu-$PKG_VERSION" "$CACHE/ort-gpu"

cat >&2 <<MSG
setup-gpu: ok: onnxruntime with the CUDA provider in $CACHE/ort-gpu/
  Point desens at it:
    export DESENS_ORT_LIB=$CACHE/ort-gpu/libonnxruntime.so   # or --ort-lib
  The CUDA provider, registered by desens as a plug-in, needs an NVIDIA
  driver for CUDA 13, the CUDA 13 runtime (libcudart.so.13, libcublas.so.13,
  libcublasLt.so.13, libcurand.so.10) and cuDNN 9 (libcudnn.so.9) on the
  library path; a PyTorch venv holds them in site-packages/nvidia/cu13/lib
  and nvidia/cudnn/lib. E.g.
    export LD_LIBRARY_PATH=\$(dirname "\$(find / -name libcublas.so.13 -print -quit 2>/dev/null)"):\$(dirname "\$(find / -name libcudnn.so.9 -print -quit 2>/dev/null)"):\${LD_LIBRARY_PATH:-}
  (scripts/gpu-check.sh finds them itself.)
  Then: desens run --device cuda ...   (desens says in one line what is missing)
MSG
