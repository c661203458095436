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
    ap.add_argument("--out", help="output directory (git-ignored out/...)")
    ap.add_argument("--seed", type=int, default=101, help="use seeds other than the training seed")
    ap.add_argument("--n", type=int, default=200, help="frames")
    ap.add_argument("--split", default="heldout", choices=list(ps.SPLIT_ID), help="material (fonts, photos)")
    ap.add_argument("--min-w", type=float, default=20, help="narrowest plate, px (frontal width)")
    ap.add_argument("--max-w", type=float, default=300, help="widest plate, px")
    ap.add_argument("--test-crops", metavar="DIR", help="instead: write the small test fixtures (testdata/plates) to DIR")
    a = ap.parse_args()
    ps.check_material(a.split)
    if a.test_crops:
        return test_crops(a.test_crops)
    if not a.out:
        ap.error("--out is required")
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


# The test fixtures: one clear plate per image, held-out material, picked by
# (type, seed index) so they are regenerated exactly.
TEST_CROPS = [("cn-blue", 0), ("cn-green", 0), ("eu", 0), ("us", 0), ("cn-yellow2", 0)]


def test_crops(out):
    os.makedirs(out, exist_ok=True)
    images = []
    for kind, nth in TEST_CROPS:
        seen = 0
        for i in range(10000):
            rng = np.random.default_rng([4242, i])
            img, objs = ps.make_scene(rng, "heldout", 320, 192, 70, 110, max_plates=1, empty_frac=0,
                                      negatives=(1, 2))
            ok = [o for o in objs if not o["ignore"]]
            if len(objs) != 1 or len(ok) != 1 or ok[0]["type"] != kind:
                continue
            x, y, w, h = ok[0]["box"]
            if x < 2 or y < 2 or x + w > 318 or y + h > 190:  # whole plate in view
                continue
            if seen < nth:
                seen += 1
                continue
            name = f"{kind}_{i}.jpg"
            cv2.imwrite(os.path.join(out, name), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
            images.append({"file": name, "width": 320, "height": 192,
                           "objects": [{"class": "plate", "type": kind, "box": [round(v) for v in ok[0]["box"]]}]})
            break
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump({"version": 1, "images": images,
                   "generator": "models/train/plates/mkevalset.py --test-crops testdata/plates"}, f, indent=1)
    print(f"{out}: {len(images)} test crops")


if __name__ == "__main__":
    main()
