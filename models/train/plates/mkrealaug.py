#!/usr/bin/python3
"""Makes the hand-labelled real plate photos over again under what real
cameras add: turned, seen from the side, blurred, smeared by motion, dark,
glaring, washed out, hazy, coarsely compressed, smaller, larger, and cut
close so that the plate fills much of the frame.

    python3 mkrealaug.py --out ../../../out/plates-real-aug \\
        ../../../testdata/eval/plates-cn ../../../testdata/eval/plates-real
    desens eval --targets plate out/plates-real-aug

Each source directory holds a labels.json (testdata/README.md); a photo is
read from the label's "source" path when there is one (the opencv-doc
photos), else from the directory. The output holds one JPEG per photo and
condition, named PHOTO__CONDITION.jpg, and a labels.json whose plate and
ignore boxes follow the transform (a turned box becomes the box round its
turned corners). Deterministic: the noise is seeded.

--conds picks conditions (comma-separated; turned 30° and 45° only when
named: --conds turn+30,turn-30,turn+45,turn-45), --min-width keeps only photos
whose widest plate is at least that wide, --limit bounds the photos read:
with the synthetic held-out sets as sources they make close-ups of
synthetic plates (--conds closeup,closeup70,closeup90 --min-width 120).
"""

import argparse
import json
import os

import cv2
import numpy as np

GREY = (110, 110, 110)


def corners(b):
    x, y, w, h = b
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)


def box_round(pts, w, h):
    x0, y0 = np.clip(pts.min(0), 0, [w, h])
    x1, y1 = np.clip(pts.max(0), 0, [w, h])
    return [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]


def turn(img, boxes, deg):
    """Turns the photo by deg about its centre on a canvas that holds it all."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    W, H = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += W / 2 - w / 2
    m[1, 2] += H / 2 - h / 2
    out = cv2.warpAffine(img, m, (W, H), borderValue=GREY)
    return out, [box_round(np.c_[corners(b), np.ones(4)] @ m.T, W, H) for b in boxes]


def side(img, boxes, k):
    """Seen from the side: the left edge shrinks by k of the height."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0, h * k], [w, 0], [w, h], [0, h * (1 - k)]])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (w, h), borderValue=GREY)
    nb = []
    for b in boxes:
        p = cv2.perspectiveTransform(corners(b)[None].astype(np.float32), m)[0]
        nb.append(box_round(p.astype(np.float64), w, h))
    return out, nb


def motion(img, boxes, n, deg):
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1
    k = cv2.warpAffine(k, cv2.getRotationMatrix2D((n / 2 - .5, n / 2 - .5), deg, 1), (n, n))
    return cv2.filter2D(img, -1, k / k.sum()), boxes


def dark(img, boxes, f, rng):
    x = (img.astype(np.float32) / 255) ** 1.6 * 255 * f
    x += rng.normal(0, 5, x.shape)
    return np.clip(x, 0, 255).astype(np.uint8), boxes


def glare(img, boxes, rng):
    """Night: dark, a headlight beside each plate and a sheen across it."""
    x, _ = dark(img, boxes, 0.45, rng)
    x = x.astype(np.float32)
    h, w = x.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    for bx, by, bw, bh in boxes:
        for cx, cy, r, a in ((bx - bw * 0.6, by + bh / 2, bh * 1.5, 255),
                             (bx + bw * 0.3, by + bh * 0.4, bh * 0.8, 150)):
            g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * max(r, 4) ** 2))
            x += g[..., None] * a
    return np.clip(x, 0, 255).astype(np.uint8), boxes


def jpeg(img, boxes, q):
    _, enc = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(enc, cv2.IMREAD_COLOR), boxes


def resize(img, boxes, f):
    h, w = img.shape[:2]
    out = cv2.resize(img, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    return out, [[round(v * f) for v in b] for b in boxes]


def close_up(img, boxes, span):
    """Cuts round the widest plate so that it spans span of the width, at 1280 px."""
    h, w = img.shape[:2]
    b = max(boxes, key=lambda b: b[2])
    cw = b[2] / span
    ch = cw * 0.6
    x0 = int(np.clip(b[0] + b[2] / 2 - cw / 2, 0, max(0, w - cw)))
    y0 = int(np.clip(b[1] + b[3] / 2 - ch / 2, 0, max(0, h - ch)))
    crop = img[y0:int(min(h, y0 + ch)), x0:int(min(w, x0 + cw))]
    f = 1280 / crop.shape[1]
    out = cv2.resize(crop, (1280, int(crop.shape[0] * f)), interpolation=cv2.INTER_CUBIC)
    # A box the cut leaves out comes back empty, and is dropped.
    return out, [box_round((corners(bb) - [x0, y0]) * f, out.shape[1], out.shape[0]) for bb in boxes]


def conditions(rng):
    return {
        'orig': lambda i, b: (i, b),
        'turn+10': lambda i, b: turn(i, b, 10),
        'turn-10': lambda i, b: turn(i, b, -10),
        'turn+20': lambda i, b: turn(i, b, 20),
        'turn-20': lambda i, b: turn(i, b, -20),
        'turn+30': lambda i, b: turn(i, b, 30),
        'turn-30': lambda i, b: turn(i, b, -30),
        'turn+45': lambda i, b: turn(i, b, 45),
        'turn-45': lambda i, b: turn(i, b, -45),
        'side': lambda i, b: side(i, b, 0.25),
        'blur2': lambda i, b: (cv2.GaussianBlur(i, (0, 0), 2.0), b),
        'blur3': lambda i, b: (cv2.GaussianBlur(i, (0, 0), 3.0), b),
        'motion': lambda i, b: motion(i, b, 15, 0),
        'motion30': lambda i, b: motion(i, b, 11, 30),
        'dark': lambda i, b: dark(i, b, 0.3, rng),
        'glare': lambda i, b: glare(i, b, rng),
        'bright': lambda i, b: (np.clip(i.astype(np.float32) * 1.7 + 30, 0, 255).astype(np.uint8), b),
        'haze': lambda i, b: ((i.astype(np.float32) * 0.5 + 205 * 0.5).astype(np.uint8), b),
        'jpeg10': lambda i, b: jpeg(i, b, 10),
        'half': lambda i, b: resize(i, b, 0.5),
        'double': lambda i, b: resize(i, b, 2.0),
        'closeup': lambda i, b: close_up(i, b, 0.45),
        'closeup70': lambda i, b: close_up(i, b, 0.7),
        'closeup90': lambda i, b: close_up(i, b, 0.9),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='output directory (git-ignored out/...)')
    ap.add_argument('--conds', default='', help='conditions to make, comma-separated (default: all but turn±30 and turn±45)')
    ap.add_argument('--min-width', type=float, default=0, help='only photos whose widest plate is this wide (px)')
    ap.add_argument('--limit', type=int, default=0, help='at most this many photos per source (0: all)')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('src', nargs='+', help='labelled directories')
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    conds = conditions(rng)
    steep = {'turn+30', 'turn-30', 'turn+45', 'turn-45'}
    if not a.conds:
        conds = {k: v for k, v in conds.items() if k not in steep}
    else:
        unknown = set(a.conds.split(',')) - set(conds)
        if unknown:
            ap.error(f'unknown conditions {sorted(unknown)}; known: {", ".join(conds)}')
        conds = {k: v for k, v in conds.items() if k in a.conds.split(',')}
    os.makedirs(a.out, exist_ok=True)
    images = []
    for src in a.src:
        tag = os.path.basename(os.path.normpath(src))
        photos = 0
        for im in json.load(open(os.path.join(src, 'labels.json')))['images']:
            plates = [o for o in im['objects'] if o['class'] == 'plate']
            if not plates or max(o['box'][2] for o in plates) < a.min_width:
                continue
            if a.limit and photos >= a.limit:
                break
            path = im.get('source') or ''
            if not os.path.exists(path):
                path = os.path.join(src, im['file'])
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise SystemExit(f'{path}: cannot read the photo')
            photos += 1
            boxes = [o['box'] for o in plates]
            ignore = im.get('ignore', [])
            stem = os.path.splitext(im['file'])[0]
            for name, fn in conds.items():
                out, nb = fn(img.copy(), boxes + ignore)
                keep = [(p, b) for p, b in zip(plates, nb) if b[2] >= 4 and b[3] >= 3]
                rec = {'file': f'{tag}_{stem}__{name}.jpg', 'width': out.shape[1], 'height': out.shape[0],
                       'objects': [{'class': 'plate', 'type': p.get('type', ''), 'box': b} for p, b in keep],
                       'note': f'{tag}/{im["file"]} under {name}'}
                ign = [b for b in nb[len(boxes):] if b[2] > 0 and b[3] > 0]
                if ign:
                    rec['ignore'] = ign
                cv2.imwrite(os.path.join(a.out, rec['file']), out, [cv2.IMWRITE_JPEG_QUALITY, 92])
                images.append(rec)
    with open(os.path.join(a.out, 'labels.json'), 'w') as f:
        json.dump({'version': 1, 'images': images}, f, indent=1)
    print(f'{a.out}: {len(images)} images, {sum(len(i["objects"]) for i in images)} plates')


if __name__ == '__main__':
    main()
