"""Model profiles: the bundled detectors by name, and the thresholds and tracker settings that
suit each one.

Detectors differ in how their scores are spread and how steadily they find a partly hidden
person, so one set of thresholds cannot serve them all. Each bundled model has a profile chosen
by `tools/calibrate.py` on the calibration part of the labelled footage (see docs/accuracy.md);
any value set in the node's YAML wins over its profile. A user's own model gets the generic
profile. Kept free of other project imports so the configuration can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import PurePath
from typing import Any

# Names a YAML file may give as `detection.model`, and the bundled file (stem) each one means.
DEFAULT_MODEL = "bundled"
BUNDLED_MODELS: dict[str, str] = {
    DEFAULT_MODEL: "nanodet_g_person_int8",  # the stronger detector, the default
    "nanodet": "nanodet_g_person_int8",
    "ssdlite": "ssdlite_mobilenet_v2_person",  # the fast choice
    "ssdlite-int8": "ssdlite_mobilenet_v2_person_int8",  # the fastest
}


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """Thresholds and tracker settings for one detector (the names are the YAML keys)."""

    score_threshold: float  # detection.score_threshold
    low_score_threshold: float  # detection.low_score_threshold
    min_hits: int  # tracking.min_hits
    max_lost_s: float  # tracking.max_lost_s
    report_lost_s: float  # tracking.report_lost_s
    match_iou: float  # tracking.match_iou
    stitch_gap_s: float  # tracking.stitch_gap_s
    stitch_distance: float  # tracking.stitch_distance
    line_margin: float  # analytics.line_margin
    max_weak_s: float = 0.0  # tracking.max_weak_s (0: no limit)
    split_aspect: float = 0.0  # detection.split_aspect (0: never split)
    # detection.rate_hz: detections per second the profile was chosen at, the node's default
    rate_hz: float = 5.0

    def override(self, values: dict[str, Any]) -> ModelProfile:
        """This profile with every value that is not None in `values` replacing its own."""
        names = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in values.items() if k in names and v is not None})


# The settings the node used before profiles existed: a reasonable start for a user's model.
GENERIC = ModelProfile(
    score_threshold=0.4,
    low_score_threshold=0.15,
    min_hits=3,
    max_lost_s=3.0,
    report_lost_s=0.6,
    match_iou=0.2,
    stitch_gap_s=1.5,
    stitch_distance=1.0,
    line_margin=0.02,
)

# What calibration changed from the generic settings, per bundled detector.
PROFILES: dict[str, ModelProfile] = {
    # tools/calibrate.py --model bundled --rate-hz 5,6,7: best on frames 0-399 at 7 Hz, the
    # default rate (docs/accuracy.md). Wide boxes are not split: a person seen from close by, head
    # and shoulders, is as wide as two walking side by side far off.
    "nanodet_g_person_int8": replace(
        GENERIC,
        score_threshold=0.5,
        min_hits=2,
        max_lost_s=2.0,
        report_lost_s=0.3,
        line_margin=0.01,
        max_weak_s=2.0,
        rate_hz=7.0,  # the most a Raspberry Pi 4 manages with it (docs/benchmarks.md)
    ),
    # tools/calibrate.py --model ssdlite --rate-hz 5,6,7 --score-thresholds 0.3,0.4,0.5,0.6:
    # best on frames 0-399 at 7 Hz (its first profile, chosen at 5 Hz before stitching and
    # before the rate held on average, had stitching off)
    "ssdlite_mobilenet_v2_person": replace(
        GENERIC, score_threshold=0.3, max_lost_s=2.0, line_margin=0.01, rate_hz=7.0
    ),
    # tools/calibrate.py --model ssdlite-int8 --rate-hz 5
    "ssdlite_mobilenet_v2_person_int8": replace(
        GENERIC, score_threshold=0.3, min_hits=2, max_lost_s=2.0, line_margin=0.01
    ),
}


def bundled_stem(model: str) -> str | None:
    """The bundled file a model name means, or None for a user's own model file."""
    return BUNDLED_MODELS.get(model)


def profile_for(model: str) -> ModelProfile:
    """The profile of a model given by bundled name or path (bundled files match by name)."""
    stem = bundled_stem(model) or PurePath(model).stem
    return PROFILES.get(stem, GENERIC)
