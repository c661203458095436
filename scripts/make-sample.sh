#!/usr/bin/env bash
# Builds the demo sample into testdata/sample/ (or $1; committed; rerun to remake):
# a 3 s 1280x720 clip of real faces (testdata/faces) moving over a street
# photo from opencv-doc, with an audio track and a GPS location tag, as a
# dashcam would write it; and one photo.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-testdata/sample}
mkdir -p "$out"
bg=/usr/share/doc/opencv-doc/examples/data/building.jpg
f=testdata/faces
ffmpeg -v error -nostdin -y \
  -loop 1 -i "$bg" \
  -loop 1 -i "$f/portrait_smile.jpg" \
  -loop 1 -i "$f/astronaut.jpg" \
  -loop 1 -i "$f/messi_small_face.jpg" \
  -loop 1 -i "$f/glider_two_small_faces.jpg" \
  -f lavfi -i "sine=frequency=330:sample_rate=44100" \
  -filter_complex "\
[0:v]scale=1280:720,setsar=1[bg];\
[1:v]scale=150:-2[a];[2:v]scale=70:-2[b];[3:v]scale=80:-2[c];[4:v]scale=120:-2[d];\
[bg][a]overlay=x='40+t*120':y=300[v1];\
[v1][b]overlay=x='1100-t*90':y='120+t*10'[v2];\
[v2][c]overlay=x=700:y='420-t*20'[v3];\
[v3][d]overlay=x='300+t*40':y=80,format=yuv420p[v]" \
  -map "[v]" -map 5:a -t 3 -r 25 -c:v libx264 -preset medium -crf 26 -c:a aac -b:a 64k -shortest \
  -metadata location="+31.2304+121.4737/" -metadata creation_time=2026-05-01T08:30:00Z \
  "$out/street.mp4"
cp "$f/portrait_goatee.jpg" "$out/photo.jpg"
ls -l "$out"
