"""Trains the plate verifier: a second look at each box the plate detector
proposes, which tells plates from the signs, scene text and grilles that
fool the small detector. Exported to ONNX for desens/detect/plate.go.

    python3 verify.py harvest --det plate_det.pt --seed 11 --n 2500 --thresh 0.15 --out crops.npz
    python3 verify.py train --crops crops.npz --seed 1 --epochs 9 --minutes 28 \
        --ckpt plate_verify_s1.pt --out member1.onnx
    python3 verify.py export --members plate_verify_s1.pt plate_verify_s2.pt ... --out ../../plate_verify.onnx
    python3 verify.py check --det plate_det.pt --verifier plate_verify_s1.pt ... -- DIR...

desens runs an ensemble: export puts every member, each on the crop and
five zoomed or shifted views of it (VIEWS), into one ONNX file whose output
is the sigmoid of their mean logit.

check prints recall and precision on labelled sets for candidate and
verifier thresholds and two ways of combining the scores (the verifier's
alone, or the geometric mean with the detector's, which desens uses).

harvest renders training-split scenes (never the held-out fonts and photos),
runs the detector on them the way desens does (whole frame at scales 1, 1/2
and 1/4, low threshold) and cuts a crop around every candidate and every
labelled plate. A candidate that overlaps a plate is a positive, one that
touches none is a negative. --real DIR adds crops from real labelled photos
(a CCPD-style folder or a labels.json, as train.py takes).

The crop around a box (x, y, w, h) is the rectangle centred on the box,
CROP_CTX times max(w, h * CROP_W / CROP_H) wide, at the CROP_W:CROP_H aspect,
so a plate keeps its own aspect and some surroundings. crop() is the
reference; desens/detect/plate.go cuts the same crop.
"""

import argparse
import math
import multiprocessing as mp
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import platesynth as ps
import train as det

CROP_W, CROP_H = 128, 48
CROP_CTX = 1.5
SCALES = (1.0, 0.5, 0.25)
MIN_W, MAX_W = 16, 200  # detector's trained width range (PlateConfig.MinWidth/MaxWidth)


# ---------------------------------------------------------------------------
# Crops.

def crop_rect(box):
    """The integer region [x0, y0, x1, y1) cut for a box [x, y, w, h]."""
    x, y, w, h = box
    cw = CROP_CTX * max(w, h * CROP_W / CROP_H)
    ch = cw * CROP_H / CROP_W
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(math.floor(cx - cw / 2)), int(math.floor(cy - ch / 2))
    return x0, y0, x0 + max(1, int(math.floor(cw + 0.5))), y0 + max(1, int(math.floor(ch + 0.5)))


def crop(img, box):
    """CROP_H x CROP_W BGR crop around box; outside the frame is mid grey."""
    x0, y0, x1, y1 = crop_rect(box)
    H, W = img.shape[:2]
    canvas = np.full((y1 - y0, x1 - x0, 3), 128, np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    interp = cv2.INTER_AREA if x1 - x0 > CROP_W else cv2.INTER_LINEAR
    return cv2.resize(canvas, (CROP_W, CROP_H), interpolation=interp)


# ---------------------------------------------------------------------------
# Detector candidates (as desens/detect/plate.go decodes them).

def detect(net, img, thresh):
    H, W = img.shape[:2]
    out = []
    for i, s in enumerate(SCALES):
        if min(W, H) * s < 32 and i > 0:
            continue
        im = img if s == 1 else cv2.resize(img, (max(1, round(W * s)), max(1, round(H * s))), interpolation=cv2.INTER_AREA)
        h, w = im.shape[:2]
        ph, pw = (h + 31) // 32 * 32, (w + 31) // 32 * 32
        x = np.full((ph, pw, 3), 127.5, np.float32)
        x[:h, :w] = im
        with torch.no_grad():
            hl, b = net(torch.from_numpy(det.to_tensor(x))[None])
        heat = torch.sigmoid(hl)[0, 0]
        peak = (F.max_pool2d(heat[None, None], 3, 1, 1)[0, 0] == heat) & (heat >= thresh)
        b = b[0].numpy()
        lo = 0 if i == 0 else MIN_W
        hi = math.inf if i == len(SCALES) - 1 else MAX_W
        for yy, xx in zip(*np.nonzero(peak.numpy())):
            bw = math.exp(min(8, b[2, yy, xx])) * 4
            bh = math.exp(min(8, b[3, yy, xx])) * 4
            if not lo <= bw < hi:
                continue
            cx = (xx + 0.5 + b[0, yy, xx]) * 4
            cy = (yy + 0.5 + b[1, yy, xx]) * 4
            out.append((float(heat[yy, xx]), [(cx - bw / 2) / s, (cy - bh / 2) / s, bw / s, bh / s]))
    out.sort(key=lambda t: -t[0])
    keep = []
    for sc, bx in out:
        if all(iou(bx, k[1]) < 0.3 for k in keep):
            keep.append((sc, bx))
    return keep


def iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / max(1e-6, a[2] * a[3] + b[2] * b[3] - inter)


def jitter(rng, box, amount):
    x, y, w, h = box
    s = math.exp(rng.normal(0, amount))
    a = math.exp(rng.normal(0, amount / 2))
    nw, nh = w * s * a, h * s / a
    cx = x + w / 2 + rng.normal(0, amount) * w
    cy = y + h / 2 + rng.normal(0, amount) * h
    return [cx - nw / 2, cy - nh / 2, nw, nh]


def harvest_frame(net, rng, img, objs, thresh):
    """Positive and negative crops from one labelled frame."""
    pos, neg = [], []
    plates = [o["box"] for o in objs if not o.get("ignore")]
    others = [o["box"] for o in objs if o.get("ignore")]
    for _, b in detect(net, img, thresh):
        best = max((iou(b, p) for p in plates), default=0)
        touch = max((iou(b, p) for p in plates + others), default=0)
        if best >= 0.4:
            pos.append(crop(img, b))
        elif touch < 0.1:
            neg.append(crop(img, b))
    for p in plates:  # missed plates and detector box noise as positives too
        pos.append(crop(img, jitter(rng, p, 0.08)))
    return pos, neg


def _harvest_worker(args):
    ckpt, seed, idx, thresh, real_path, split = args
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    net = det.PlateNet()
    net.load_state_dict(torch.load(ckpt))
    net.eval()
    real = det.RealData(real_path) if real_path else None
    pos, neg = [], []
    for i in idx:
        rng = np.random.default_rng([seed, 1, 8, i])
        if real is not None and i % 2:
            img, boxes = real.items[i // 2 % len(real.items)][0], real.items[i // 2 % len(real.items)][1]
            img = cv2.imread(img, cv2.IMREAD_COLOR)
            objs = [dict(box=b) for b in boxes]
        else:
            W, H = (1280, 720) if rng.random() < 0.25 else (1920, 1080)
            img, objs = ps.make_scene(rng, split, W, H, 20, 300, max_plates=6, empty_frac=0.1,
                                      negatives=(3, 12), one_type=False)
        p, n = harvest_frame(net, rng, img, objs, thresh)
        pos += p
        neg += n
    return pos, neg


def harvest(a):
    ps.check_material(a.split)
    t0 = time.time()
    chunks = [list(range(k, a.n, a.procs * 4)) for k in range(a.procs * 4)]
    jobs = [(a.det, a.seed, c, a.thresh, a.real, a.split) for c in chunks]
    pos, neg = [], []
    with mp.get_context("fork").Pool(a.procs) as pool:
        for k, (p, n) in enumerate(pool.imap(_harvest_worker, jobs)):
            pos += p
            neg += n
            print(f"harvest {k + 1}/{len(jobs)}: {len(pos)} positive, {len(neg)} negative crops, "
                  f"{time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    x = np.stack(pos + neg)
    y = np.array([1] * len(pos) + [0] * len(neg), np.uint8)
    np.savez_compressed(a.out, x=x, y=y)
    print(f"wrote {a.out}: {len(pos)} positive, {len(neg)} negative", file=sys.stderr)


# ---------------------------------------------------------------------------
# Model.

class VerifyNet(nn.Module):
    """48x128 crop in, plate logit out: plain 3x3 convolutions (faster to
    train on a CPU than depthwise ones), about 210k weights."""

    def __init__(self, w=(16, 32, 48, 64)):
        super().__init__()
        c = det.cbr
        self.f = nn.Sequential(
            c(3, w[0], 3, 2),                        # 24x64
            c(w[0], w[1], 3, 2), c(w[1], w[1]),      # 12x32
            c(w[1], w[2], 3, 2), c(w[2], w[2]),      # 6x16
            c(w[2], w[3], 3, 2), c(w[3], w[3]))      # 3x8
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(w[3] * 3 * 8, 64), nn.ReLU(inplace=True),
                                nn.Dropout(0.2), nn.Linear(64, 1))

    def forward(self, x):
        return self.fc(self.f(x))


class Exported(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.sigmoid(self.net(x))


# Views of each crop the exported verifier averages over (zoom, x shift, y
# shift; shifts in halves of the crop's width and height, as
# F.affine_grid takes them): the crop itself, zoomed in to 3/4 and 0.85 of
# it, out to 1.2 times (mid grey around), and shifted 6 % left and right.
# The training jitter covers all of them. Averaging the members' logits
# over them cut false positives more than any single verifier we trained:
# models/train/plates/README.md has the figures.
VIEWS = ((1 / 0.75, 0.0, 0.0), (1 / 0.85, 0.0, 0.0), (1 / 1.2, 0.0, 0.0), (1.0, 0.12, 0.0), (1.0, -0.12, 0.0))


class Ensemble(nn.Module):
    """Verifier members, each on the crop and its VIEWS; out comes the
    sigmoid of the mean logit, the probability desens combines with the
    detector's peak. One ONNX file, so the Go side sees one verifier."""

    def __init__(self, nets, views=VIEWS):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.k = len(views)
        for i, (z, dx, dy) in enumerate(views):
            theta = torch.tensor([[[1.0 / z, 0.0, dx], [0.0, 1.0 / z, dy]]])
            # The sampling grids are constants: ONNX has no affine_grid.
            self.register_buffer(f"grid{i}", F.affine_grid(theta, [1, 3, CROP_H, CROP_W], align_corners=False))

    def forward(self, x):
        n = x.shape[0]
        vs = [x] + [F.grid_sample(x, getattr(self, f"grid{i}").expand(n, CROP_H, CROP_W, 2), mode="bilinear",
                                  padding_mode="zeros", align_corners=False) for i in range(self.k)]
        b = torch.cat(vs, 0)
        logit = sum(net(b) for net in self.nets) / len(self.nets)
        return torch.sigmoid(logit.reshape(len(vs), n, 1).mean(0))


def load_members(paths):
    nets = []
    for p in paths:
        net = VerifyNet()
        net.load_state_dict(torch.load(p, map_location="cpu"))
        nets.append(net.eval())
    return Ensemble(nets).eval()


def onnx_export(model, path, batch=2, opset=16):
    """Writes model as the verifier desens loads (crops in, plate out, any
    batch size), through a temporary file so a failed export leaves none."""
    tmp = path + ".tmp"
    # Zeros (mid grey) pad the zoomed-out view, as plateCrop pads the frame's edge.
    torch.onnx.export(model, torch.zeros(batch, 3, CROP_H, CROP_W), tmp, input_names=["crops"], output_names=["plate"],
                      opset_version=opset, dynamic_axes={"crops": {0: "n"}, "plate": {0: "n"}}, do_constant_folding=True)
    os.replace(tmp, path)


def export_ensemble(a):
    m = load_members(a.members)
    onnx_export(m, a.out)
    print(f"exported {a.out}: {len(a.members)} members x {1 + len(VIEWS)} views ({os.path.getsize(a.out)} bytes)",
          file=sys.stderr)
    if a.quick:
        # The first look: the first member on the crop alone, 1/18 of the
        # ensemble's cost; desens sends the ensemble only what it passes.
        onnx_export(Ensemble(m.nets[:1], views=()).eval(), a.quick)
        print(f"exported {a.quick}: the first member on the crop alone ({os.path.getsize(a.quick)} bytes)",
              file=sys.stderr)


def augment(rng, x):
    """Brightness, contrast, colour cast, blur and noise on a uint8 batch."""
    x = x.astype(np.float32)
    n = len(x)
    gain = np.exp(rng.normal(0, 0.25, (n, 1, 1, 1)))
    cast = rng.normal(0, 8, (n, 1, 1, 3))
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * gain + mean * np.exp(rng.normal(0, 0.2, (n, 1, 1, 1))) + cast
    for i in np.nonzero(rng.random(n) < 0.2)[0]:
        k = int(rng.choice([3, 5]))
        x[i] = cv2.GaussianBlur(x[i], (k, k), 0)
    x += rng.normal(0, 1, (n, 1, 1, 1)) * rng.normal(0, 3, x.shape)
    return np.clip(x, 0, 255)


def to_batch(x):
    return torch.from_numpy(((x.astype(np.float32) - det.MEAN) / det.SCALE).transpose(0, 3, 1, 2).copy())


def train_verifier(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    xs, ys = [], []
    for p in a.crops:
        d = np.load(p)
        xs.append(d["x"])
        ys.append(d["y"])
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(x))
    nval = len(x) // 10
    val, tr = order[:nval], order[nval:]
    print(f"crops: {len(tr)} train, {len(val)} validation ({int(y.sum())} positive)", file=sys.stderr)
    net = VerifyNet()
    if a.init:
        net.load_state_dict(torch.load(a.init))
    print(f"params: {sum(p.numel() for p in net.parameters())}", file=sys.stderr)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    # Positives are rarer than negatives; weigh them so both count alike.
    pw = torch.tensor((len(y) - y.sum()) / max(1, y.sum()), dtype=torch.float32)
    t0 = time.time()
    step, avg = 0, None
    total = a.epochs * (len(tr) // a.batch)
    while True:
        perm = rng.permutation(tr)
        for k in range(0, len(perm) - a.batch + 1, a.batch):
            frac = step / total
            if a.minutes:
                frac = max(frac, (time.time() - t0) / (a.minutes * 60))
            if frac >= 1:
                return finish(a, net, x, y, val)
            lr = a.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * frac))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[k:k + a.batch]
            xb = x[idx]
            flip = rng.random(len(idx)) < 0.5  # left-right mirrored plates and signs are still plates and signs
            xb[flip] = xb[flip][:, :, ::-1]
            net.train()
            logit = net(to_batch(augment(rng, xb)))[:, 0]
            t = torch.from_numpy(y[idx].astype(np.float32))
            loss = F.binary_cross_entropy_with_logits(logit, t, pos_weight=pw)
            opt.zero_grad()
            loss.backward()
            opt.step()
            avg = loss.item() if avg is None else avg * 0.98 + loss.item() * 0.02
            if step % 100 == 0:
                print(f"step {step} loss {avg:.4f} lr {lr:.5f} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
            if step % 1000 == 999:
                torch.save(net.state_dict(), a.ckpt)
                evaluate(net, x, y, val)
            step += 1


def evaluate(net, x, y, val):
    net.eval()
    with torch.no_grad():
        p = torch.cat([torch.sigmoid(net(to_batch(x[val[k:k + 512]])))[:, 0] for k in range(0, len(val), 512)]).numpy()
    t = y[val] == 1
    for th in (0.3, 0.5, 0.7):
        rec = (p[t] >= th).mean()
        fpr = (p[~t] >= th).mean()
        print(f"  validation at {th}: positives kept {rec:.4f}, negatives passed {fpr:.4f}", file=sys.stderr)


def finish(a, net, x, y, val):
    torch.save(net.state_dict(), a.ckpt)
    evaluate(net, x, y, val)
    net.eval()
    onnx_export(Exported(net), a.out, batch=1, opset=13)
    print(f"exported {a.out} ({os.path.getsize(a.out)} bytes)", file=sys.stderr)


def check(a):
    """Recall and precision on a labelled set (desens label format) for
    plates at least --min-w wide, over verifier thresholds and candidate
    thresholds: a quick way to pick PlateConfig's thresholds before
    confirming with desens eval. Its NMS is plain and comes before
    verification; desens verifies first and then merges by score-weighted
    NMS, so the figures differ by a point or two (with the first
    verifier, plates >= 30 px at 0.40: 94.9 % recall at 72.7 % precision
    here, 95.7 % at 71.6 % in desens eval)."""
    import json
    torch.set_num_threads(a.threads)
    net = det.PlateNet()
    net.load_state_dict(torch.load(a.det))
    net.eval()
    ver = load_members(a.verifier)
    rows = []  # (image file, det score, verifier prob, outcome, box)
    ngt = 0
    for d in a.sets:
        labels = json.load(open(os.path.join(d, "labels.json")))
        for im in labels["images"]:
            img = cv2.imread(os.path.join(d, im["file"]), cv2.IMREAD_COLOR)
            gts = [o["box"] for o in im["objects"] if o["class"] == "plate"]
            big = [g for g in gts if g[2] >= a.min_w]
            small = [g for g in gts if g[2] < a.min_w] + im.get("ignore", [])
            ngt += len(big)
            cands = detect(net, img, min(a.cand))
            if not cands:
                continue
            with torch.no_grad():
                p = ver(to_batch(np.stack([crop(img, b) for _, b in cands])))[:, 0].numpy()
            for (sc, b), pv in zip(cands, p):
                m = [gi for gi, g in enumerate(big) if match(b, g)]
                ign = any(match(b, g) for g in small) or any(inside(b, g) >= 0.5 for g in im.get("ignore", []))
                rows.append((im["file"], sc, float(pv), m[0] if m else (-2 if ign else -1), [float(v) for v in b]))
    print(f"{ngt} plates >= {a.min_w} px", file=sys.stderr)
    if a.dump:
        with open(a.dump, "w") as f:
            json.dump({"plates": ngt, "rows": rows}, f)
    for ct in a.cand:
        for vt in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            for comb in ("ver", "geo"):
                hits, fp = set(), 0
                for f, sc, pv, o, _ in rows:
                    s = pv if comb == "ver" else math.sqrt(sc * pv)
                    if sc < ct or s < vt:
                        continue
                    if o >= 0:
                        hits.add((f, o))
                    elif o == -1:
                        fp += 1
                tp = len(hits)
                print(f"cand {ct:.2f} {comb} >= {vt:.2f}: recall {tp / max(1, ngt):.3f} precision {tp / max(1, tp + fp):.3f} fp {fp}")
    hits, fp = set(), 0
    for f, sc, pv, o, _ in rows:
        if sc >= 0.35:
            if o >= 0:
                hits.add((f, o))
            elif o == -1:
                fp += 1
    print(f"detector alone >= 0.35: recall {len(hits) / max(1, ngt):.3f} precision {len(hits) / max(1, len(hits) + fp):.3f}")


def match(d, g):
    if iou(d, g) >= 0.3:
        return True
    cin = lambda a, b: b[0] <= a[0] + a[2] / 2 <= b[0] + b[2] and b[1] <= a[1] + a[3] / 2 <= b[1] + b[3]
    return cin(d, g) and cin(g, d)


def inside(d, g):
    iw = max(0.0, min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0]))
    ih = max(0.0, min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1]))
    return iw * ih / max(1e-6, d[2] * d[3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("harvest", help="cut labelled crops around detector candidates")
    h.add_argument("--det", required=True, help="detector checkpoint (.pt)")
    h.add_argument("--seed", type=int, default=11)
    h.add_argument("--n", type=int, default=1500, help="frames")
    h.add_argument("--thresh", type=float, default=0.1, help="detector threshold for candidates")
    h.add_argument("--procs", type=int, default=2)
    h.add_argument("--split", default="train", choices=["train", "train+"],
                   help="training material: train, or train+ (the same photos, more fonts)")
    h.add_argument("--real", help="also harvest real labelled photos (every other frame)")
    h.add_argument("--out", required=True)
    t = sub.add_parser("train", help="train the verifier on harvested crops and export it")
    t.add_argument("--crops", nargs="+", required=True)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--epochs", type=float, default=8)
    t.add_argument("--minutes", type=float, default=0)
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--threads", type=int, default=1, help="torch threads (more than the free cores slows it badly)")
    t.add_argument("--init")
    t.add_argument("--ckpt", default="plate_verify.pt")
    t.add_argument("--out", default="plate_verify.onnx")
    e = sub.add_parser("export", help="export trained members as one ONNX verifier (the ensemble desens runs)")
    e.add_argument("--members", nargs="+", required=True, help="verifier checkpoints (.pt) from train")
    e.add_argument("--out", required=True)
    e.add_argument("--quick", help="also export the first member alone, on the crop alone (desens's first look)")
    c = sub.add_parser("check", help="recall and precision with the verifier on a labelled set")
    c.add_argument("--det", required=True)
    c.add_argument("--verifier", required=True, nargs="+", help="verifier checkpoints (.pt), one per member")
    c.add_argument("--cand", type=float, nargs="+", default=[0.15, 0.2, 0.25])
    c.add_argument("--min-w", type=float, default=30)
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--dump", help="also write every candidate (file, detector score, verifier score, outcome) as JSON here")
    c.add_argument("sets", nargs="+")
    a = ap.parse_args()
    {"harvest": harvest, "train": train_verifier, "export": export_ensemble, "check": check}[a.cmd](a)


if __name__ == "__main__":
    main()
