"""Makes a set of plate-less frames full of Chinese shop signs and boards,
to count the false plate boxes a run puts on scene text.

Each frame (held-out fonts and photos, as mkevalset.py) carries 4-9 signs:
shop fronts with two to six Chinese characters, yellow and blue boards with
a Chinese line over a phone number ("24小时营业" style), price and
opening-hour boards, and lettering with digits on a white van side. None is
a plate. labels.json lists no objects (every plate box is a false
positive, `desens eval --targets plate DIR`); signs.json lists each sign's
box, so what a run leaves readable can be counted (signs_readable.py).

    python3 mksigns.py --out ../../../out/evalset-signs --seed 7 --n 40
"""

import argparse
import json
import os

import cv2
import numpy as np

import platesynth as ps

CN_LINES = ["24小时营业", "便利超市", "烟酒副食", "五金建材", "川菜馆", "快递代收点",
            "汽车美容", "轮胎修补", "房屋出租", "手机维修", "药店", "水果批发", "停车场",
            "洗车", "早餐店", "牛肉面", "理发店", "中国福利彩票", "新鲜蔬菜", "开锁换锁"]

BOARD_COLORS = [(20, 200, 240), (170, 70, 10), (240, 240, 240), (30, 30, 200), (20, 140, 20), (20, 20, 20)]


def text_w(text, font, h):
    return ps.draw_text_line(np.zeros((4, 4, 3), np.float32), text, font, 0, 0, h, (0, 0, 0))


def ink_for(bg):
    return (10, 10, 10) if sum(bg) > 400 or bg == (20, 200, 240) else (245, 245, 245)


def sign(rng, img, fonts):
    """Draws one sign; returns its box [x, y, w, h] (clipped later)."""
    H, W = img.shape[:2]
    cjk = fonts["cjk"][rng.integers(len(fonts["cjk"]))]
    lat = fonts["latin"][rng.integers(len(fonts["latin"]) - 1)]
    s = float(np.exp(rng.uniform(np.log(14), np.log(80))))  # text height
    x, y = int(rng.uniform(0, W * 0.85)), int(rng.uniform(0, H * 0.85))
    bg = ps.jitter_color(rng, BOARD_COLORS[rng.integers(len(BOARD_COLORS))])
    bg_t = tuple(int(v) for v in bg)
    ink = ps.jitter_color(rng, ink_for(bg_t), 10)
    kind = rng.integers(4)
    word = CN_LINES[rng.integers(len(CN_LINES))]
    phone = "1" + ps.random_string(rng, ps.DIGITS, 2) + "-" + ps.random_string(rng, ps.DIGITS, 4) + "-" + ps.random_string(rng, ps.DIGITS, 4)
    if kind == 0:  # shop front: one big line of Chinese
        tw = text_w(word, cjk, s)
        pad = s * rng.uniform(0.3, 1.0)
        w, h = tw + 2 * pad, s * 1.6
        cv2.rectangle(img, (x, y), (int(x + w), int(y + h)), bg, -1)
        ps.draw_text_line(img, word, cjk, x + pad, y + s * 0.3, s, ink)
    elif kind == 1:  # board: Chinese line over a phone number
        h2 = s * 0.7
        tw = max(text_w(word, cjk, s), text_w(phone, lat, h2))
        pad = s * 0.4
        w, h = tw + 2 * pad, s * 1.4 + h2 * 1.5
        cv2.rectangle(img, (x, y), (int(x + w), int(y + h)), bg, -1)
        ps.draw_text_line(img, word, cjk, x + pad, y + s * 0.2, s, ink)
        ps.draw_text_line(img, phone, lat, x + pad, y + s * 1.3, h2, ink)
    elif kind == 2:  # price or hours board: short Chinese, then digits
        text = ["营业时间", "特价", "每斤", "电话"][rng.integers(4)]
        num = ["8:00-22:00", "9.9", "12.8", ps.random_string(rng, ps.DIGITS, 7)][rng.integers(4)]
        tw1, tw2 = text_w(text, cjk, s), text_w(num, lat, s)
        pad = s * 0.4
        w, h = tw1 + tw2 + 3 * pad, s * 1.6
        cv2.rectangle(img, (x, y), (int(x + w), int(y + h)), bg, -1)
        ps.draw_text_line(img, text, cjk, x + pad, y + s * 0.3, s, ink)
        ps.draw_text_line(img, num, lat, x + 2 * pad + tw1, y + s * 0.3, s, ink)
    else:  # lettering on a white van side: company name and phone, no board
        van = (235, 235, 235)
        w0, h0 = s * rng.uniform(8, 14), s * 4
        cv2.rectangle(img, (x, y), (int(x + w0), int(y + h0)), van, -1)
        ink = ps.jitter_color(rng, [(160, 60, 10), (30, 30, 180), (20, 120, 20)][rng.integers(3)], 10)
        ps.draw_text_line(img, word, cjk, x + s * 0.5, y + s * 0.5, s, ink)
        ps.draw_text_line(img, phone, lat, x + s * 0.5, y + s * 2.0, s * 0.8, ink)
        w, h = w0, h0
    return [x, y, w, h]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (git-ignored out/...)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=40, help="frames")
    a = ap.parse_args()
    split = "heldout"
    ps.check_material(split)
    os.makedirs(a.out, exist_ok=True)
    images, signs = [], []
    fonts = ps.FONTS[split]
    for i in range(a.n):
        rng = np.random.default_rng([a.seed, ps.SPLIT_ID[split], 9, i])
        W, H = (1280, 720) if rng.random() < 0.25 else (1920, 1080)
        img = ps.background(rng, split, W, H)
        boxes = []
        for _ in range(int(rng.integers(4, 10))):
            x, y, w, h = sign(rng, img, fonts)
            x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
            if x1 > x0 and y1 > y0:
                boxes.append([round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)])
        img = ps.effects(rng, img)
        name = f"signs_{i:04d}.jpg"
        tmp = os.path.join(a.out, name + ".tmp.jpg")
        cv2.imwrite(tmp, img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        os.replace(tmp, os.path.join(a.out, name))
        images.append({"file": name, "width": W, "height": H, "objects": []})
        signs.append({"file": name, "signs": boxes})
    gen = f"models/train/plates/mksigns.py --seed {a.seed} --n {a.n}"
    for fname, doc in (("labels.json", {"version": 1, "images": images, "generator": gen}),
                       ("signs.json", {"images": signs, "generator": gen})):
        tmp = os.path.join(a.out, fname + ".tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
        os.replace(tmp, os.path.join(a.out, fname))
    print(f"{a.n} frames, {sum(len(s['signs']) for s in signs)} signs in {a.out}")


if __name__ == "__main__":
    main()
