#!/usr/bin/env bash
# Idempotent set-up for training and evaluating the plate detector on Debian
# bookworm: PyTorch (CPU), ONNX, OpenCV and PIL for Python, the fonts the
# generator renders plates with, and opencv-doc for the background photos.
# Installs only what is missing. Never needed to build or run desens.
set -euo pipefail
pkgs=(python3-torch python3-onnx python3-opencv python3-pil python3-numpy
      fonts-wqy-zenhei fonts-arphic-ukai fonts-arphic-uming fonts-noto-cjk
      fonts-dejavu-core fonts-liberation opencv-doc
      fonts-droid-fallback fonts-arphic-gbsn00lp fonts-freefont-ttf fonts-open-sans)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "plates setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's python3-* modules live in the system interpreter; a pyenv or venv
# python3 earlier on PATH would not see them.
/usr/bin/python3 -c 'import torch, onnx, cv2, PIL, numpy' || {
  echo "plates setup: /usr/bin/python3 cannot import torch/onnx/cv2/PIL/numpy" >&2; exit 1; }
echo "plates setup: ok" >&2
