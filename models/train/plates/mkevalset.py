"""Writes the held-out synthetic plate evaluation set: 1080p (and some 720p)
frames made from the held-out fonts and background photos (never used in
training), in desens's label format (testdata/README.md).

    python3 mkevalset.py --out out/evalset-plates --seed 101 --n 200
    desens eval --targets plate out/evalset-plates
"""

import argparse
import json
import os

import cv2
import numpy as np

import platesynth as ps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=101, help="use seeds other than the training seed")
    ap.add_argument("--n", type=int, default=200, help="frames")
    ap.add_argument("--split", default="heldout", choices=list(ps.SPLIT_ID), help="material (fonts, photos)")
    ap.add_argument("--min-w", type=float, default=20, help="narrowest plate, px (frontal width)")
    ap.add_argument("--max-w", type=float, default=300, help="widest plate, px")
    a = ap.parse_args()
    ps.check_material(a.split)
    os.makedirs(a.out, exist_ok=True)
    images = []
    counts = {}
    for i in range(a.n):
        rng = np.random.default_rng([a.seed, ps.SPLIT_ID[a.split], 7, i])
        W, H = (1280, 720) if rng.random() < 0.25 else (1920, 1080)
        # Every 10th frame has no plate: it measures false positives alone.
        empty = 1.0 if i % 10 == 9 else 0.0
        img, objs = ps.make_scene(rng, a.split, W, H, a.min_w, a.max_w, max_plates=6, empty_frac=empty,
                                  negatives=(3, 10), one_type=True)
        name = f"plates_{i:04d}.jpg"
        tmp = os.path.join(a.out, name + ".tmp.jpg")
        cv2.imwrite(tmp, img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        os.replace(tmp, os.path.join(a.out, name))
        entry = {"file": name, "width": W, "height": H, "objects": [], "ignore": []}
        for o in objs:
            box = [round(v, 1) for v in o["box"]]
            if o["ignore"]:
                entry["ignore"].append(box)
                continue
            entry["objects"].append({"class": "plate", "type": o["type"], "box": box})
            counts[o["type"]] = counts.get(o["type"], 0) + 1
        if not entry["ignore"]:
            del entry["ignore"]
        images.append(entry)
    labels = {"version": 1, "images": images,
              "generator": f"models/train/plates/mkevalset.py --seed {a.seed} --n {a.n} --split {a.split}"}
    tmp = os.path.join(a.out, "labels.json.tmp")
    with open(tmp, "w") as f:
        json.dump(labels, f, indent=1, ensure_ascii=False)
    os.replace(tmp, os.path.join(a.out, "labels.json"))
    print(f"{a.out}: {a.n} frames, plates per type {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
