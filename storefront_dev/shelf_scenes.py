"""Shelf clips composed from real images and real video, with their ground truth.

No shelf footage ships in any package the project may use, so the clips are made: real product
photos from Debian's opencv-doc (`box.png`, `fruits.jpg`, `smarties.png`, `basketball1.png`,
`messi5.jpg`) stand as facings on a shelf area painted onto the real walkway of `vtest.avi`.
Wherever a frame differs from the empty-scene median a person is there, and the frame's own
pixels are kept, so vtest's real people walk in front of the products. A facing only disappears
(taken) or reappears (returned, restocked) on a frame where a person covers it, as in a shop.
Light changes (a gain ramp) and camera noise are added on top of the whole frame.

Tuning and scoring scenes differ in seed, products and shelf placement (see `TUNING`,
`SCORING`), so thresholds chosen on one are judged on the other.

`python -m storefront_dev.shelf_scenes ASSETS OUT_DIR [NAME...]` writes clips, truth and configs.
"""

from __future__ import annotations

import functools
import json
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import yaml

Image = npt.NDArray[np.uint8]
PERSON_DIFF = 30  # grey levels from the empty scene that mark a person's pixel
COVER = 0.3  # a facing counts as hidden when a person covers this share of it


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    photo: str  # file name in the assets directory
    facings: int


@dataclass(frozen=True, slots=True)
class Light:
    frame: int  # the ramp starts here
    gain: float  # brightness factor reached (0.8 = 20% darker)
    ramp_frames: int = 10


@dataclass(frozen=True, slots=True)
class ShelfScene:
    """One composed clip: where the shelf is, what stands on it and what happens."""

    name: str
    seed: int
    shelf: tuple[int, int, int, int]  # x, y, width, height in pixels of the 768x576 frame
    products: tuple[Product, ...]
    start: int = 0  # first vtest frame
    frames: int = 795
    event_chance: float = 0.6  # chance that a person hiding a facing changes it
    min_gap_s: float = 6.0  # between two changes
    light: tuple[Light, ...] = ()
    noise_sigma: float = 2.0
    changes: bool = True  # False: people pass, nothing on the shelf changes


@dataclass(slots=True)
class _Facing:
    product: str
    rect: tuple[int, int, int, int]  # x, y, w, h
    image: Image = field(repr=False)
    present: bool = True


@functools.lru_cache(maxsize=2)
def empty_scene(video: Path, samples: int = 60) -> Image:
    """Per-pixel median over frames spread through the video: the walkway without its people."""
    picks = [frame for index, frame in read_frames(video) if index % (795 // samples) == 0]
    return np.asarray(np.median(np.stack(picks), axis=0), dtype=np.uint8)


def person_mask(frame: Image, background: Image) -> npt.NDArray[np.bool_]:
    """Pixels where someone is in front of the scene (difference from the empty median)."""
    blurred = cv2.GaussianBlur(frame, (5, 5), 0).astype(np.int16)
    diff = np.abs(blurred - background.astype(np.int16)).max(axis=2) > PERSON_DIFF
    mask = cv2.morphologyEx(diff.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    return mask.astype(bool)


def read_frames(video: Path, start: int = 0, count: int = 1 << 30) -> Iterator[tuple[int, Image]]:
    """Frames [start, start+count) one at a time, numbered from 0 at `start`."""
    reader = cv2.VideoCapture(str(video))
    try:
        index = 0
        while index < start + count:
            ok, frame = reader.read()
            if not ok:
                return
            if index >= start:
                yield index - start, np.asarray(frame, dtype=np.uint8)
            index += 1
    finally:
        reader.release()


def _facings(scene: ShelfScene, assets: Path) -> list[_Facing]:
    x, y, width, height = scene.shelf
    total = sum(p.facings for p in scene.products)
    step = width // total
    facings = []
    for product in scene.products:
        photo = cv2.imread(str(assets / product.photo))
        if photo is None:
            raise FileNotFoundError(f"{assets / product.photo}: run scripts/fetch_assets.sh")
        image = np.asarray(
            cv2.resize(photo, (step - 4, height - 4), interpolation=cv2.INTER_AREA), dtype=np.uint8
        )
        for _ in range(product.facings):
            facings.append(_Facing(product.id, (x + 2, y + 2, step - 4, height - 4), image))
            x += step
    return facings


def _hidden(mask: npt.NDArray[np.bool_], facing: _Facing) -> bool:
    x, y, w, h = facing.rect
    return float(mask[y : y + h, x : x + w].mean()) >= COVER


def _level(facings: list[_Facing], product: str) -> float:
    mine = [f for f in facings if f.product == product]
    return round(sum(f.present for f in mine) / len(mine), 3)


def _change(rng: random.Random, facings: list[_Facing], hidden: list[_Facing]) -> tuple[str, str]:
    """Pick what a person hiding these facings does; returns (product, change)."""
    facing = rng.choice(hidden)
    mine = [f for f in facings if f.product == facing.product]
    missing = [f for f in mine if not f.present]
    if not facing.present and len(missing) > 1 and rng.random() < 0.3:
        for f in missing:
            f.present = True
        return facing.product, "restocked"
    facing.present = not facing.present
    return facing.product, "taken" if not facing.present else "returned"


def _render(frame: Image, mask: npt.NDArray[np.bool_], facings: list[_Facing]) -> Image:
    out = frame.copy()
    for facing in facings:
        if not facing.present:
            continue
        x, y, w, h = facing.rect
        keep = ~mask[y : y + h, x : x + w]
        out[y : y + h, x : x + w][keep] = facing.image[keep]
    return out


def still(scene: ShelfScene, assets: Path, missing: Sequence[int] = ()) -> Image:
    """The empty walkway with the scene's shelf stocked, but for the facings numbered `missing`."""
    facings = _facings(scene, assets)
    for index in missing:
        facings[index].present = False
    background = empty_scene(assets / "vtest.avi")
    return _render(background, np.zeros(background.shape[:2], bool), facings)


def _gain(scene: ShelfScene, index: int) -> float:
    gain = 1.0
    for light in scene.light:
        if index >= light.frame:
            done = min(1.0, (index - light.frame) / max(1, light.ramp_frames))
            gain = gain + (light.gain - gain) * done
    return gain


def compose(scene: ShelfScene, assets: Path, out_dir: Path) -> dict[str, Any]:
    """Write `<name>.avi`, `<name>.truth.json` and `<name>.yaml`; returns the truth."""
    out_dir.mkdir(parents=True, exist_ok=True)
    background = empty_scene(assets / "vtest.avi")
    facings = _facings(scene, assets)
    rng = random.Random(scene.seed)
    noise = np.random.default_rng(scene.seed)
    fps = 10.0
    events: list[dict[str, Any]] = []
    last_change = -1e9
    height, width = background.shape[:2]
    video = out_dir / f"{scene.name}.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    was_hidden: set[int] = set()
    covered: list[bool] = []  # per frame: someone is in front of the shelf
    sx, sy, sw, sh = scene.shelf
    count = 0
    for index, frame in read_frames(assets / "vtest.avi", scene.start, scene.frames):
        count += 1
        mask = person_mask(frame, background)
        hidden = [f for f in facings if _hidden(mask, f)]
        covered.append(bool(mask[sy : sy + sh, sx : sx + sw].mean() > 0.01))
        newly = [f for f in hidden if id(f) not in was_hidden]
        was_hidden = {id(f) for f in hidden}
        due = (
            index / fps - last_change >= scene.min_gap_s
            and 3.0 <= index / fps <= scene.frames / fps - 8.0
        )
        if scene.changes and newly and due and rng.random() < scene.event_chance:
            product, change = _change(rng, facings, newly)
            last_change = index / fps
            events.append(
                {
                    "frame": index,
                    "shelf": "shelf",
                    "product": product,
                    "change": change,
                    "level": _level(facings, product),
                }
            )
        image = _render(frame, mask, facings).astype(np.float32) * _gain(scene, index)
        if scene.noise_sigma:
            image += noise.standard_normal(image.shape, dtype=np.float32) * scene.noise_sigma
        writer.write(np.clip(image, 0, 255).astype(np.uint8))
    writer.release()
    for event in events:
        # The first frame after the change with the shelf in full view: when it can be seen.
        after = [i for i in range(event["frame"], count) if not covered[i]]
        event["visible_frame"] = after[0] if after else count
    truth = {
        "scene": scene.name,
        "video": video.name,
        "fps": fps,
        "frames": count,
        "events": events,
        "products": {p.id: p.facings for p in scene.products},
        "light": [{"frame": lt.frame, "gain": lt.gain} for lt in scene.light],
        "noise_sigma": scene.noise_sigma,
    }
    (out_dir / f"{scene.name}.truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    config = node_config(scene, video, (width, height))
    (out_dir / f"{scene.name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return truth


def _rect(x: float, y: float, w: float, h: float, size: tuple[int, int]) -> list[list[float]]:
    fw, fh = size
    x1, y1, x2, y2 = x / fw, y / fh, (x + w) / fw, (y + h) / fh
    return [[round(a, 4), round(b, 4)] for a, b in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))]


def node_config(scene: ShelfScene, video: Path, size: tuple[int, int]) -> dict[str, Any]:
    """A node configuration watching the scene's shelf, its products as facings areas."""
    x, y, width, height = scene.shelf
    total = sum(p.facings for p in scene.products)
    step = width // total
    products = []
    for product in scene.products:
        area = _rect(x, y, step * product.facings, height, size)
        products.append(
            {"id": product.id, "name": product.id.title(), "area": area, "facings": product.facings}
        )
        x += step * product.facings
    shelf = {"id": "shelf", "name": "Shelf", "polygon": _rect(*scene.shelf, size)}
    return {
        "node_id": "shelves",
        "camera": {"source": str(video)},
        "shelves": [{**shelf, "products": products}],
    }


PHOTOS = {
    "box": "box.png",
    "fruits": "fruits.jpg",
    "smarties": "smarties.png",
    "ball": "basketball1.png",
}
THREE_STEPS = (Light(150, 1.2), Light(400, 0.8), Light(650, 1.0))  # brighter, darker, back


def _scene(
    name: str,
    seed: int,
    shelf: tuple[int, int, int, int],
    products: tuple[str, str],
    facings: int,
    **more: Any,
) -> ShelfScene:
    """A scene from a row: two products of `facings` facings each, named as in PHOTOS."""
    items = tuple(Product(p, PHOTOS[p], facings) for p in products)
    return ShelfScene(name, seed=seed, shelf=shelf, products=items, **more)


# A scene in which people pass and nothing on the shelf changes (the light or noise may).
_still = functools.partial(_scene, changes=False)


# Thresholds are chosen on these: one placement, one product mix, one seed.
TUNING = (
    _scene("tune-changes", 11, (288, 290, 144, 44), ("box", "fruits"), 2),
    _still(
        "tune-light",
        12,
        (288, 290, 144, 44),
        ("box", "fruits"),
        2,
        light=(Light(200, 1.2), Light(500, 0.8)),
    ),
    _scene("tune-changes-a", 101, (150, 244, 132, 40), ("smarties", "ball"), 3),
    _scene("tune-changes-b", 102, (436, 340, 138, 42), ("fruits", "box"), 3),
    _scene("tune-changes-c", 103, (440, 150, 132, 40), ("box", "smarties"), 2),
    _still("tune-passing", 104, (150, 244, 132, 40), ("fruits", "smarties"), 3),
    _still("tune-light-b", 105, (436, 340, 138, 42), ("smarties", "box"), 3, light=THREE_STEPS),
    _still("tune-noise", 106, (440, 150, 132, 40), ("ball", "fruits"), 2, noise_sigma=6.0),
)

# Figures are measured on these only: other seeds, product mixes and places on the frame. (The
# "tune-*-a/b/c", passing, light-b and noise scenes were a first scoring set; a run on them showed
# the calibration and untouched-change faults fixed since, so they count as tuning now.)
SCORING = (
    _scene("score-changes-a", 201, (580, 388, 132, 40), ("fruits", "smarties"), 3),
    _scene("score-changes-b", 202, (150, 148, 132, 40), ("box", "ball"), 3),
    _scene("score-changes-c", 203, (290, 436, 132, 44), ("smarties", "box"), 2),
    _scene("score-changes-d", 204, (6, 196, 132, 40), ("ball", "fruits"), 2),
    _still("score-passing", 205, (580, 388, 132, 40), ("box", "fruits"), 3),
    _still("score-light", 206, (150, 148, 132, 40), ("fruits", "smarties"), 2, light=THREE_STEPS),
    _still("score-noise", 207, (290, 436, 132, 44), ("box", "ball"), 2, noise_sigma=6.0),
)

# The demo's second camera: a busy shelf, every change kept (seeded like the others).
DEMO = _scene("demo-shelf", 7, (288, 290, 144, 44), ("box", "fruits"), 2, event_chance=0.8)

SCENES = {scene.name: scene for scene in (*TUNING, *SCORING, DEMO)}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m storefront_dev.shelf_scenes ASSETS OUT_DIR [NAME...]")
        return 2
    assets, out_dir, names = Path(argv[0]), Path(argv[1]), argv[2:] or list(SCENES)
    for name in names:
        truth = compose(SCENES[name], assets, out_dir)
        print(f"{name}: {truth['frames']} frames, {len(truth['events'])} changes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
