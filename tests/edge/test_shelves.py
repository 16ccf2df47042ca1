"""The shelves stage on shelves made of real product photos (opencv-doc) on the real walkway.

Still scenes check the rules one at a time (two quiet looks, light, noise, people in front,
stock and low stock, recalibration, the cart); composed clips run the whole pipeline with the
real detector on vtest.avi's real people walking in front of the shelf.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from edge_node.analytics import Analytics
from edge_node.config import ConfigError, NodeConfig, parse_config
from edge_node.evaluate import eval_config, run_eval
from edge_node.recognise import ProductMatcher
from edge_node.shelves import Shelves, ShelvesUpdate, ncc
from edge_node.types import Track
from storefront_dev.shelf_accuracy import match_events, stock_error
from storefront_dev.shelf_scenes import TUNING, Light, compose, node_config, still

ASSETS = Path(__file__).resolve().parents[2] / ".assets"
SCENE = TUNING[0]  # box x2, fruits x2 on the lawn's edge
Image = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def stocked(vtest_video: Path) -> Image:
    return still(SCENE, ASSETS)


@pytest.fixture(scope="module")
def one_fruit_gone(vtest_video: Path) -> Image:
    return still(SCENE, ASSETS, missing=[3])


def config(**shelf: Any) -> NodeConfig:
    """The scene's shelf; changes count without a tracked person near unless said otherwise."""
    data = node_config(SCENE, Path("x.avi"), (768, 576))
    data["shelves"][0].update({"untouched_s": 0.0, **shelf})
    return parse_config(data)


class Feed:
    """Frames at 10 fps into the shelves stage, with camera noise like a real sensor's."""

    def __init__(self, cfg: NodeConfig, seed: int = 1) -> None:
        self.stage = Shelves(cfg.shelves)
        self.t = 0.0
        self.index = 0
        self.rng = np.random.default_rng(seed)
        self.events: list[Any] = []
        self.last: ShelvesUpdate | None = None

    def run(
        self, image: Image, seconds: float, tracks: tuple[Track, ...] = (), noise: float = 2.0
    ) -> None:
        for _ in range(round(seconds * 10)):
            frame = image.astype(np.float32) + self.rng.normal(0, noise, image.shape)
            update = self.stage.update(
                np.clip(frame, 0, 255).astype(np.uint8), tracks, self.t, self.index
            )
            self.events += update.events
            self.last = update if update.stock else self.last
            self.t += 0.1
            self.index += 1

    def levels(self) -> dict[str | None, float]:
        watcher = self.stage.watchers["shelf"]
        return {lv.product: lv.level for lv in watcher.levels()}


def gain(image: Image, factor: float) -> Image:
    return np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)


PERSON = Track(7, (0.40, 0.30, 0.47, 0.62), 0.9)  # standing in front of the shelf


def test_normalised_correlation_ignores_gain_and_offset() -> None:
    rng = np.random.default_rng(0)
    patch = rng.uniform(0, 200, (20, 20)).astype(np.float32)
    assert ncc(patch, patch * 1.2 + 10) == pytest.approx(1.0, abs=1e-5)
    assert abs(ncc(patch, rng.uniform(0, 200, (20, 20)).astype(np.float32))) < 0.3


def test_a_taken_facing_is_reported_after_two_quiet_looks(
    stocked: Image, one_fruit_gone: Image
) -> None:
    feed = Feed(config())
    feed.run(stocked, 3.0)
    assert feed.events == []
    assert feed.levels() == {None: 1.0, "box": 1.0, "fruits": 1.0}
    feed.run(one_fruit_gone, 0.6)  # one quiet look sees it: not yet a change
    assert feed.events == []
    feed.run(one_fruit_gone, 1.0)
    assert [(e.product, e.change, e.level, e.count) for e in feed.events] == [
        ("fruits", "taken", 0.5, 1)
    ]
    assert feed.levels() == {None: 0.75, "box": 1.0, "fruits": 0.5}
    feed.events.clear()
    feed.run(stocked, 2.0)
    assert [(e.product, e.change, e.level) for e in feed.events] == [("fruits", "returned", 1.0)]


@pytest.mark.parametrize("factor", [1.2, 0.8])
def test_twenty_percent_more_or_less_light_is_no_change(stocked: Image, factor: float) -> None:
    feed = Feed(config())
    feed.run(stocked, 2.0)
    for step in np.linspace(1.0, factor, 10):  # a lamp or the sun, over a second
        feed.run(gain(stocked, float(step)), 0.1)
    feed.run(gain(stocked, factor), 5.0)
    assert feed.events == []


def test_camera_noise_is_no_change(stocked: Image) -> None:
    feed = Feed(config())
    feed.run(stocked, 10.0, noise=6.0)
    assert feed.events == []


def test_a_person_in_front_is_never_a_change_and_gets_what_they_took(
    stocked: Image, one_fruit_gone: Image
) -> None:
    feed = Feed(config())
    feed.run(stocked, 2.0)
    # The person covers the shelf with their own pixels: here, a grey coat over it.
    covered = stocked.copy()
    covered[170:360, 300:360] = 90
    feed.run(covered, 4.0, tracks=(PERSON,))
    feed.run(one_fruit_gone, 0.4, tracks=(PERSON,))  # still in front after taking it
    assert feed.events == []
    feed.run(one_fruit_gone, 2.0)
    assert [(e.change, e.track) for e in feed.events] == [("taken", 7)]


def test_a_change_nobody_was_seen_near_must_last(stocked: Image, one_fruit_gone: Image) -> None:
    feed = Feed(config(untouched_s=4.0))
    feed.run(stocked, 2.0)
    feed.run(one_fruit_gone, 3.0)  # a person the detector missed, standing still
    feed.run(stocked, 2.0)  # gone again, the facing was there all along
    assert feed.events == []
    feed.run(one_fruit_gone, 5.0)
    assert [e.change for e in feed.events] == ["taken"]


def test_the_cart_of_the_visit_holds_what_its_person_took(
    stocked: Image, one_fruit_gone: Image
) -> None:
    cfg = config()
    analytics = Analytics.from_config(cfg)
    feed = Feed(cfg)
    feed.run(stocked, 2.0)
    feed.run(one_fruit_gone, 3.0, tracks=(PERSON,))
    feed.run(one_fruit_gone, 2.0)
    analytics.update([PERSON], [], 0.0, 0)
    analytics.update([PERSON], [], 2.5, 25)
    # The person walks off before the shelf is seen again: their visit waits for it.
    assert analytics.update([], [PERSON.track_id], 3.0, 30, held={PERSON.track_id}).visits == []
    visits = analytics.update([], [], 5.0, 50, shelf_events=feed.events).visits
    assert visits[0].cart == {"taken": ("fruits",)}


def test_stock_goes_low_after_a_while_and_back_with_a_margin(stocked: Image) -> None:
    feed = Feed(config(low_level=0.6, low_hysteresis=0.1, low_after_s=2.0))
    feed.run(stocked, 2.0)
    feed.run(still(SCENE, ASSETS, missing=[2]), 1.5)  # fruits at 0.5: below 0.6
    assert [e.change for e in feed.events] == ["taken"]
    feed.run(still(SCENE, ASSETS, missing=[2]), 2.0)
    assert [e.change for e in feed.events] == ["taken", "low"]
    feed.run(still(SCENE, ASSETS, missing=[2, 3]), 1.5)
    assert [e.change for e in feed.events][-2:] == ["taken", "empty"]
    feed.run(stocked, 1.5)  # both back at once: staff restocked
    assert feed.events[-1].change == "restocked"
    assert feed.events[-1].count == 2
    assert feed.stage.watchers["shelf"].areas[1].status == "ok"


def test_recalibrating_takes_the_shelf_as_it_is_now_as_full(
    one_fruit_gone: Image, stocked: Image
) -> None:
    feed = Feed(config())
    feed.run(stocked, 2.0)
    feed.run(one_fruit_gone, 2.0)
    assert feed.levels()["fruits"] == 0.5
    assert feed.stage.recalibrate("nope") is not None
    assert feed.stage.recalibrate("shelf") is None
    feed.run(one_fruit_gone, 1.0)
    assert feed.levels() == {None: 1.0, "box": 1.0, "fruits": 1.0}


def test_product_photos_are_recognised_with_sift(vtest_video: Path) -> None:
    photos = {
        "box": cv2.imread(str(ASSETS / "box.png")),
        "fruits": cv2.imread(str(ASSETS / "fruits.jpg")),
    }
    matcher = ProductMatcher(photos)
    scene = cv2.imread(str(ASSETS / "box_in_scene.png"))
    scores = matcher.scores(scene)
    assert scores["box"] >= 30
    assert scores["fruits"] < 12
    assert matcher.best(scene) == "box"
    assert matcher.best(cv2.imread(str(ASSETS / "messi5.jpg"))) is None


def test_shelf_config_errors_name_the_field() -> None:
    data = node_config(SCENE, Path("x.avi"), (768, 576))
    data["shelves"][0]["products"][1]["id"] = "box"
    with pytest.raises(ConfigError, match=r"shelves\[0\] 'shelf': .*product ids must be unique"):
        parse_config(data)
    data["shelves"][0]["products"][1].update(id="fruits", facings=0)
    with pytest.raises(ConfigError, match=r"shelves\[0\] 'shelf'\.products\[1\] 'fruits'\.facings"):
        parse_config(data)


# --- composed clips through the whole pipeline, real detector, real people -------------------

CHANGES = replace(SCENE, name="test-changes", start=200, frames=320)
QUIET = replace(
    SCENE,
    name="test-quiet",
    seed=31,
    start=200,
    frames=320,
    changes=False,
    light=(Light(60, 1.2), Light(160, 0.8)),
    noise_sigma=5.0,
)


@pytest.fixture(scope="module")
def clips(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shelf-clips")
    for scene in (CHANGES, QUIET):
        compose(scene, ASSETS, out)
    return out


def evaluate(clips: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    truth = json.loads((clips / f"{name}.truth.json").read_text())
    video = clips / truth["video"]
    return truth, run_eval(video, eval_config(video, clips / f"{name}.yaml", None))


def test_changes_made_while_people_walk_in_front_are_found(clips: Path) -> None:
    truth, result = evaluate(clips, "test-changes")
    assert len(truth["events"]) >= 2
    moves = [e for e in result["shelf_events"] if e["change"] in ("taken", "returned")]
    # Someone else passing right after a take keeps the shelf out of view: a loose window here;
    # the ±3 s figures are in docs/accuracy.md.
    matched = match_events(truth["events"], moves, truth["fps"], "visible_frame", window_s=10.0)
    assert matched == len(moves)  # nothing invented
    assert matched >= len(truth["events"]) - 1
    assert stock_error(truth, result["stock"]) < 0.15
    assert all(e["track"] is not None for e in moves)  # someone was at the shelf each time


def test_people_passing_light_and_noise_make_no_shelf_events(clips: Path) -> None:
    truth, result = evaluate(clips, "test-quiet")
    assert truth["events"] == []
    assert result["shelf_events"] == []
    assert {s["level"] for s in result["stock"]} == {1.0}
