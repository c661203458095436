#!/usr/bin/env bash
# Builds the demo sample into testdata/sample/ (or $1; committed; rerun to remake):
# a 3 s 1280x720 clip of real faces (testdata/faces) moving over a street
# photo from opencv-doc, with an audio track, a GPS location tag and a
# burned-in GPS/time/speed overlay whose digits change every frame, as a
# dashcam would write it; the GPX track recorded beside it; a portrait; and
# a car photo with a licence plate.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-testdata/sample}
mkdir -p "$out"
bg=/usr/share/doc/opencv-doc/examples/data/building.jpg
f=testdata/faces
font=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
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
[v3][d]overlay=x='300+t*40':y=80,\
drawtext=fontfile=$font:fontsize=22:fontcolor=white:borderw=2:bordercolor=black:x=24:y=h-44:\
text='N31.2304 E121.4737  %{eif\\:42+n/5\\:d} km/h  2026-05-01 08\\:30\\:%{eif\\:n/25\\:d\\:2}',\
drawtext=fontfile=$font:fontsize=20:fontcolor=yellow:borderw=2:bordercolor=black:x=w-tw-24:y=20:\
text='沪A·12345  DEV-0042',format=yuv420p[v]" \
  -map "[v]" -map 5:a -t 3 -r 25 -c:v libx264 -preset medium -crf 26 -c:a aac -b:a 64k -shortest \
  -metadata location="+31.2304+121.4737/" -metadata creation_time=2026-05-01T08:30:00Z \
  "$out/street.mp4"
cp "$f/portrait_goatee.jpg" "$out/photo.jpg"
cp /usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg "$out/car.jpg"
# The trip the clip was recorded on: 60 one-second fixes heading north-east.
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<gpx version="1.1" creator="dashcam" xmlns="http://www.topografix.com/GPX/1/1">'
  echo ' <trk><name>street</name><trkseg>'
  awk 'BEGIN { for (i = 0; i < 60; i++)
    printf "  <trkpt lat=\"%.6f\" lon=\"%.6f\"><ele>4.0</ele><time>2026-05-01T08:30:%02dZ</time></trkpt>\n",
      31.2304 + i * 0.00009, 121.4737 + i * 0.000105, i }'
  echo ' </trkseg></trk>'
  echo '</gpx>'
} > "$out/street.gpx"
ls -l "$out"
