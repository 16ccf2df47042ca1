"""The node's layout: zones, counting lines, displays and shelves as one versioned value.

Home Assistant sends a layout with `set_layout`; this module checks it with the YAML's own rules
(`config.validate_config`), merges it into the running configuration, and saves it to the layout
file the YAML points to — written atomically, with the previous file kept as `<name>.bak`.
Lines carry their direction in the order of their points (see `LineConfig`), so a saved line
never needs `invert`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .config import LAYOUT_SECTIONS, LAYOUT_VERSION, ConfigError, NodeConfig, validate_config


def layout_of(config: NodeConfig) -> dict[str, Any]:
    """The running layout as `set_layout` carries it."""
    layout: dict[str, Any] = {"version": LAYOUT_VERSION}
    for section in LAYOUT_SECTIONS:
        layout[section] = [item.model_dump(mode="json") for item in getattr(config, section)]
    return layout


def apply_layout(config: NodeConfig, layout: Any) -> NodeConfig:
    """The running configuration with `layout` in place, or a ConfigError naming each bad item."""
    if not isinstance(layout, dict):
        raise ConfigError(
            "layout: missing or not an object; send args.layout = {version, zones, ...}"
        )
    if layout.get("version") != LAYOUT_VERSION:
        raise ConfigError(
            f"layout.version: {layout.get('version')!r} is not a known layout version "
            f"(this node reads version {LAYOUT_VERSION})"
        )
    # An empty list of something this node cannot watch asks for nothing, so it is no error.
    unknown = sorted(k for k in set(layout) - {"version", *LAYOUT_SECTIONS} if layout[k] != [])
    if unknown:
        raise ConfigError(
            f"layout: this node does not know {', '.join(unknown)}; "
            f"it takes {', '.join(LAYOUT_SECTIONS)}"
        )
    running = config.model_dump(mode="json")
    data = dict(running)
    for section in LAYOUT_SECTIONS:
        given = layout.get(section, [])
        if not isinstance(given, list):
            raise ConfigError(f"layout.{section}: must be a list")
        data[section] = [_merged(section, item, running[section]) for item in given]
    return validate_config(data, origin="layout")


def _merged(section: str, item: Any, running: list[dict[str, Any]]) -> Any:
    # The panel draws geometry and names: whatever else an installer set on an item (a zone's
    # capacity, a shelf's tuning, a product's photo) is kept when the item keeps its id.
    if not isinstance(item, dict) or section == "lines":
        return item  # a line is its points, name and entrance flag; bad items fail validation
    before = next((old for old in running if old.get("id") == item.get("id")), None)
    if before is None:
        return item
    merged = {**before, **item}
    if section == "shelves" and isinstance(item.get("products"), list):
        merged["products"] = [
            _merged("products", product, before.get("products", [])) for product in item["products"]
        ]
    return merged


def saved_form(config: NodeConfig) -> dict[str, Any]:
    """What the layout file holds: the version and each section, defaults left out."""
    layout: dict[str, Any] = {"version": LAYOUT_VERSION}
    for section in LAYOUT_SECTIONS:
        layout[section] = [
            item.model_dump(mode="json", exclude_defaults=True) for item in getattr(config, section)
        ]
    return layout


def write_layout(path: Path, config: NodeConfig) -> None:
    """Save the layout of `config` to `path` atomically; the file it replaces becomes `.bak`."""
    text = "# Saved by the node when the layout is changed in Home Assistant.\n" + yaml.safe_dump(
        saved_form(config), sort_keys=False, default_flow_style=None
    )
    _atomic_write(path, text)


def _atomic_write(path: Path, text: str) -> None:
    # A power cut at any point leaves either the old file or the new one, never half of one:
    # the new text is written and flushed to a temporary file next to it, then renamed over it.
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = path.with_name(path.name + ".bak")
    if path.exists():
        _replace_with(backup, path.read_bytes())
    _replace_with(path, text.encode("utf-8"))


def _replace_with(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
