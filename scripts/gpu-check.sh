#!/usr/bin/env bash
# The GPU device check (issue 22), for a machine with an NVIDIA GPU; it
# builds nothing and fits a few minutes.
#
#   scripts/gpu-check.sh CLIP [FRAMES]
#
# CLIP is a 1080p H.264 video made beforehand elsewhere and carried to the
# GPU machine (e.g. out/evalset-video/clip_000.mp4 from `make
# evalset-video`); FRAMES (default 120) bounds each bench. It first puts
# one image through --device cuda and stops there with desens's one-line
# reason when CUDA cannot run. Then, on the same clip, with --device cpu and
# then --device cuda, it:
#   1. benches desens (`desens bench --json`: fps and MB/s, per stage);
#   2. desensitizes the clip with a JSON report and compares the detections
#      per class and the regions hidden: they must agree within TOL_PCT
#      percent (default 2) or TOL_ABS (default 2), whichever is larger;
#   3. sweeps --batch over BATCHES (default "1 4 16 64") on CUDA when desens
#      has that flag (it says so when it has not);
#   4. samples GPU memory with nvidia-smi throughout and reports its peak.
# Results land in OUT (default out/gpu-check/), a summary on stdout.
#
# Environment: BUNDLE (a folder of parts from scripts/gpu-bundle.sh: desens,
# FFmpeg, their libraries, onnxruntime and a clip for a machine that has
# none of them), DESENS (default bin/desens), ORT_GPU (default .cache/ort-gpu,
# from `make gpu`: libonnxruntime.so with its CUDA provider), EXTRA_LIBS (a
# folder of carried shared libraries desens needs, put first on
# LD_LIBRARY_PATH), STEP_TIMEOUT (seconds per desens command, default 150).
# Before running anything it lists what is missing (GPU, driver, desens, its
# shared libraries, FFmpeg, onnxruntime, CUDA 13, cuDNN 9) and stops; the
# CUDA libraries are found in Python's nvidia/ packages (a PyTorch venv),
# /usr/local/cuda or anywhere else, and their folders put on
# LD_LIBRARY_PATH (recorded in OUT/libs.txt).
# CPU_ONLY=1 tries the script itself on a machine without a GPU: the
# "cuda" runs use the CPU and the GPU checks are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."

CLIP=${1:-}
FRAMES=${2:-120}
DESENS=${DESENS:-bin/desens}
ORT_GPU=${ORT_GPU:-.cache/ort-gpu}
OUT=${OUT:-out/gpu-check}
TOL_PCT=${TOL_PCT:-2}
TOL_ABS=${TOL_ABS:-2}
BATCHES=${BATCHES:-1 4 16 64}
STEP_TIMEOUT=${STEP_TIMEOUT:-150}
CPU_ONLY=${CPU_ONLY:-}
GPU_DEV=cuda
[ -z "$CPU_ONLY" ] || GPU_DEV=cpu

say() { echo "gpu-check: $*" >&2; }

# BUNDLE: the parts scripts/gpu-bundle.sh made, carried here; checked
# against their MANIFEST, unpacked into /tmp, and used for desens, FFmpeg,
# their libraries, onnxruntime and (without CLIP) the clip.
if [ -n "${BUNDLE:-}" ]; then
  if [ ! -f "$BUNDLE/MANIFEST" ]; then
    say "no $BUNDLE/MANIFEST: carry it with the last part"
    exit 1
  fi
  bad=$(cd "$BUNDLE" && sha256sum -c MANIFEST 2>/dev/null | grep -v ': OK$' | cut -d: -f1 | tr '\n' ' ')
  if [ -n "$bad" ]; then
    say "bundle $BUNDLE: missing or damaged: ${bad% }; carry them (on the same warm machine) and run again"
    exit 1
  fi
  U=/tmp/desens-gpu-bundle
  rm -rf "$U"
  mkdir -p "$U"
  if command -v xz >/dev/null 2>&1; then
    cat "$BUNDLE"/part-* | xz -dc | tar -x -C "$U"
  else
    cat "$BUNDLE"/part-* | python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)' | tar -x -C "$U"
  fi || { say "unpacking $BUNDLE failed"; exit 1; }
  DESENS=$U/bin/desens EXTRA_LIBS=$U/lib${EXTRA_LIBS:+:$EXTRA_LIBS} ORT_GPU=$U/ort-gpu PATH=$U/bin:$PATH
  [ -n "$CLIP" ] || CLIP=$U/clip.mp4
  say "bundle unpacked into $U"
fi

if [ -z "$CLIP" ] || [ ! -f "$CLIP" ]; then
  say "usage: scripts/gpu-check.sh CLIP [FRAMES] (CLIP: a 1080p H.264 video; '${CLIP}' is not a file)"
  exit 2
fi
mkdir -p "$OUT"

# The CUDA 13 runtime and cuDNN 9 the CUDA provider loads (the first four
# it links against, cuDNN it opens when it runs), and the driver's
# libcuda.so.1 where the loader's cache lacks it: looked for first in the
# nvidia/ folders of Python's site-packages (a PyTorch venv's cu13/lib and
# cudnn/lib), /usr/local/cuda and /usr/local/nvidia, then, for any still
# missing, anywhere on the machine. Their folders go on LD_LIBRARY_PATH.
CUDA_LIBS=(libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9)
FIND_LIBS=("${CUDA_LIBS[@]}")
ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 ' || FIND_LIBS+=(libcuda.so.1)
expr=()
for lib in "${FIND_LIBS[@]}"; do expr+=(${expr[@]:+-o} -name "$lib"); done
roots=()
for py in python3 /opt/torch/.venv/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || continue
  while IFS= read -r d; do [ -d "$d" ] && roots+=("$d"); done < <("$py" -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null)
done
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/nvidia; do [ -d "$d" ] && roots+=("$d"); done
found=
[ ${#roots[@]} -eq 0 ] || found=$(find "${roots[@]}" \( "${expr[@]}" \) -print 2>/dev/null)
libdir_of() { grep -m1 "/$1\$" <<<"$found" | xargs -r dirname; }
for lib in "${FIND_LIBS[@]}"; do
  if [ -z "$CPU_ONLY" ] && [ -z "$(libdir_of "$lib")" ]; then
    found+=$'\n'$(timeout 120 find / \( -path /proc -o -path /sys -o -path /dev -o -path /run \) -prune -o \( "${expr[@]}" \) -print 2>/dev/null)
    break
  fi
done
LDP=${EXTRA_LIBS:+$EXTRA_LIBS:}
for lib in "${FIND_LIBS[@]}"; do
  d=$(libdir_of "$lib")
  [ -n "$d" ] && case ":$LDP:" in *":$d:"*) ;; *) LDP="$LDP$d:" ;; esac
done
LDP="${LDP}${LD_LIBRARY_PATH:-}"
export LD_LIBRARY_PATH="${LDP%:}" # no empty entry: it would mean the working directory
{ echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; echo "$found"; } >"$OUT/libs.txt"

missing=()
if [ -z "$CPU_ONLY" ]; then
  command -v nvidia-smi >/dev/null 2>&1 || missing+=("nvidia-smi (no NVIDIA driver tools)")
  [ -e /proc/driver/nvidia/version ] || missing+=("the NVIDIA driver (/proc/driver/nvidia/version)")
fi
[ -x "$DESENS" ] || missing+=("desens at $DESENS (build it with 'make build' elsewhere and carry it; set DESENS)")
if [ -x "$DESENS" ]; then
  nf=$(ldd "$DESENS" 2>/dev/null | awk '/not found/{print $1}' | tr '\n' ' ')
  [ -z "$nf" ] || missing+=("shared libraries desens needs (carry them, set EXTRA_LIBS): $nf")
fi
command -v ffmpeg >/dev/null 2>&1 || missing+=("ffmpeg (desens decodes and encodes video through it)")
command -v ffprobe >/dev/null 2>&1 || missing+=("ffprobe")
for f in libonnxruntime.so libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  [ -s "$ORT_GPU/$f" ] || missing+=("$ORT_GPU/$f (run 'make gpu' and carry .cache/ort-gpu; set ORT_GPU)")
done
if [ -z "$CPU_ONLY" ]; then
  for lib in "${FIND_LIBS[@]}"; do
    [ -n "$(libdir_of "$lib")" ] || missing+=("$lib (CUDA 13 runtime / cuDNN 9 / NVIDIA driver)")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "cannot run; missing:"
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

ORT_LIB=$(cd "$ORT_GPU" && pwd)/libonnxruntime.so
SMI=
if [ -z "$CPU_ONLY" ]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$OUT/gpu-mem.csv" 2>/dev/null &
  SMI=$!
  trap 'kill "$SMI" 2>/dev/null' EXIT
fi

# One image through the device first: where CUDA cannot run, desens says
# why in one line, and the check stops here rather than spend minutes on
# runs that would all fail the same way.
rm -f "$OUT/probe.jpg"
if ! timeout "$STEP_TIMEOUT" "$DESENS" run -q --device "$GPU_DEV" --ort-lib "$ORT_LIB" testdata/sample/photo.jpg "$OUT/probe.jpg" 2>"$OUT/probe.err"; then
  say "--device $GPU_DEV cannot run: $(cat "$OUT/probe.err")"
  exit 1
fi
say "--device $GPU_DEV: one image desensitized"

run() { # name, then a desens command line; output to $OUT/name.json, errors to $OUT/name.err
  local name=$1; shift
  local t0=$SECONDS
  if timeout "$STEP_TIMEOUT" "$DESENS" "$@" >"$OUT/$name.json" 2>"$OUT/$name.err"; then
    say "$name: ok ($((SECONDS - t0)) s)"
  else
    say "$name: FAILED ($((SECONDS - t0)) s): $(tail -n 3 "$OUT/$name.err")"
    return 1
  fi
}

fail=0
for name in cpu cuda; do
  dev=$name
  [ "$name" = cpu ] || dev=$GPU_DEV
  run "bench-$name" bench --json --frames "$FRAMES" --device "$dev" --ort-lib "$ORT_LIB" "$CLIP" || fail=1
  rm -f "$OUT/run-$name.mp4"
  run "run-$name" run -q --device "$dev" --ort-lib "$ORT_LIB" --report - "$CLIP" "$OUT/run-$name.mp4" || fail=1
done

if "$DESENS" bench --help 2>&1 | grep -q -- '--batch'; then
  for b in $BATCHES; do
    run "bench-cuda-batch$b" bench --json --frames "$FRAMES" --device "$GPU_DEV" --batch "$b" --ort-lib "$ORT_LIB" "$CLIP" || fail=1
  done
else
  say "batch sweep skipped: this desens has no --batch flag"
fi
if [ -n "$SMI" ]; then
  kill "$SMI" 2>/dev/null
  wait "$SMI" 2>/dev/null
fi

# The summary and the CPU/CUDA comparison, with Python's standard library.
env -u LD_LIBRARY_PATH python3 - "$OUT" "$TOL_PCT" "$TOL_ABS" <<'PY' || fail=1
import glob, json, os, sys
out, tol_pct, tol_abs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
for p in sorted(glob.glob(os.path.join(out, "bench-*.json"))):
    name = os.path.basename(p)[:-5]
    b = load(name)
    if not b:
        print(name, "no result"); continue
    pl, de = b.get("pipeline") or {}, b.get("detect") or {}
    print(f"{name}: {b.get('width')}x{b.get('height')} {b.get('codec')}, {pl.get('frames')} frames, "
          f"pipeline {pl.get('fps', 0):.1f} fps {pl.get('mb_per_s', 0):.2f} MB/s, "
          f"detection alone {de.get('ms_per_frame', 0):.1f} ms/frame, "
          f"pipeline/ffmpeg {b.get('pipeline_over_ffmpeg', 0):.2f}, device {(b.get('machine') or {}).get('device')}")
ok = True
cpu, cuda = load("run-cpu"), load("run-cuda")
if not cpu or not cuda:
    print("compare: a run report is missing"); ok = False
else:
    a, b = cpu["files"][0], cuda["files"][0]
    keys = sorted(set(a.get("detections") or {}) | set(b.get("detections") or {}))
    pairs = [(k, (a.get("detections") or {}).get(k, 0), (b.get("detections") or {}).get(k, 0)) for k in keys]
    pairs.append(("regions_redacted", a.get("regions_redacted", 0), b.get("regions_redacted", 0)))
    for k, x, y in pairs:
        tol = max(tol_abs, tol_pct / 100 * max(x, y))
        good = abs(x - y) <= tol
        ok = ok and good and a.get("ok") and b.get("ok")
        print(f"compare {k}: cpu {x} cuda {y} (tolerance {tol:g}) {'ok' if good else 'DIFFERS'}")
    print("masked frames: cpu", len(a.get("masked_frames") or []), "cuda", len(b.get("masked_frames") or []))
try:
    mem = [int(l) for l in open(os.path.join(out, "gpu-mem.csv")) if l.strip().isdigit()]
    print(f"GPU memory used: peak {max(mem)} MiB over {len(mem)} samples" if mem else "GPU memory: no samples")
except OSError:
    print("GPU memory: no samples")
sys.exit(0 if ok else 1)
PY
[ $? -eq 0 ] || fail=1
say "results in $OUT/"
exit $fail
