"""Counts the signs of a mksigns.py set that a plate run hid part of.

    python3 signs_readable.py SIGNS_DIR EVAL.json

EVAL.json is `desens eval --targets plate --json EVAL.json SIGNS_DIR`. A
sign counts as hidden in part when a plate box (grown as the redactor grows
it: a tenth of its width and a quarter of its height each side) overlaps it
by at least a fifth of the box: some of its text is then blurred.
"""

import json
import os
import sys


def grow(b):
    x, y, w, h = b
    px, py = w * 0.1 + 2, h * 0.25 + 2
    return [x - px, y - py, w + 2 * px, h + 2 * py]


def inter(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def main():
    signs_dir, res = sys.argv[1], sys.argv[2]
    signs = {s["file"]: s["signs"] for s in json.load(open(os.path.join(signs_dir, "signs.json")))["images"]}
    r = json.load(open(res))
    total = hit = boxes = 0
    largest = 0.0
    for im in r["images"]:
        dets = [grow(d["box"]) for d in im.get("detections") or [] if d["class"] == "plate"]
        boxes += len(dets)
        area = im["width"] * im["height"]
        for d in im.get("detections") or []:
            if d["class"] == "plate":
                largest = max(largest, d["box"][2] * d["box"][3] / area)
        for s in signs[os.path.basename(im["name"])]:
            total += 1
            if any(inter(d, s) >= 0.2 * d[2] * d[3] for d in dets):
                hit += 1
    n = len(r["images"])
    print(f"{n} frames, {total} signs: {hit} hidden in part, {total - hit} ({100 * (total - hit) / max(1, total):.1f}%) "
          f"left readable; {boxes} plate boxes ({boxes / max(1, n):.2f} per frame), largest {100 * largest:.2f}% of a frame")


if __name__ == "__main__":
    main()
