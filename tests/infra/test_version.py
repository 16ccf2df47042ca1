"""The version is written once (edge_node.__version__); everything that states it agrees."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import edge_node

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_takes_the_version_from_the_node() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"], "write the version only in edge_node/__init__.py"
    assert "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "edge_node.__version__"}


def test_the_integration_manifest_states_the_node_version() -> None:
    manifest = json.loads(
        (ROOT / "custom_components" / "storefront" / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["version"] == edge_node.__version__, (
        "custom_components/storefront/manifest.json 'version' must equal edge_node.__version__"
    )


def test_the_changelog_has_a_section_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.splitlines()[0] == "# Changelog"
    assert "## [Unreleased]" in changelog
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert edge_node.__version__ in released, f"CHANGELOG.md: no '## [{edge_node.__version__}]'"
