"""quality_scale.yaml names every rule once, each done or exempt with a reason; and the files it
claims exist."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "storefront"


def test_every_rule_has_a_status_and_exemptions_a_reason() -> None:
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
    assert len(rules) >= 50
    for name, rule in rules.items():
        status = rule if isinstance(rule, str) else rule["status"]
        assert status in ("done", "exempt"), name
        if status != "done":
            assert isinstance(rule, dict), f"{name}: {status} needs a comment"
            assert len(rule.get("comment", "")) > 10, name


def test_claimed_files_exist_and_translations_match() -> None:
    for name in (
        "diagnostics.py",
        "config_flow.py",
        "hub.py",
        "entity.py",
        "icons.json",
        "services.yaml",
        "strings.json",
        "brand/icon.png",
        "manifest.json",
    ):
        assert (PACKAGE / name).exists(), name
    strings = json.loads((PACKAGE / "strings.json").read_text())
    assert json.loads((PACKAGE / "translations" / "en.json").read_text()) == strings
    manifest = json.loads((PACKAGE / "manifest.json").read_text())
    assert manifest["iot_class"] == "local_push"
    # http: the shop screen page; media_source: the offers' media-source images on it
    assert manifest["dependencies"] == ["http", "media_source", "mqtt"]
    assert manifest["version"]
