"""Trains the desens licence-plate detector and exports it to ONNX.

    python3 train.py --seed 1 --steps 2000 --out ../../plate_det.onnx
    python3 train.py ... --real /data/CCPD2019/ccpd_base     # mix in real labelled photos

The net is a small fully convolutional CenterNet: a heat map of plate
centres and a box (offset, log size) per cell, both at stride 4. It takes
any input whose height and width are multiples of 32. See README.md.
"""

import argparse
import json
import math
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import platesynth as ps

STRIDE = 4
MEAN = 127.5  # input: BGR, (pixel - 127.5) / 127.5
SCALE = 127.5


# ---------------------------------------------------------------------------
# Model.

def cbr(cin, cout, k=3, s=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DW(nn.Module):
    """Depthwise 3x3 (or 5x5) then pointwise, with a residual when shapes match."""

    def __init__(self, cin, cout, k=3, s=1):
        super().__init__()
        self.dw = cbr(cin, cin, k, s, groups=cin)
        self.pw = cbr(cin, cout, 1)
        self.res = s == 1 and cin == cout

    def forward(self, x):
        y = self.pw(self.dw(x))
        return x + y if self.res else y


class PlateNet(nn.Module):
    def __init__(self, w=(16, 32, 48, 64, 96), head=32):
        super().__init__()
        self.stem = cbr(3, w[0], 3, 2)                                         # /2
        self.s4 = nn.Sequential(DW(w[0], w[1], 3, 2), DW(w[1], w[1]))           # /4
        self.s8 = nn.Sequential(DW(w[1], w[2], 3, 2), DW(w[2], w[2]), DW(w[2], w[2]))  # /8
        self.s16 = nn.Sequential(DW(w[2], w[3], 3, 2), DW(w[3], w[3], 5), DW(w[3], w[3], 5))  # /16
        self.s32 = nn.Sequential(DW(w[3], w[4], 3, 2), DW(w[4], w[4], 5), DW(w[4], w[4], 5))  # /32
        self.l32 = cbr(w[4], head, 1)
        self.l16 = cbr(w[3], head, 1)
        self.l8 = cbr(w[2], head, 1)
        self.l4 = cbr(w[1], head, 1)
        self.m16 = DW(head, head)
        self.m8 = DW(head, head)
        self.m4 = DW(head, head, 5)
        self.heat = nn.Conv2d(head, 1, 1)
        self.box = nn.Conv2d(head, 4, 1)
        nn.init.constant_(self.heat.bias, -4.6)  # start at p=0.01: few positives

    def forward(self, x):
        x = self.stem(x)
        c4 = self.s4(x)
        c8 = self.s8(c4)
        c16 = self.s16(c8)
        c32 = self.s32(c16)
        up = lambda t: F.interpolate(t, scale_factor=2.0, mode="nearest")
        p = self.l32(c32)
        p = self.m16(up(p) + self.l16(c16))
        p = self.m8(up(p) + self.l8(c8))
        p = self.m4(up(p) + self.l4(c4))
        return self.heat(p), self.box(p)


class Exported(nn.Module):
    """What ONNX gets: normalised BGR in, probabilities and boxes out."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        h, b = self.net(x)
        return torch.sigmoid(h), b


# ---------------------------------------------------------------------------
# Targets and loss.

def targets(objs, W, H):
    """Heat map, box targets, box weights and an ignore mask at stride 4.
    Box channels: dx, dy (centre offset from the cell centre, in cells),
    log(w / 4), log(h / 4)."""
    gw, gh = W // STRIDE, H // STRIDE
    heat = np.zeros((gh, gw), np.float32)
    box = np.zeros((4, gh, gw), np.float32)
    wt = np.zeros((gh, gw), np.float32)
    ign = np.zeros((gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32) + 0.5
    for o in sorted(objs, key=lambda o: -o["box"][2] * o["box"][3]):  # small ones win overlaps
        x, y, w, h = o["box"]
        cx, cy = (x + w / 2) / STRIDE, (y + h / 2) / STRIDE
        if o.get("ignore"):
            x0, y0 = int(x / STRIDE), int(y / STRIDE)
            x1, y1 = int(math.ceil((x + w) / STRIDE)), int(math.ceil((y + h) / STRIDE))
            ign[max(0, y0):y1, max(0, x0):x1] = 1
            continue
        sx, sy = max(0.6, 0.12 * w / STRIDE), max(0.6, 0.12 * h / STRIDE)
        g = np.exp(-((xs - cx) ** 2 / (2 * sx * sx) + (ys - cy) ** 2 / (2 * sy * sy)))
        ix, iy = min(gw - 1, max(0, int(cx))), min(gh - 1, max(0, int(cy)))
        g[iy, ix] = 1.0  # the peak cell is exactly 1
        heat = np.maximum(heat, g)
        m = g > 0.3
        box[0][m] = cx - xs[m]
        box[1][m] = cy - ys[m]
        box[2][m] = math.log(max(w, 1) / STRIDE)
        box[3][m] = math.log(max(h, 1) / STRIDE)
        wt[m] = g[m]
    ign[heat > 0.05] = 0  # a plate near an ignore region keeps its own targets
    return heat, box, wt, ign


def loss_fn(heat_logit, box, t_heat, t_box, t_wt, t_ign):
    p = torch.sigmoid(heat_logit[:, 0]).clamp(1e-4, 1 - 1e-4)
    pos = (t_heat >= 1.0).float()
    neg = (1 - pos) * (1 - t_ign)
    pos_l = -torch.log(p) * (1 - p) ** 2 * pos
    neg_l = -torch.log(1 - p) * p ** 2 * (1 - t_heat) ** 4 * neg
    n = pos.sum().clamp(min=1)
    hl = (pos_l.sum() + neg_l.sum()) / n
    w = t_wt.unsqueeze(1)
    bl = (F.smooth_l1_loss(box, t_box, reduction="none", beta=0.1) * w).sum() / (w.sum().clamp(min=1) * 4)
    return hl, bl


# ---------------------------------------------------------------------------
# Data.

def to_tensor(img):
    return (img.astype(np.float32).transpose(2, 0, 1) - MEAN) / SCALE


class SynthData(torch.utils.data.IterableDataset):
    """Endless synthetic crops; worker k of n draws samples k, k+n, ..."""

    def __init__(self, seed, size, min_w, max_w, start=0, real=None, real_frac=0.0):
        self.seed, self.size, self.min_w, self.max_w = seed, size, min_w, max_w
        self.start, self.real, self.real_frac = start, real, real_frac

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        k, n = (info.id, info.num_workers) if info else (0, 1)
        i = self.start + k
        while True:
            rng = np.random.default_rng([self.seed, 9, i])
            if self.real and rng.random() < self.real_frac:
                img, objs = self.real.sample(rng, self.size, self.min_w, self.max_w)
            else:
                img, objs = ps.sample(self.seed, "train", i, self.size, self.size, self.min_w, self.max_w)
            heat, box, wt, ign = targets(objs, self.size, self.size)
            yield to_tensor(img), heat, box, wt, ign
            i += n


class RealData:
    """Real labelled photos for fine-tuning: a CCPD-style folder (the box is
    in the file name: ...-x1&y1_x2&y2-...) or a folder with a desens
    labels.json (class "plate" objects). Each sample is a random crop around
    a plate, scaled so its width falls in the training range."""

    def __init__(self, path):
        self.items = []  # (image path, [[x, y, w, h], ...])
        lj = os.path.join(path, "labels.json")
        if os.path.exists(lj):
            with open(lj) as f:
                labels = json.load(f)
            for im in labels["images"]:
                src = im.get("source", "")
                p = src if os.path.isabs(src) and os.path.exists(src) else os.path.join(path, im["file"])
                boxes = [o["box"] for o in im["objects"] if o["class"] == "plate"]
                self.items.append((p, boxes))
        else:
            for root, _, files in os.walk(path):
                for fn in sorted(files):
                    if fn.lower().endswith((".jpg", ".jpeg", ".png")):
                        b = ccpd_box(fn)
                        if b:
                            self.items.append((os.path.join(root, fn), [b]))
        if not self.items:
            raise SystemExit(f"--real {path}: no labelled images (want labels.json or CCPD file names)")
        print(f"real data: {len(self.items)} images from {path}", file=sys.stderr)

    def sample(self, rng, size, min_w, max_w):
        p, boxes = self.items[rng.integers(len(self.items))]
        img = cv2.imread(p, cv2.IMREAD_COLOR)
        if img is None:
            raise SystemExit(f"{p}: cannot read image")
        if boxes:
            ref = boxes[rng.integers(len(boxes))]
            target = math.exp(rng.uniform(math.log(min_w), math.log(max_w)))
            s = target / max(ref[2], 1)
        else:
            ref, s = [0, 0, img.shape[1], img.shape[0]], size / max(img.shape[:2])
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        cx, cy = (ref[0] + ref[2] / 2) * s, (ref[1] + ref[3] / 2) * s
        x0 = int(cx - rng.uniform(0.1, 0.9) * size)
        y0 = int(cy - rng.uniform(0.1, 0.9) * size)
        out = np.zeros((size, size, 3), np.uint8)
        H, W = img.shape[:2]
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(W, x0 + size), min(H, y0 + size)
        if sx1 > sx0 and sy1 > sy0:
            out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
        objs = []
        for b in boxes:
            bx0, by0 = b[0] * s - x0, b[1] * s - y0
            bx1, by1 = bx0 + b[2] * s, by0 + b[3] * s
            cx0, cy0, cx1, cy1 = max(0, bx0), max(0, by0), min(size, bx1), min(size, by1)
            if cx1 <= cx0 or cy1 <= cy0:
                continue
            vis = (cx1 - cx0) * (cy1 - cy0) / max(1e-6, (bx1 - bx0) * (by1 - by0))
            objs.append(dict(box=[cx0, cy0, cx1 - cx0, cy1 - cy0], ignore=vis < 0.6))
        return out, objs


def ccpd_box(name):
    """The plate box [x, y, w, h] from a CCPD file name, or None. CCPD names
    are '-'-separated fields; the third is the box 'x1&y1_x2&y2'."""
    parts = os.path.splitext(os.path.basename(name))[0].split("-")
    if len(parts) < 3:
        return None
    try:
        a, b = parts[2].split("_")
        x1, y1 = map(float, a.split("&"))
        x2, y2 = map(float, b.split("&"))
    except ValueError:
        return None
    if x2 <= x1 or y2 <= y1:
        return None
    return [x1, y1, x2 - x1, y2 - y1]


# ---------------------------------------------------------------------------
# Export.

def export(net, path):
    net.eval()
    m = Exported(net)
    x = torch.zeros(1, 3, 320, 320)
    tmp = path + ".tmp"
    torch.onnx.export(m, x, tmp, input_names=["image"], output_names=["heat", "box"], opset_version=13,
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "heat": {0: "batch", 2: "h4", 3: "w4"},
                                    "box": {0: "batch", 2: "h4", 3: "w4"}},
                      do_constant_folding=True)
    os.replace(tmp, path)
    print(f"exported {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2000, help="optimiser steps")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this many minutes (0: no limit)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=256, help="training crop side (multiple of 32)")
    ap.add_argument("--min-w", type=float, default=12, help="narrowest plate in a crop, px")
    ap.add_argument("--max-w", type=float, default=190, help="widest plate in a crop, px")
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1, help="data generator processes")
    ap.add_argument("--real", help="folder of real labelled photos (CCPD file names or labels.json) to mix in")
    ap.add_argument("--real-frac", type=float, default=0.5, help="share of real crops when --real is given")
    ap.add_argument("--init", help="start from this checkpoint (.pt)")
    ap.add_argument("--export-only", action="store_true", help="export --init to --out and stop")
    ap.add_argument("--out", default="plate_det.onnx")
    ap.add_argument("--ckpt", default="plate_det.pt")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    ps.check_material("train")
    net = PlateNet()
    if a.init:
        net.load_state_dict(torch.load(a.init))
    print(f"params: {sum(p.numel() for p in net.parameters())}", file=sys.stderr)
    if a.export_only:
        export(net, a.out)
        return
    real = RealData(a.real) if a.real else None
    data = SynthData(a.seed, a.size, a.min_w, a.max_w, real=real, real_frac=a.real_frac if real else 0)
    dl = torch.utils.data.DataLoader(data, batch_size=a.batch, num_workers=a.workers,
                                     worker_init_fn=None, persistent_workers=a.workers > 0)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    t0 = time.time()
    net.train()
    avg = None
    for step, (x, heat, box, wt, ign) in enumerate(dl):
        # Progress is steps done or, with --minutes, time used, whichever is
        # further: the learning rate anneals to zero by the end either way.
        frac = step / a.steps
        if a.minutes:
            frac = max(frac, (time.time() - t0) / (a.minutes * 60))
        if frac >= 1:
            break
        lr = a.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        h, b = net(x)
        hl, bl = loss_fn(h, b, heat, box, wt, ign)
        loss = hl + 2 * bl
        opt.zero_grad()
        loss.backward()
        opt.step()
        v = np.array([loss.item(), hl.item(), bl.item()])
        avg = v if avg is None else avg * 0.98 + v * 0.02
        if step % 50 == 0:
            print(f"step {step} loss {avg[0]:.3f} heat {avg[1]:.3f} box {avg[2]:.3f} "
                  f"lr {lr:.5f} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        if step % 500 == 499:
            torch.save(net.state_dict(), a.ckpt)
    torch.save(net.state_dict(), a.ckpt)
    export(net, a.out)


if __name__ == "__main__":
    main()
