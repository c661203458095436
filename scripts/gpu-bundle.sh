#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that can fetch
# nothing and has neither FFmpeg nor OpenCV: desens (built stripped), ffmpeg
# and ffprobe, the shared libraries the three load (except the C and C++
# runtimes, which that machine has in newer versions), onnxruntime with its
# CUDA provider (.cache/ort-gpu, from `make gpu`) and the clip.
#
#   scripts/gpu-bundle.sh CLIP
#
# The xz-compressed tar is cut into parts of PART_MB MiB (default 28: a
# device call carries 64 MiB in all, the repository's tracked files
# included) in DEST (default out/gpu-bundle/), with MANIFEST holding their
# SHA-256 sums. Carry one part per call on the same warm machine (the parts
# already there stay), MANIFEST with the last, then run there
#   BUNDLE=out/gpu-bundle scripts/gpu-check.sh
# which checks the parts against MANIFEST and unpacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIP=${1:-}
PART_MB=${PART_MB:-28}
DEST=${DEST:-out/gpu-bundle}
ORT_GPU=${ORT_GPU:-.cache/ort-gpu}

say() { echo "gpu-bundle: $*" >&2; }
if [ -z "$CLIP" ] || [ ! -f "$CLIP" ]; then
  say "usage: scripts/gpu-bundle.sh CLIP ('${CLIP}' is not a file)"
  exit 2
fi
for f in libonnxruntime.so libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  [ -s "$ORT_GPU/$f" ] || { say "no $ORT_GPU/$f: run 'make gpu' first"; exit 1; }
done
for p in go ffmpeg ffprobe xz; do
  command -v "$p" >/dev/null 2>&1 || { say "$p is missing: run scripts/setup.sh first"; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/ort-gpu"
say "building desens"
go build -trimpath -ldflags "-s -w" -o "$stage/bin/desens" ./cmd/desens
cp -L "$(command -v ffmpeg)" "$(command -v ffprobe)" "$stage/bin/"
ldd "$stage/bin/desens" "$stage/bin/ffmpeg" "$stage/bin/ffprobe" |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -vE '/(libc|libm|libmvec|libpthread|libdl|librt|libresolv|libutil|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
cp -L "$ORT_GPU"/libonnxruntime.so "$ORT_GPU"/libonnxruntime_providers_cuda.so "$ORT_GPU"/libonnxruntime_providers_shared.so "$stage/ort-gpu/"
cp -L "$CLIP" "$stage/clip.mp4"

say "packing $(du -sh "$stage" | cut -f1) into $DEST/ (xz; minutes)"
rm -rf "$DEST"
mkdir -p "$DEST"
tar -C "$stage" -cf - . | xz -6 -T0 | split -b "${PART_MB}M" -d -a 2 - "$DEST/part-"
(cd "$DEST" && sha256sum part-* >MANIFEST)
n=$(grep -c . "$DEST/MANIFEST")
say "ok: $n parts of at most $PART_MB MiB, $(du -ch "$DEST"/part-* | tail -1 | cut -f1) in all, in $DEST/"
