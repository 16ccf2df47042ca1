"""The layout sent from Home Assistant: checked by the YAML's rules, merged, saved atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge_node.config import ConfigError, load_config
from edge_node.layout import apply_layout, layout_of, write_layout

SQUARE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]


def _node_yaml(tmp_path: Path, **extra: Any) -> Path:
    config = {
        "node_id": "cam1",
        "camera": {"source": "/dev/video0"},
        "zones": [{"id": "path", "name": "Path", "polygon": SQUARE, "capacity": 5}],
        "lines": [{"id": "door", "name": "Door", "start": [0.42, 0.0], "end": [0.42, 1.0]}],
        **extra,
    }
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _layout(**sections: Any) -> dict[str, Any]:
    return {"version": 1, "zones": [], "lines": [], "displays": [], **sections}


def test_layout_replaces_the_sections_and_keeps_what_the_installer_set(tmp_path: Path) -> None:
    config = load_config(_node_yaml(tmp_path))
    new = apply_layout(
        config,
        _layout(
            zones=[
                {"id": "path", "name": "Walkway", "polygon": SQUARE[:3]},
                {"id": "till", "name": "Till", "polygon": SQUARE},
            ],
            lines=[{"id": "door", "name": "Door", "start": [0.1, 0.9], "end": [0.9, 0.9]}],
        ),
    )
    assert [(z.id, z.name, z.capacity) for z in new.zones] == [
        ("path", "Walkway", 5),
        ("till", "Till", None),
    ]
    assert new.lines[0].start == (0.1, 0.9)
    assert new.camera == config.camera  # nothing but the layout changes


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (
            _layout(lines=[{"id": "door", "name": "Door", "start": [0.5, 0.5], "end": [0.5, 0.5]}]),
            "lines[0] 'door': start and end are the same point",
        ),
        (
            _layout(zones=[{"id": "till", "name": "Till", "polygon": SQUARE[:2]}]),
            "zones[0] 'till'.polygon: List should have at least 3 items",
        ),
        (_layout(zones=[{"id": "Till!", "name": "T", "polygon": SQUARE}]), "use 1-32 characters"),
        ({"version": 2, "zones": []}, "layout.version: 2 is not a known layout version"),
        ({**_layout(), "cameras": [{"id": "c"}]}, "this node does not know cameras"),
        (_layout(zones={"id": "x"}), "layout.zones: must be a list"),
        (None, "layout: missing or not an object"),
    ],
)
def test_bad_layouts_are_refused_naming_the_item(
    tmp_path: Path, layout: Any, expected: str
) -> None:
    config = load_config(_node_yaml(tmp_path))
    with pytest.raises(ConfigError) as caught:
        apply_layout(config, layout)
    assert expected in str(caught.value)


def test_saved_layout_wins_over_the_yaml_and_the_yaml_stays_as_written(tmp_path: Path) -> None:
    node_yaml = _node_yaml(tmp_path)
    written = node_yaml.read_text()
    config = load_config(node_yaml)
    new = apply_layout(config, _layout(zones=[{"id": "till", "name": "Till", "polygon": SQUARE}]))
    write_layout(Path(new.layout_file), new)

    assert Path(new.layout_file) == tmp_path / "layout.yaml"
    assert node_yaml.read_text() == written
    again = load_config(node_yaml)
    assert [z.id for z in again.zones] == ["till"]
    assert again.lines == []
    assert layout_of(again) == layout_of(new)


def test_inverted_line_is_described_and_saved_by_its_point_order(tmp_path: Path) -> None:
    line = {"id": "door", "name": "Door", "start": [0.4, 0.0], "end": [0.4, 1.0], "invert": True}
    config = load_config(_node_yaml(tmp_path, lines=[line]))
    saved = layout_of(config)["lines"][0]
    assert (saved["start"], saved["end"], saved["invert"]) == ([0.4, 1.0], [0.4, 0.0], False)


def test_each_save_keeps_the_previous_file_as_backup(tmp_path: Path) -> None:
    config = load_config(_node_yaml(tmp_path))
    path = Path(config.layout_file)
    first = apply_layout(config, _layout(zones=[{"id": "a", "name": "A", "polygon": SQUARE}]))
    write_layout(path, first)
    first_text = path.read_text()
    second = apply_layout(first, _layout(zones=[{"id": "b", "name": "B", "polygon": SQUARE}]))
    write_layout(path, second)
    assert path.with_name("layout.yaml.bak").read_text() == first_text
    assert "id: b" in path.read_text()


def test_a_write_that_fails_midway_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(_node_yaml(tmp_path))
    path = Path(config.layout_file)
    write_layout(path, config)
    before = path.read_bytes()
    new = apply_layout(config, _layout(zones=[{"id": "b", "name": "B", "polygon": SQUARE}]))

    # A full disk cannot be arranged on a shared machine: the flush of the new file fails.
    def full_disk(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_layout(path, new)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layout.yaml", "node.yaml"]
    assert [z.id for z in load_config(tmp_path / "node.yaml").zones] == ["path"]


def test_a_damaged_layout_file_is_named_with_the_way_back(tmp_path: Path) -> None:
    node_yaml = _node_yaml(tmp_path)
    (tmp_path / "layout.yaml").write_text("zones: [")
    with pytest.raises(ConfigError, match=r"layout\.yaml: not valid YAML"):
        load_config(node_yaml)
    (tmp_path / "layout.yaml").write_text("zones: []\n")
    with pytest.raises(ConfigError, match=r"restore layout\.yaml\.bak"):
        load_config(node_yaml)
