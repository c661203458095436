"""Synthetic licence-plate scenes for training and evaluating the desens plate
detector.

Everything is deterministic from a seed: sample i of split S with seed s is
drawn from numpy.random.default_rng([s, SPLIT_ID[S], i]), so any sample can
be regenerated alone and data loader workers need no shared state.

Two disjoint "splits" of material:
  train    fonts and background photos used for training
  heldout  other fonts and other background photos, for evaluation only
See README.md in this folder for the sources and licences.
"""

import functools
import math
import os

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# ---------------------------------------------------------------------------
# Material: fonts and background photos (Debian packages; see README.md).

FONTS = {
    "train": {
        "cjk": [("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
                ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0)],
        "latin": [("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0),
                  ("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 0),
                  ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf", 0),
                  ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0)],
    },
    "heldout": {
        "cjk": [("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
                ("/usr/share/fonts/truetype/arphic/uming.ttc", 0)],
        "latin": [("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", 0),
                  ("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf", 0),
                  ("/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf", 0),
                  ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2)],
    },
}

# "train+" is the training split with more fonts (fonts-droid-fallback,
# fonts-arphic-gbsn00lp, fonts-freefont-ttf, fonts-open-sans): the plate
# verifier learnt the two training CJK families as part of what a sign
# looks like. "train" stays as the committed detector was trained.
_EXTRA_CJK = [("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
              ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0)]
_EXTRA_LATIN = [("/usr/share/fonts/truetype/freefont/FreeSansBold.ttf", 0),
                ("/usr/share/fonts/truetype/open-sans/OpenSans-Bold.ttf", 0),
                ("/usr/share/fonts/truetype/open-sans/OpenSans-CondBold.ttf", 0)]
FONTS["train+"] = {
    "cjk": FONTS["train"]["cjk"] + _EXTRA_CJK,
    # The last Latin entry is a CJK font's Latin glyphs (render_eu and
    # render_us skip it), so the extra fonts go before it.
    "latin": FONTS["train"]["latin"][:-1] + _EXTRA_LATIN + FONTS["train"]["latin"][-1:],
}

OCV = "/usr/share/doc/opencv-doc/examples/"
OCVH = "/usr/share/doc/opencv-doc/opencv4/html/"

# Photos without a readable licence plate (those with one are the real
# evaluation set, testdata/eval/plates-real). Street and building scenes,
# scene text, textures, interiors.
BACKGROUNDS = {
    "train": [
        OCV + "data/building.jpg", OCV + "data/leuvenA.jpg", OCV + "data/aero1.jpg",
        OCV + "data/home.jpg", OCV + "data/graf1.png", OCV + "data/stuff.jpg",
        OCV + "data/fruits.jpg", OCV + "data/aloeL.jpg", OCV + "data/board.jpg",
        OCV + "data/box_in_scene.png", OCV + "data/starry_night.jpg",
        OCV + "data/text_defocus.jpg", OCV + "data/pca_test1.jpg",
        OCV + "data/rubberwhale1.png", OCV + "data/basketball1.png",
        OCV + "text/scenetext01.jpg", OCV + "text/scenetext02.jpg",
        OCV + "text/scenetext04.jpg", OCV + "text/scenetext06.jpg",
        OCV + "text/scenetext_segmented_word01.jpg", OCV + "text/scenetext_segmented_word03.jpg",
        OCV + "hfs/data/000.jpg", OCV + "alphamat/input_images/plant.jpg",
        OCVH + "ambush_5_left.jpg", OCVH + "corridor_fld.jpg", OCVH + "fisheye_undistorted.jpg",
        OCVH + "HDRtoneMapping_memorialSample.jpg", OCVH + "newspaper.jpg",
        OCVH + "retina_TreeHdr_small.jpg", OCVH + "feature_building.jpg",
        OCVH + "4_barcodes.jpg", OCVH + "StitchingPipeline.jpg", OCVH + "sample.jpg",
        OCVH + "studentsSample_input.jpg", OCVH + "water_result.jpg",
    ],
    # Distinct scenes: none is the other view of a training stereo pair or
    # sequence (leuvenA/B, aloeL/R, graf1/3 and the like stay unused).
    "heldout": [
        OCV + "text/scenetext03.jpg", OCV + "text/scenetext05.jpg",
        OCV + "text/scenetext_segmented_word02.jpg", OCVH + "fusion_mertens.jpg",
        OCVH + "HDRtoneMapping_candleSample.jpg", OCVH + "period_input.jpg",
        OCVH + "random_pattern.jpg", OCVH + "oc_color_quantization.jpg",
        OCVH + "astra_color.jpg", OCVH + "boat.jpg", OCVH + "tf_mobilenet_opencv_test_res.jpg",
        OCVH + "realsense.jpg",
    ],
}
BACKGROUNDS["train+"] = BACKGROUNDS["train"]

SPLIT_ID = {"train": 1, "heldout": 2, "train+": 3}

# ---------------------------------------------------------------------------
# Plate rules.

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"
ALNUM = LETTERS + DIGITS
EU_LETTERS = "ABCDEFGHIJKLMNOPRSTUVWXYZ"
US_STATES = ["CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ARIZONA", "OREGON",
             "NEVADA", "UTAH", "IOWA", "MAINE", "IDAHO", "GEORGIA", "VIRGINIA", "KANSAS"]
US_SLOGANS = ["SUNSHINE STATE", "EMPIRE STATE", "GRAND CANYON STATE", "dmv.gov",
              "THE LONE STAR STATE", "VACATIONLAND", "FAMOUS POTATOES", ""]
SHOP_WORDS = ["超市", "饭店", "药房", "银行", "酒店", "五金", "便利店", "理发", "面馆", "停车场",
              "出口", "入口", "加油站", "服务区", "收费站", "中国移动", "烟酒", "水果", "小吃"]
LATIN_WORDS = ["HOTEL", "PARKING", "EXIT", "PHARMACY", "BANK", "CAFE", "STOP", "SALE", "OPEN",
               "TAXI", "BUS", "POLICE", "PIZZA", "MARKET", "GARAGE", "SERVICE", "ONE WAY"]

# Plate types: name -> (weight, width mm, height mm)
TYPES = {
    "cn-blue": (0.26, 440, 140),
    "cn-yellow": (0.08, 440, 140),
    "cn-yellow2": (0.07, 440, 220),
    "cn-green": (0.16, 480, 140),
    "cn-white": (0.05, 440, 140),
    "cn-black": (0.05, 440, 140),
    "eu": (0.17, 520, 112),
    "us": (0.16, 305, 152),
}


def plate_text(rng, kind):
    """Returns (text rows, suffix) following each plate type's rules."""
    prov = PROVINCES[rng.integers(len(PROVINCES))]
    let = LETTERS[rng.integers(len(LETTERS))]

    def tail(n, digits_only=False):
        pool = DIGITS if digits_only else ALNUM
        s = []
        letters_used = 0
        for _ in range(n):
            c = pool[rng.integers(len(pool))]
            if c in LETTERS:  # at most two letters in the serial
                letters_used += 1
                if letters_used > 2:
                    c = DIGITS[rng.integers(10)]
            s.append(c)
        return "".join(s)

    if kind == "cn-blue":
        return prov + let + tail(5)
    if kind == "cn-yellow":
        r = rng.random()
        if r < 0.2:
            return prov + let + tail(4) + "学"
        if r < 0.35:
            return prov + let + tail(4) + "挂"
        return prov + let + tail(5)
    if kind == "cn-yellow2":
        suffix = "挂" if rng.random() < 0.3 else ""
        return prov + let + (tail(4) + suffix if suffix else tail(5))
    if kind == "cn-green":
        if rng.random() < 0.7:  # small car: D/F then 5 (letter allowed in 2nd)
            return prov + let + "DF"[rng.integers(2)] + tail(5)
        return prov + let + tail(5, True) + "DF"[rng.integers(2)]
    if kind == "cn-white":
        return prov + let + tail(4) + "警"
    if kind == "cn-black":
        if rng.random() < 0.6:
            return "粤Z" + tail(4) + ("港" if rng.random() < 0.5 else "澳")
        return prov + let + tail(5)
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# Glyphs.

@functools.lru_cache(maxsize=8)
def load_font(path, index, size=96):
    return ImageFont.truetype(path, size, index=index)


@functools.lru_cache(maxsize=4096)
def glyph(path, index, ch):
    """A tight white-on-black mask of one character, as uint8."""
    f = load_font(path, index)
    im = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(im).text((20, 10), ch, font=f, fill=255)
    a = np.asarray(im)
    ys, xs = np.nonzero(a > 40)
    if len(xs) == 0:
        return np.zeros((8, 8), np.uint8)
    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1].copy()


def draw_char(canvas, ch, font, x, y, w, h, color, stretch=True):
    """Draws ch filling box (x, y, w, h) in canvas (float32 HxWx3)."""
    g = glyph(font[0], font[1], ch)
    gh, gw = g.shape
    w, h = max(1, int(round(w))), max(1, int(round(h)))
    if not stretch:  # keep aspect, centre in the box
        s = min(w / gw, h / gh)
        nw, nh = max(1, int(gw * s)), max(1, int(gh * s))
        x += (w - nw) / 2
        y += (h - nh) / 2
        w, h = nw, nh
    elif ch in "1":  # a stretched 1 is a bar; plates draw it narrow
        nw = max(1, int(w * 0.45))
        x += (w - nw) / 2
        w = nw
    m = cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    x, y = int(round(x)), int(round(y))
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    m = m[y0 - y:y1 - y, x0 - x:x1 - x, None]
    canvas[y0:y1, x0:x1] = canvas[y0:y1, x0:x1] * (1 - m) + np.array(color, np.float32) * m


def draw_text_line(canvas, text, font, x, y, h, color, spacing=0.05):
    """Draws proportional text (signs, US plate captions); returns its width."""
    cx = x
    for ch in text:
        if ch == " ":
            cx += h * 0.35
            continue
        g = glyph(font[0], font[1], ch)
        gw = max(1.0, g.shape[1] / g.shape[0] * h)
        if ch in "-.·":
            draw_char(canvas, ch, font, cx, y + h * 0.4, gw, h * 0.2, color, stretch=False)
        else:
            draw_char(canvas, ch, font, cx, y, gw, h, color)
        cx += gw + h * spacing
    return cx - x


# ---------------------------------------------------------------------------
# Plates. Canvases are in millimetres times PX_PER_MM.

PX_PER_MM = 1.0

BGR = {
    "blue": (180, 60, 10), "yellow": (20, 190, 240), "white": (235, 235, 235),
    "black": (20, 20, 20), "green": (90, 190, 60), "red": (30, 30, 200),
}


def jitter_color(rng, c, amount=18):
    return tuple(float(np.clip(v + rng.normal(0, amount), 0, 255)) for v in c)


def rivets(rng, canvas, pts, r):
    for (x, y) in pts:
        c = jitter_color(rng, (170, 170, 170), 40)
        cv2.circle(canvas, (int(x), int(y)), int(r), c, -1, cv2.LINE_AA)
        cv2.circle(canvas, (int(x - r * 0.3), int(y - r * 0.3)), max(1, int(r * 0.35)),
                   (235, 235, 235), -1, cv2.LINE_AA)


def render_cn(rng, kind, text, fonts):
    _, wmm, hmm = TYPES[kind]
    W, H = int(wmm * PX_PER_MM), int(hmm * PX_PER_MM)
    fg_special = None
    if kind == "cn-blue":
        bg, fg, border = BGR["blue"], BGR["white"], BGR["white"]
    elif kind in ("cn-yellow", "cn-yellow2"):
        bg, fg, border = BGR["yellow"], BGR["black"], BGR["black"]
    elif kind == "cn-white":
        bg, fg, border = BGR["white"], BGR["black"], BGR["black"]
        fg_special = BGR["red"]
    elif kind == "cn-black":
        bg, fg, border = BGR["black"], BGR["white"], BGR["white"]
    else:  # green new-energy
        bg, fg, border = None, BGR["black"], None
    canvas = np.zeros((H, W, 3), np.float32)
    if bg is None:
        if rng.random() < 0.75:  # small car: white to green gradient, top to bottom
            top = np.array(jitter_color(rng, (225, 245, 225), 10), np.float32)
            bot = np.array(jitter_color(rng, (100, 200, 70), 15), np.float32)
            t = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
            canvas[:] = top * (1 - t) + bot * t
        else:  # large car: yellow left part, green right
            canvas[:] = jitter_color(rng, (90, 190, 60))
            canvas[:, : int(W * 0.3)] = jitter_color(rng, BGR["yellow"])
    else:
        canvas[:] = jitter_color(rng, bg)
    cjk, lat = fonts["cjk"][rng.integers(len(fonts["cjk"]))], fonts["latin"][rng.integers(len(fonts["latin"]))]
    if border is not None:
        cv2.rectangle(canvas, (3, 3), (W - 4, H - 4), border, 2, cv2.LINE_AA)

    def font_for(ch):
        return cjk if ord(ch) > 127 else lat

    if kind == "cn-yellow2":
        # Top row: province and letter, small; bottom: five large characters.
        top = text[:2]
        cw, ch_ = 80, 60
        x0 = (W - 2 * cw - 30) / 2
        for i, c in enumerate(top):
            draw_char(canvas, c, font_for(c), x0 + i * (cw + 30), 15, cw, ch_, fg)
        bottom = text[2:]
        cw, ch_ = 65, 110
        step = (W - 2 * 27.5 - cw) / max(1, len(bottom) - 1)
        for i, c in enumerate(bottom):
            color = fg_special if (fg_special and i == len(bottom) - 1) else fg
            draw_char(canvas, c, font_for(c), 27.5 + i * step, 90, cw, ch_, color)
        rivets(rng, canvas, [(W * 0.25, 45), (W * 0.75, 45)], 5)
        return canvas
    n = len(text)
    if kind == "cn-green":
        cw, chh, gap, sep, left = 43, 90, 9, 49, 15.5
    else:
        cw, chh, gap, sep, left = 45, 90, 12, 34, 15.5
    y = (H - chh) / 2
    x = left
    for i, c in enumerate(text):
        color = fg
        if fg_special and i == n - 1:
            color = fg_special
        if i == n - 1 and c in "港澳" and kind == "cn-black":
            color = fg
        draw_char(canvas, c, font_for(c), x, y, cw, chh, color)
        x += cw + (sep if i == 1 else gap)
        if i == 1:  # the separating dot
            cv2.circle(canvas, (int(x - sep / 2 - gap / 2), int(H / 2)), 5, fg, -1, cv2.LINE_AA)
    if rng.random() < 0.8:
        rivets(rng, canvas, [(left + cw + gap / 2 + sep / 2 + 6, 22), (W - left - cw - gap / 2, 22)], 5)
    return canvas


def render_eu(rng, fonts):
    W, H = 520, 112
    canvas = np.zeros((H, W, 3), np.float32)
    canvas[:] = jitter_color(rng, BGR["yellow"] if rng.random() < 0.15 else (238, 238, 238), 8)
    cv2.rectangle(canvas, (2, 2), (W - 3, H - 3), (20, 20, 20), 2, cv2.LINE_AA)
    lat = fonts["latin"][rng.integers(len(fonts["latin"]) - 1)]  # skip CJK font
    strip = 44
    canvas[4:H - 4, 4:strip] = jitter_color(rng, (150, 50, 0), 10)
    for k in range(12):  # ring of stars
        a = 2 * math.pi * k / 12
        cv2.circle(canvas, (int(4 + strip / 2 - 2 + 13 * math.cos(a)), int(36 + 13 * math.sin(a))), 2, (0, 200, 255), -1)
    cc = ["D", "F", "NL", "B", "I", "E", "PL", "A", "CZ", "GB"][rng.integers(10)]
    draw_text_line(canvas, cc, lat, 10, 66, 30, (240, 240, 240))
    L = lambda: EU_LETTERS[rng.integers(len(EU_LETTERS))]
    D = lambda: DIGITS[rng.integers(10)]
    style = rng.integers(3)
    if style == 0:
        text = L() + L() + " " + D() + D() + D() + " " + L() + L()
    elif style == 1:
        text = L() + L() + L() + "-" + L() + " " + D() + D() + D()
    else:
        text = D() + "-" + L() + L() + L() + "-" + D() + D() + D()
    x, cw, h = strip + 14, 38, 76
    for c in text:
        if c == " ":
            x += 18
            continue
        if c == "-":
            cv2.line(canvas, (int(x + 2), H // 2), (int(x + 14), H // 2), (20, 20, 20), 5)
            x += 18
            continue
        draw_char(canvas, c, lat, x, (H - h) / 2, cw, h, (20, 20, 20))
        x += cw + 5
    return canvas


def render_us(rng, fonts):
    W, H = 305, 152
    canvas = np.zeros((H, W, 3), np.float32)
    top = np.array(jitter_color(rng, (245, 245, 245), 10), np.float32)
    bot = np.array(jitter_color(rng, [(230, 200, 170), (200, 230, 245), (245, 245, 245), (190, 220, 200)][rng.integers(4)], 10), np.float32)
    t = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    canvas[:] = top * (1 - t) + bot * t
    lat = fonts["latin"][rng.integers(len(fonts["latin"]) - 1)]
    ink = [(120, 30, 10), (30, 30, 160), (20, 20, 20), (90, 40, 0)][rng.integers(4)]
    state = US_STATES[rng.integers(len(US_STATES))]
    sh = 22
    sw = draw_text_line(np.zeros_like(canvas), state, lat, 0, 0, sh, ink)
    draw_text_line(canvas, state, lat, (W - sw) / 2, 10, sh, jitter_color(rng, (40, 40, 180), 40))
    n = int(rng.integers(6, 8))
    text = "".join(ALNUM[rng.integers(len(ALNUM))] if rng.random() < 0.5 else DIGITS[rng.integers(10)] for _ in range(n))
    cw, ch_ = (W - 40) / n - 4, 70
    for i, c in enumerate(text):
        draw_char(canvas, c, lat, 20 + i * (cw + 4), 42, cw, ch_, ink)
    slogan = US_SLOGANS[rng.integers(len(US_SLOGANS))]
    if slogan:
        sw = draw_text_line(np.zeros_like(canvas), slogan, lat, 0, 0, 14, ink)
        draw_text_line(canvas, slogan, lat, (W - sw) / 2, 124, 14, ink)
    rivets(rng, canvas, [(W * 0.23, 16), (W * 0.77, 16), (W * 0.23, H - 16), (W * 0.77, H - 16)], 5)
    return canvas


def render_plate(rng, kind, fonts):
    """Returns the plate canvas (float32 BGR, mm scale) for kind."""
    if kind == "eu":
        return render_eu(rng, fonts)
    if kind == "us":
        return render_us(rng, fonts)
    return render_cn(rng, kind, plate_text(rng, kind), fonts)


def add_frame(rng, plate):
    """Surrounds the plate with a holder frame (dark plastic or chrome) of a
    few millimetres; returns the framed canvas and the plate's corners in
    it (the label covers the plate, the detector's box is grown to cover
    the frame)."""
    H, W = plate.shape[:2]
    m = int(rng.integers(4, 14)) if rng.random() < 0.6 else int(rng.integers(0, 3))
    framed = np.zeros((H + 2 * m, W + 2 * m, 3), np.float32)
    if rng.random() < 0.5:
        framed[:] = jitter_color(rng, (30, 30, 30), 15)
    else:
        g = np.linspace(200, 110, H + 2 * m, dtype=np.float32)[:, None, None]
        framed[:] = g
    if m > 0 and rng.random() < 0.4:  # dealer text on the frame's lower bar
        cv2.putText(framed, "DEALER 8888", (W // 3, H + 2 * m - 2), cv2.FONT_HERSHEY_SIMPLEX, m / 28, (200, 200, 200), 1)
    framed[m:m + H, m:m + W] = plate
    corners = np.float32([[m, m], [m + W, m], [m + W, m + H], [m, m + H]])
    return framed, corners


def weather_plate(rng, plate):
    """Dirt, wear and uneven light on the plate face."""
    H, W = plate.shape[:2]
    out = plate.copy()
    if rng.random() < 0.5:  # wear: faded, lower contrast
        f = rng.uniform(0.6, 1.0)
        out = out * f + out.mean() * (1 - f)
    if rng.random() < 0.5:  # dirt blotches
        mask = np.zeros((H, W), np.float32)
        for _ in range(int(rng.integers(2, 12))):
            cv2.ellipse(mask, (int(rng.uniform(0, W)), int(rng.uniform(0, H))),
                        (int(rng.uniform(5, W / 4)), int(rng.uniform(3, H / 3))), rng.uniform(0, 180), 0, 360,
                        rng.uniform(0.2, 0.7), -1)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(2, 8))[:, :, None]
        dirt = np.array(jitter_color(rng, (50, 70, 90), 20), np.float32)
        out = out * (1 - mask) + dirt * mask
    if rng.random() < 0.4:  # light gradient / shadow
        t = np.linspace(rng.uniform(0.4, 1.0), rng.uniform(0.8, 1.2), W, dtype=np.float32)[None, :, None]
        out = out * t
    return np.clip(out, 0, 255)


# ---------------------------------------------------------------------------
# Geometry.

def perspective(rng, w, h, target_w, steep):
    """Corners of a w x h rectangle seen under a random 3D rotation, scaled
    so the plate's frontal width would be target_w pixels. Returns the four
    projected corners centred at the origin."""
    yaw = math.radians(rng.uniform(-65, 65) if steep else rng.normal(0, 15))
    pitch = math.radians(rng.uniform(-35, 35) if steep else rng.normal(0, 8))
    roll = math.radians(rng.normal(0, 6) if rng.random() < 0.85 else rng.uniform(-20, 20))
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]], np.float64)
    cy, sy, cp, sp, cr, sr = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), math.cos(roll), math.sin(roll)
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    Rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    p = pts @ (Rz @ Rx @ Ry).T
    f = rng.uniform(1.2, 4.0) * w  # focal length in plate widths: near = strong perspective
    z = p[:, 2] + f
    proj = p[:, :2] * (f / z)[:, None]
    return proj * (target_w / w)


def warp_onto(img, alpha_acc, src, src_quad, dst_quad):
    """Warps src (float32) so src_quad lands on dst_quad in img, in place,
    with an anti-aliased edge."""
    H, W = img.shape[:2]
    x0, y0 = np.floor(dst_quad.min(0)).astype(int) - 2
    x1, y1 = np.ceil(dst_quad.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        return
    # Shrink the source first so the warp does not alias small plates.
    sh, sw = src.shape[:2]
    scale = max((x1 - x0) / sw, (y1 - y0) / sh) * 2
    if scale < 1:
        nw, nh = max(2, int(sw * scale)), max(2, int(sh * scale))
        src = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_AREA)
        src_quad = src_quad * np.float32([nw / sw, nh / sh])
        sh, sw = nh, nw
    M = cv2.getPerspectiveTransform(src_quad.astype(np.float32), (dst_quad - [x0, y0]).astype(np.float32))
    out = cv2.warpPerspective(src, M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    m = cv2.warpPerspective(np.ones((sh, sw), np.float32), M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)[:, :, None]
    roi = img[y0:y1, x0:x1]
    roi[:] = roi * (1 - m) + out * m
    if alpha_acc is not None:
        alpha_acc[y0:y1, x0:x1] = np.maximum(alpha_acc[y0:y1, x0:x1], m[:, :, 0])


# ---------------------------------------------------------------------------
# Backgrounds and distractors.

@functools.lru_cache(maxsize=64)
def load_photo(path):
    im = cv2.imread(path, cv2.IMREAD_COLOR)
    if im is None:
        raise FileNotFoundError(f"background photo {path} (install opencv-doc: models/train/plates/setup.sh)")
    return im


def background(rng, split, W, H):
    """A random view of a random photo: zoom, crop, mirror, colour jitter;
    sometimes a plain car body with bumper lines instead (the surface plates
    sit on)."""
    photos = BACKGROUNDS[split]
    if rng.random() < 0.15:  # a plain painted surface with a few lines
        img = np.zeros((H, W, 3), np.float32)
        img[:] = jitter_color(rng, (rng.uniform(20, 230),) * 3, 40)
        for _ in range(int(rng.integers(1, 5))):
            y = int(rng.uniform(0, H))
            cv2.line(img, (0, y), (W, y + int(rng.normal(0, 20))), jitter_color(rng, (60, 60, 60), 50),
                     int(rng.integers(1, 6)), cv2.LINE_AA)
        return img
    im = load_photo(photos[rng.integers(len(photos))])
    ph, pw = im.shape[:2]
    s = rng.uniform(0.6, 3.0) * max(W / pw, H / ph)
    cw, ch = min(pw, int(W / s) + 1), min(ph, int(H / s) + 1)
    x, y = int(rng.uniform(0, pw - cw + 1)), int(rng.uniform(0, ph - ch + 1))
    crop = im[y:y + ch, x:x + cw]
    crop = cv2.resize(crop, (W, H), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    crop = crop * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30)
    return np.clip(crop, 0, 255)


def car_body(rng, img, quad, alpha_acc):
    """Paints a car rear or front around a plate: body colour, bumper edge,
    maybe lamps and a grille, so plates are seen in their usual context."""
    H, W = img.shape[:2]
    cx, cy = quad.mean(0)
    pw = quad[:, 0].max() - quad[:, 0].min()
    ph = quad[:, 1].max() - quad[:, 1].min()
    bw, bh = pw * rng.uniform(2.5, 5), ph * rng.uniform(2.5, 6)
    color = jitter_color(rng, [(30, 30, 30), (230, 230, 230), (40, 40, 150), (120, 80, 40), (160, 160, 160), (30, 60, 30)][rng.integers(6)], 20)
    x0, y0 = int(cx - bw / 2), int(cy - bh * rng.uniform(0.4, 0.7))
    cv2.rectangle(img, (x0, y0), (int(x0 + bw), int(y0 + bh)), color, -1, cv2.LINE_AA)
    shade = tuple(c * 0.6 for c in color)
    cv2.line(img, (x0, int(cy + ph * 0.9)), (int(x0 + bw), int(cy + ph * 0.9)), shade, max(1, int(ph * 0.15)))
    if rng.random() < 0.6:  # lamps
        lc = (40, 40, 200) if rng.random() < 0.6 else (220, 220, 220)
        for sx in (-1, 1):
            lx = int(cx + sx * bw * 0.38)
            cv2.rectangle(img, (int(lx - bw * 0.08), int(cy - ph * 1.5)), (int(lx + bw * 0.08), int(cy - ph * 0.8)), lc, -1)
    if rng.random() < 0.4:  # grille above the plate
        grille(rng, img, int(cx - pw), int(cy - ph * 2.6), int(pw * 2), int(ph * 1.3))


def grille(rng, img, x, y, w, h):
    c = jitter_color(rng, (40, 40, 40), 30)
    c2 = jitter_color(rng, (180, 180, 180), 40)
    cv2.rectangle(img, (x, y), (x + w, y + h), c, -1)
    n = int(rng.integers(3, 10))
    vertical = rng.random() < 0.3
    for k in range(n):
        if vertical:
            xx = x + int((k + 0.5) * w / n)
            cv2.line(img, (xx, y), (xx, y + h), c2, max(1, w // (3 * n)))
        else:
            yy = y + int((k + 0.5) * h / n)
            cv2.line(img, (x, yy), (x + w, yy), c2, max(1, h // (3 * n)))


def random_string(rng, pool, n):
    return "".join(pool[rng.integers(len(pool))] for _ in range(n))


def distractor(rng, img, fonts, alpha_acc):
    """One hard negative: shop sign, road sign, road marking, scene text,
    grille or a number-like pattern. None of them is a plate."""
    H, W = img.shape[:2]
    kind = rng.integers(7)
    s = math.exp(rng.uniform(math.log(12), math.log(90)))  # text height
    x, y = int(rng.uniform(-20, W - 20)), int(rng.uniform(-10, H - 10))
    cjk = fonts["cjk"][rng.integers(len(fonts["cjk"]))]
    lat = fonts["latin"][rng.integers(len(fonts["latin"]))]
    if kind == 0:  # shop sign: long banner, big text, 2-6 characters
        word = SHOP_WORDS[rng.integers(len(SHOP_WORDS))] if rng.random() < 0.6 else LATIN_WORDS[rng.integers(len(LATIN_WORDS))]
        f = cjk if ord(word[0]) > 127 else lat
        bg = jitter_color(rng, [(30, 30, 200), (180, 60, 10), (20, 150, 20), (240, 240, 240), (20, 20, 20), (20, 190, 240)][rng.integers(6)])
        tw = draw_text_line(np.zeros((4, 4, 3), np.float32), word, f, 0, 0, s, (0, 0, 0))
        pad = s * rng.uniform(0.3, 1.5)
        cv2.rectangle(img, (x, y), (int(x + tw + 2 * pad), int(y + s * 1.6)), bg, -1)
        draw_text_line(img, word, f, x + pad, y + s * 0.3, s, jitter_color(rng, (250, 250, 250) if sum(bg) < 400 else (10, 10, 10)))
    elif kind == 1:  # road sign: blue or green panel, several lines, arrows
        bg = jitter_color(rng, [(150, 60, 0), (60, 120, 0)][rng.integers(2)])
        lines = int(rng.integers(2, 4))
        wsign = s * rng.uniform(4, 9)
        cv2.rectangle(img, (x, y), (int(x + wsign), int(y + lines * s * 1.5 + s * 0.5)), bg, -1)
        cv2.rectangle(img, (x + 3, y + 3), (int(x + wsign) - 3, int(y + lines * s * 1.5 + s * 0.5) - 3), (240, 240, 240), 2)
        for k in range(lines):
            word = SHOP_WORDS[rng.integers(len(SHOP_WORDS))] if rng.random() < 0.5 else LATIN_WORDS[rng.integers(len(LATIN_WORDS))]
            f = cjk if ord(word[0]) > 127 else lat
            draw_text_line(img, word, f, x + s * 0.5, y + s * 0.5 + k * s * 1.5, s, (240, 240, 240))
            if rng.random() < 0.5:
                ax = int(x + wsign - s * 1.2)
                ay = int(y + s + k * s * 1.5)
                cv2.arrowedLine(img, (ax - int(s / 2), ay), (ax + int(s / 2), ay), (240, 240, 240), max(1, int(s / 6)), tipLength=0.5)
    elif kind == 2:  # road marking: white stripes, arrows, painted digits
        c = jitter_color(rng, (220, 220, 220), 20)
        if rng.random() < 0.5:
            for k in range(int(rng.integers(2, 6))):
                cv2.rectangle(img, (int(x + k * s * 1.5), y), (int(x + k * s * 1.5 + s * 0.7), int(y + s * 4)), c, -1)
        else:
            draw_text_line(img, random_string(rng, DIGITS, int(rng.integers(2, 4))), lat, x, y, s * 2.5, c)
    elif kind == 3:  # scene text straight on the background
        pool = rng.integers(3)
        text = (random_string(rng, SHOP_WORDS[rng.integers(len(SHOP_WORDS))], 4) if pool == 0 else
                random_string(rng, ALNUM + "  ", int(rng.integers(4, 12))))
        f = cjk if pool == 0 else lat
        draw_text_line(img, text, f, x, y, s * 0.6, jitter_color(rng, (rng.uniform(0, 255),) * 3, 60))
    elif kind == 4:
        grille(rng, img, x, y, int(s * rng.uniform(3, 8)), int(s * rng.uniform(1, 3)))
    elif kind == 5:  # number-like: phone number or price on a board, no plate border
        text = random_string(rng, DIGITS, 3) + "-" + random_string(rng, DIGITS, 4) + ("-" + random_string(rng, DIGITS, 4) if rng.random() < 0.5 else "")
        h = s * 0.6
        bg = jitter_color(rng, (rng.uniform(0, 255),) * 3, 60)
        tw = draw_text_line(np.zeros((4, 4, 3), np.float32), text, lat, 0, 0, h, (0, 0, 0))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x - int(h), y - int(h * 1.5)), (int(x + tw + h), int(y + h * 3)), bg, -1)
            draw_text_line(img, random_string(rng, SHOP_WORDS[rng.integers(len(SHOP_WORDS))], 3), cjk, x, y - h * 1.3, h, jitter_color(rng, (255 - bg[0],) * 3))
        draw_text_line(img, text, lat, x, y, h, jitter_color(rng, (255 - bg[0],) * 3))
    else:  # round or triangular traffic sign with a number
        r = int(s)
        cv2.circle(img, (x, y), r, (30, 30, 200), -1, cv2.LINE_AA)
        cv2.circle(img, (x, y), int(r * 0.75), (240, 240, 240), -1, cv2.LINE_AA)
        draw_text_line(img, random_string(rng, DIGITS, 2), lat, x - r * 0.5, y - r * 0.35, r * 0.7, (20, 20, 20))


# ---------------------------------------------------------------------------
# Scene effects.

def motion_blur(rng, img, length):
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1
    M = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    k = cv2.warpAffine(k, M, (length, length))
    k /= max(k.sum(), 1e-6)
    return cv2.filter2D(img, -1, k)


def effects(rng, img):
    H, W = img.shape[:2]
    night = rng.random() < 0.2
    if night:
        img = img * rng.uniform(0.15, 0.45)
        img[:, :, 0] *= rng.uniform(1.0, 1.3)
        for _ in range(int(rng.integers(0, 4))):  # lamps and headlight glare
            m = np.zeros((H, W), np.float32)
            cv2.circle(m, (int(rng.uniform(0, W)), int(rng.uniform(0, H))), int(rng.uniform(3, 30)), 1.0, -1)
            m = cv2.GaussianBlur(m, (0, 0), rng.uniform(4, 20))
            img = img + m[:, :, None] * rng.uniform(150, 400)
    if rng.random() < 0.15:  # sun glare: a bright soft blob anywhere
        m = np.zeros((H, W), np.float32)
        cv2.ellipse(m, (int(rng.uniform(0, W)), int(rng.uniform(0, H))), (int(rng.uniform(10, W / 2)), int(rng.uniform(5, H / 4))),
                    rng.uniform(0, 180), 0, 360, 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(5, 25))
        img = img + m[:, :, None] * rng.uniform(60, 200)
    if rng.random() < 0.12:  # rain streaks
        streaks = np.zeros((H, W), np.float32)
        ang = rng.uniform(-0.4, 0.4)
        for _ in range(int(rng.integers(50, 300))):
            x, y, L = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(5, 25)
            cv2.line(streaks, (int(x), int(y)), (int(x + L * ang), int(y + L)), rng.uniform(0.2, 0.6), 1, cv2.LINE_AA)
        img = img * (1 - streaks[:, :, None] * 0.5) + 200 * streaks[:, :, None] * 0.5
    r = rng.random()
    if r < 0.2:
        img = motion_blur(rng, img, int(rng.integers(3, 10)))
    elif r < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0))
    if rng.random() < 0.6:
        img = img + rng.normal(0, rng.uniform(2, 12), img.shape).astype(np.float32)
    if rng.random() < 0.1:
        g = img.mean(2, keepdims=True)
        img = np.repeat(g, 3, 2)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        q = int(rng.integers(25, 95))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img


# ---------------------------------------------------------------------------
# Scenes.

def pick_type(rng):
    names = list(TYPES)
    w = np.array([TYPES[n][0] for n in names])
    return names[rng.choice(len(names), p=w / w.sum())]


def make_scene(rng, split, W, H, min_w, max_w, max_plates=3, empty_frac=0.1, negatives=(1, 4), one_type=False):
    """Renders one scene. Returns (BGR uint8 image, objects) where each object
    is dict(box=[x, y, w, h], type=kind, ignore=bool). Boxes are the plate's
    axis-aligned extent (corners of the plate itself, not its frame).
    one_type puts plates of a single type in the scene (so evaluation can
    charge false positives to a type)."""
    fonts = FONTS[split]
    img = background(rng, split, W, H)
    objects = []
    occupied = []  # plate rectangles with margins, to keep plates apart
    placed = []  # plates drawn so far, with what later paint hid of them
    n = 0 if rng.random() < empty_frac else int(rng.integers(1, max_plates + 1))
    # Distractors first so plates sit on top of them, never hidden by them.
    for _ in range(int(rng.integers(negatives[0], negatives[1] + 1))):
        distractor(rng, img, fonts, None)
    scene_kind = pick_type(rng)
    for _ in range(n):
        kind = scene_kind if one_type else pick_type(rng)
        plate = weather_plate(rng, render_plate(rng, kind, fonts))
        framed, corners = add_frame(rng, plate)
        ph, pw = plate.shape[:2]
        target = math.exp(rng.uniform(math.log(min_w), math.log(max_w)))
        steep = rng.random() < 0.3
        proj = perspective(rng, pw, ph, target, steep)
        span = proj.max(0) - proj.min(0)
        # The centre may lie near an edge: plates cut by the frame edge occur.
        for _try in range(10):
            c = np.array([rng.uniform(-0.1 * span[0], W + 0.1 * span[0]),
                          rng.uniform(-0.1 * span[1], H + 0.1 * span[1])])
            quad = proj + c
            bx0, by0 = quad.min(0)
            bx1, by1 = quad.max(0)
            mx, my = (bx1 - bx0) * 0.5, (by1 - by0) * 0.8
            if all(bx1 + mx < o[0] or bx0 - mx > o[2] or by1 + my < o[1] or by0 - my > o[3] for o in occupied):
                break
        else:
            continue
        occupied.append((bx0, by0, bx1, by1))
        if rng.random() < 0.5:
            # A car body is wider than the margins that keep plates apart, so
            # it can paint over a plate placed earlier: what it changes is
            # taken off that plate's visible area below.
            before = img.copy()
            car_body(rng, img, quad, None)
            changed = np.any(img != before, axis=2)
            for p in placed:
                p["hidden"] |= changed
        # Frame corners follow the plate's homography.
        Hm = cv2.getPerspectiveTransform(corners.astype(np.float32), quad.astype(np.float32))
        fh, fw = framed.shape[:2]
        fq = cv2.perspectiveTransform(np.float32([[[0, 0], [fw, 0], [fw, fh], [0, fh]]]), Hm)[0]
        warp_onto(img, None, framed, np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]]), fq)
        area = np.zeros((H, W), np.uint8)
        cv2.fillConvexPoly(area, np.round(quad).astype(np.int32), 1)
        placed.append(dict(kind=kind, quad=quad, area=area.astype(bool), hidden=np.zeros((H, W), bool)))
    for p in placed:
        # The label: the plate clipped to the image. A plate mostly cut by the
        # frame edge or covered by a later car body is marked ignore (neither
        # hit nor false positive); one almost wholly covered is not there to
        # find, and a detection on the paint over it is a false positive.
        bx0, by0 = p["quad"].min(0)
        bx1, by1 = p["quad"].max(0)
        cx0, cy0 = max(0, bx0), max(0, by0)
        cx1, cy1 = min(W, bx1), min(H, by1)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        vis = (cx1 - cx0) * (cy1 - cy0) / max(1e-6, (bx1 - bx0) * (by1 - by0))
        inside = p["area"].sum()
        if inside > 0:
            covered = (p["area"] & p["hidden"]).sum() / inside
            if covered > 0.8:
                continue
            vis *= 1 - covered
        objects.append(dict(box=[float(cx0), float(cy0), float(cx1 - cx0), float(cy1 - cy0)], type=p["kind"],
                            ignore=bool(vis < 0.6 or (cx1 - cx0) < min_w * 0.5)))
    img = effects(rng, img)
    return img, objects


def sample(seed, split, index, W, H, min_w, max_w, **kw):
    rng = np.random.default_rng([seed, SPLIT_ID[split], index])
    return make_scene(rng, split, W, H, min_w, max_w, **kw)


def check_material(split):
    """Raises with a clear message when a font or photo is missing."""
    missing = [p for p, _ in FONTS[split]["cjk"] + FONTS[split]["latin"] if not os.path.exists(p)]
    missing += [p for p in BACKGROUNDS[split] if not os.path.exists(p)]
    if missing:
        raise SystemExit("missing (run models/train/plates/setup.sh): " + ", ".join(missing))
