"""Display audience on real images: passers, dwellers, watchers, attention time and mood.

The person in front of the display is scikit-image's `astronaut` photograph (a real, smiling,
frontal face above a real body the person detector finds), replayed as frames; covering the
face with a flat patch turns the person away without losing their track.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from edge_node.audience import Impression
from edge_node.config import ConfigError, NodeConfig, parse_config
from edge_node.counters import DailyCounters, ImpressionFigures
from edge_node.evaluate import run_eval
from edge_node.pipeline import Pipeline
from edge_node.types import Frame

ROOT = Path(__file__).resolve().parents[2]
FPS = 10.0
Image = npt.NDArray[np.uint8]


def _astronaut() -> Image:
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    # Room below the feet, so the person stands inside the display zone, not on its edge.
    return cv2.copyMakeBorder(image, 0, 160, 96, 96, cv2.BORDER_CONSTANT)


PERSON = _astronaut()
EMPTY = np.zeros_like(PERSON)


def _turned_away(image: Image) -> Image:
    away = image.copy()
    height, width = away.shape[:2]
    # The face in the padded photograph (about x 0.35-0.53, y 0.12-0.27 of the frame).
    cv2.rectangle(away, (int(0.3 * width), 0), (int(0.6 * width), int(0.3 * height)), 90, -1)
    return away


AWAY = _turned_away(PERSON)


SCREEN = [[0, 0], [1, 0], [1, 0.95], [0, 0.95]]


def _config(**extra: Any) -> NodeConfig:
    return parse_config(
        {
            "node_id": "t",
            "camera": {"source": "unused.mp4"},
            "displays": [
                {
                    "id": "screen",
                    "name": "Screen",
                    "polygon": [[0, 0], [1, 0], [1, 0.95], [0, 0.95]],
                }
            ],
            **extra,
        }
    )


ATTENTION = {"features": {"attention": True, "mood": True}}


def _replay(pipeline: Pipeline, images: Iterable[Image]) -> list[Impression]:
    impressions: list[Impression] = []
    index = -1
    for index, image in enumerate(images):
        impressions += pipeline.process(Frame(index, index / FPS, image)).audience.impressions
    impressions += pipeline.finish((index + 1) / FPS, index + 1)[1].impressions
    return impressions


def test_without_attention_no_face_model_is_imported() -> None:
    """The default node never imports the face module, let alone loads a face model."""
    script = (
        "import sys, numpy as np\n"
        "from edge_node.config import parse_config\n"
        "from edge_node.pipeline import Pipeline\n"
        "from edge_node.types import Frame\n"
        "config = parse_config({'node_id': 't', 'camera': {'source': 'x.mp4'}, 'displays': "
        "[{'id': 'd', 'name': 'D', 'polygon': [[0, 0], [1, 0], [1, 1], [0, 1]]}]})\n"
        "pipeline = Pipeline(config)\n"
        "pipeline.process(Frame(0, 0.0, np.zeros((480, 640, 3), np.uint8)))\n"
        "assert pipeline.audience.looker is None\n"
        "print('edge_node.faces' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_a_dweller_makes_one_impression_without_attention() -> None:
    impressions = _replay(Pipeline(_config()), [PERSON] * 40)
    assert len(impressions) == 1
    impression = impressions[0]
    assert impression.display_id == "screen"
    assert impression.duration_s >= 3.0
    assert (impression.looked, impression.attention_s, impression.mood) == (False, 0.0, None)


def test_a_passer_who_does_not_stay_makes_no_impression() -> None:
    pipeline = Pipeline(_config(audience={"dwell_s": 3.0}))
    passers: list[str] = []
    impressions: list[Impression] = []
    for index, image in enumerate([PERSON] * 15 + [EMPTY] * 60):
        audience = pipeline.process(Frame(index, index / FPS, image)).audience
        passers += audience.passers
        impressions += audience.impressions
    assert passers == ["screen"]
    assert impressions == []


def test_a_frontal_face_held_makes_a_watcher_with_attention_time_and_mood() -> None:
    impressions = _replay(Pipeline(_config(**ATTENTION)), [PERSON] * 40)
    assert len(impressions) == 1
    impression = impressions[0]
    assert impression.looked is True
    # Looked at from the moment the person counted as in the zone to the end.
    assert 2.5 <= impression.attention_s <= impression.duration_s
    assert impression.mood == "positive"


def test_a_glance_shorter_than_the_minimum_is_not_attention() -> None:
    glances = ([AWAY] * 10 + [PERSON] * 5) * 3 + [AWAY] * 10  # half-second glances
    impressions = _replay(Pipeline(_config(**ATTENTION)), glances)
    assert len(impressions) == 1
    assert (impressions[0].looked, impressions[0].attention_s, impressions[0].mood) == (
        False,
        0.0,
        None,
    )


def test_attention_sums_only_the_held_spells() -> None:
    frames = [AWAY] * 10 + [PERSON] * 5 + [AWAY] * 10 + [PERSON] * 15 + [AWAY] * 10
    impressions = _replay(Pipeline(_config(**ATTENTION)), frames)
    assert len(impressions) == 1
    # Only the 1.5 s spell counts (15 looks 0.1 s apart, plus half the gap to the looks on
    # either side, at most 0.25 s each); the 0.5 s glance does not.
    assert impressions[0].looked is True
    assert 1.4 <= impressions[0].attention_s <= 1.9


def test_the_offer_on_screen_is_put_on_the_impression() -> None:
    pipeline = Pipeline(_config())
    pipeline.audience.show("screen", "winter_sale")
    assert _replay(pipeline, [PERSON] * 30)[0].offer == "winter_sale"
    with pytest.raises(KeyError):
        pipeline.audience.show("no_such_display", "x")


def test_mood_needs_attention_and_the_error_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"features: .*set attention: true"):
        _config(features={"mood": True})
    with pytest.raises(ConfigError, match=r"audience\.face_model"):
        _config(audience={"face_model": "huge"})


def _figures(mood: str | None, offer: str | None = "a", looked: bool = True) -> ImpressionFigures:
    return ImpressionFigures(looked=looked, attention_s=2.0, dwell_s=4.0, mood=mood, offer=offer)


def test_mood_shares_appear_only_over_enough_impressions() -> None:
    counters = DailyCounters.fresh("2026-12-01", [], [])
    counters.add_passer("screen")
    for mood in ("positive", "positive", "neutral", "negative"):
        counters.add_impression("screen", _figures(mood))
    screen = counters.to_contract(mood_min=5)["impressions"]["screen"]
    assert "mood" not in screen
    assert "mood" not in screen["offers"]["a"]
    counters.add_impression("screen", _figures("positive", offer="b"))
    screen = counters.to_contract(mood_min=5)["impressions"]["screen"]
    assert screen["mood"] == {"positive": 0.6, "neutral": 0.2, "negative": 0.2, "n": 5}
    assert "mood" not in screen["offers"]["a"]  # only 4 there
    assert (screen["passers"], screen["impressions"], screen["watchers"]) == (1, 5, 5)
    restored = DailyCounters.from_storage(counters.to_storage())
    assert restored.to_contract(mood_min=5) == counters.to_contract(mood_min=5)


def test_eval_reports_impressions(short_clip: Path) -> None:
    config = _config(camera={"source": str(short_clip)}, audience={"dwell_s": 1.0})
    result = run_eval(short_clip, config)
    assert result["impressions"], "people walk through the whole-frame display zone"
    for row in result["impressions"]:
        assert set(row) == {
            "frame",
            "display",
            "track",
            "duration_s",
            "looked",
            "attention_s",
            "mood",
        }
        assert row["display"] == "screen"
        assert row["duration_s"] >= 1.0
