"""Node configuration: the example is valid; every mistake is named with its field and fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from edge_node.cli import main
from edge_node.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "edge_node" / "example-config.yaml"


def _minimal(**extra: Any) -> dict[str, Any]:
    return {"node_id": "cam1", "camera": {"source": "/dev/video0"}, **extra}


def test_example_config_is_valid_and_paths_are_resolved_from_the_file() -> None:
    config = load_config(EXAMPLE)
    assert config.node_id == "entrance"
    assert [z.id for z in config.zones] == ["path", "lawn"]
    assert config.lines[0].start == (0.42, 0.0)
    assert config.camera.source == str((ROOT / ".assets" / "vtest.avi").resolve())
    assert config.detection.model == "bundled"


def test_defaults_fill_everything_but_id_and_camera() -> None:
    config = parse_config(_minimal())
    assert config.timezone == "UTC"
    assert config.detection.threads == min(4, os.cpu_count() or 1)
    assert config.detection.rate_hz == "profile"
    assert config.detection_rate() == 7.0  # NanoDet-g's profile: what a Raspberry Pi 4 manages
    assert config.motion.enabled is False
    assert config.display_name == "cam1"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"node_id": "Front Door"}, "node_id: String should match pattern"),
        ({"node_id": "Front Door"}, "use 1-32 characters of a-z, 0-9, _ and -"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown timezone 'Mars/Olympus'"),
        (
            {"zones": [{"id": "a", "name": "A", "polygon": [[0, 0], [1, 1]]}]},
            "zones[0] 'a'.polygon: List should have at least 3 items",
        ),
        (
            {"zones": [{"id": "a", "name": "A", "polygon": [[0, 0], [1, 1.5], [0, 1]]}]},
            "zones[0] 'a'.polygon[1][1]: Input should be less than or equal to 1",
        ),
        (
            {"lines": [{"id": "l", "name": "L", "start": [0.5, 0], "end": [0.5, 0]}]},
            "lines[0] 'l': start and end are the same point",
        ),
        (
            {"zones": [{"id": "a", "name": "A", "polygon": [[0, 0], [1, 0], [0, 1]]}] * 2},
            "id 'a' is used twice",
        ),
        (
            {"detection": {"threads": 0}},
            "detection.threads: Input should be greater than or equal to 1",
        ),
        (
            {"detection": {"score_threshold": 0.2, "low_score_threshold": 0.4}},
            "low_score_threshold must not exceed score_threshold",
        ),
        ({"camra": {}}, "camra: Extra inputs are not permitted (unknown key"),
    ],
)
def test_mistakes_name_the_field_and_the_fix(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_minimal(**change), origin="node.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("node.yaml: ")


def test_missing_camera_is_reported() -> None:
    with pytest.raises(ConfigError, match=r"camera: Field required \(this field is required\)"):
        parse_config({"node_id": "cam1"})


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("node_id: cam1\ncamera:\n  source: [unclosed\n")
    with pytest.raises(ConfigError, match=r"node.yaml: not valid YAML at line \d+, column \d+"):
        load_config(path)


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.yaml")


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "ok — node 'entrance', 2 zone(s), 1 line(s), 1 display(s)" in capsys.readouterr().out
    broken = tmp_path / "broken.yaml"
    broken.write_text("node_id: BAD\ncamera: {source: x.avi}\n")
    assert main(["check-config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "storefront-edge: error:" in err
    assert "node_id" in err


def _fields(model: type, prefix: str = "") -> list[str]:
    from pydantic import BaseModel

    names = []
    for name, info in model.model_fields.items():
        names.append(name)
        annotation = info.annotation
        for candidate in getattr(annotation, "__args__", (annotation,)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                names += _fields(candidate)
    return names


def test_every_config_field_is_documented() -> None:
    from edge_node.config import LineConfig, NodeConfig, ZoneConfig

    reference = (ROOT / "docs" / "configuration.md").read_text()
    for name in set(_fields(NodeConfig) + _fields(ZoneConfig) + _fields(LineConfig)):
        assert f"`{name}`" in reference, f"docs/configuration.md does not mention `{name}`"


def test_thresholds_and_tracker_settings_come_from_the_models_profile() -> None:
    from edge_node.profiles import PROFILES, profile_for

    nanodet = parse_config(_minimal()).tuning()
    assert nanodet == PROFILES["nanodet_g_person_int8"]
    ssdlite = parse_config(_minimal(detection={"model": "ssdlite"})).tuning()
    assert ssdlite == PROFILES["ssdlite_mobilenet_v2_person"]
    # The bundled file given by its path gets its profile too; a user's own model the generic.
    assert profile_for("/models/ssdlite_mobilenet_v2_person.tflite") == ssdlite
    own = parse_config(_minimal(detection={"model": "/models/coco.tflite"})).tuning()
    assert own == profile_for("anything-else.tflite")


def test_yaml_values_override_the_profile_one_by_one() -> None:
    config = parse_config(
        _minimal(
            detection={"model": "ssdlite", "score_threshold": 0.55},
            tracking={"stitch_gap_s": 0, "min_hits": 4},
            analytics={"line_margin": 0.05},
        )
    )
    tuning = config.tuning()
    profile = parse_config(_minimal(detection={"model": "ssdlite"})).tuning()
    assert (tuning.score_threshold, tuning.stitch_gap_s, tuning.min_hits) == (0.55, 0, 4)
    assert tuning.line_margin == 0.05
    assert tuning.low_score_threshold == profile.low_score_threshold
    assert tuning.max_lost_s == profile.max_lost_s


def test_the_weak_allowance_and_the_split_width_come_from_the_profile_or_the_yaml() -> None:
    from edge_node.profiles import PROFILES

    profile = PROFILES["nanodet_g_person_int8"]
    tuning = parse_config(_minimal()).tuning()
    assert (tuning.max_weak_s, tuning.split_aspect) == (profile.max_weak_s, profile.split_aspect)
    assert (profile.max_weak_s, profile.split_aspect) == (2.0, 0.0)  # splitting is opt-in
    mine = parse_config(
        _minimal(detection={"split_aspect": 0.7}, tracking={"max_weak_s": 0})
    ).tuning()
    assert (mine.max_weak_s, mine.split_aspect) == (0.0, 0.7)  # 0: no limit
    with pytest.raises(ConfigError, match="max_weak_s"):
        parse_config(_minimal(tracking={"max_weak_s": -1}))
    with pytest.raises(ConfigError, match="split_aspect"):
        parse_config(_minimal(detection={"split_aspect": 11}))


def test_the_detection_rate_follows_the_model_unless_the_yaml_sets_it() -> None:
    from edge_node.evaluate import eval_config

    def rate(**detection: object) -> float | None:
        return parse_config(_minimal(detection=detection)).detection_rate()

    assert rate() == rate(rate_hz="profile") == 7.0
    assert rate(model="ssdlite") == 7.0  # chosen among 5, 6 and 7 Hz
    assert rate(model="ssdlite-int8") == 5.0  # chosen at 5 Hz
    assert rate(model="/models/coco.tflite") == 5.0  # the generic profile
    assert rate(rate_hz=3) == 3.0
    assert rate(model="ssdlite", rate_hz=4) == 4.0
    assert rate(rate_hz=None) is None  # null: every frame
    # eval's --model picks up the new model's rate unless --rate-hz gives one.
    assert eval_config("clip.avi", None, None, model="ssdlite").detection_rate() == 7.0
    assert eval_config("clip.avi", None, None, model="ssdlite", rate_hz=4).detection_rate() == 4
    assert eval_config("clip.avi", None, None, rate_hz=0).detection_rate() is None
    for bad in (0, 121, "fast"):
        with pytest.raises(ConfigError, match="rate_hz"):
            rate(rate_hz=bad)


def test_a_low_threshold_above_the_profiles_score_threshold_is_named() -> None:
    with pytest.raises(ConfigError, match=r"detection\.low_score_threshold 0\.99 exceeds"):
        parse_config(_minimal(detection={"low_score_threshold": 0.99}))


def test_bundled_model_names_are_not_taken_for_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("node_id: cam1\ncamera: {source: v.avi}\ndetection: {model: ssdlite}\n")
    assert load_config(path).detection.model == "ssdlite"
