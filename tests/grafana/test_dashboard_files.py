"""The dashboard files without a server: Grafana's own JSON Schema of a dashboard, the
provisioning files they are loaded with, one data source everywhere, a layout that fits the
grid, variables that every query obeys, and a page in the docs for every panel."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from custom_components.storefront.influx import InfluxTarget
from tests.grafana import dashboards as dash

DOCS = dash.ROOT / "docs" / "grafana.md"
FILES = dash.DASHBOARD_FILES
# Every panel query limits itself to the selected stores and nodes and obeys the synthetic switch.
SCOPE = '"store" =~ /^$store$/ AND "node" =~ /^$node$/ AND "synthetic" != \'$synthetic\''
GRAFANA_BUILTINS = {"timeFilter", "__interval", "__interval_ms", "interval"}


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(dash.SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(dashboard: dict[str, Any]) -> list[str]:
    return [
        f"{error.json_path}: {error.message[:300]}"
        for error in sorted(validator().iter_errors(dashboard), key=lambda e: e.json_path)
    ]


def test_there_are_dashboards() -> None:
    titles = {dash.load(path)["title"] for path in FILES}
    assert {"Storefront — Store overview", "Storefront — Node health"} <= titles


# ---------------------------------------------------------------- Grafana's schema


def test_the_schema_is_the_generated_one() -> None:
    """dashboard.schema.json is what tools/grafana_schema.sh wrote (its sha256 is in NOTICE)."""
    notice = (dash.GRAFANA / "schema" / "NOTICE").read_text(encoding="utf-8")
    recorded = re.search(r"dashboard\.schema\.json\s+sha256 ([0-9a-f]{64})", notice)
    assert recorded is not None
    assert hashlib.sha256(dash.SCHEMA.read_bytes()).hexdigest() == recorded.group(1)
    assert (dash.GRAFANA / "schema" / "LICENSE_APACHE2").exists()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_dashboard_matches_grafanas_schema(path: Path) -> None:
    errors = schema_errors(dash.load(path))
    assert not errors, f"{path.name} breaks Grafana's dashboard schema:\n" + "\n".join(errors)


def _first_panel(d: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in d["panels"] if p["type"] != "row")


def _thresholds(d: dict[str, Any]) -> Any:
    return _first_panel(d)["fieldConfig"]["defaults"]["thresholds"]


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "schemaVersion as text": (lambda d: d.update(schemaVersion="41"), "$.schemaVersion"),
    "a key Grafana does not know": (lambda d: d.update(panelz=[]), "$"),
    "a panel without its width": (
        lambda d: _first_panel(d)["gridPos"].pop("w"),
        "$.panels[0]",
    ),
    "a variable without a type": (
        lambda d: d["templating"]["list"][0].pop("type"),
        "$.templating.list[0]",
    ),
    "a threshold without a colour": (
        lambda d: _thresholds(d)["steps"][0].pop("color"),
        "$.panels[0]",
    ),
    "field config without overrides": (
        lambda d: _first_panel(d)["fieldConfig"].pop("overrides"),
        "$.panels[0]",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_dashboard_is_rejected(breakage: str) -> None:
    broken = copy.deepcopy(dash.load(FILES[0]))
    change, where = BREAKAGES[breakage]
    change(broken)
    errors = schema_errors(broken)
    assert errors, f"the schema accepted a dashboard with {breakage}"
    assert any(e.startswith(where) for e in errors), errors


# ---------------------------------------------------------------- provisioning


def provisioned_datasource() -> dict[str, Any]:
    config = yaml.safe_load(dash.DATASOURCES.read_text(encoding="utf-8"))
    assert config["apiVersion"] == 1
    (source,) = config["datasources"]
    return dict(source)


def test_datasource_provisioning() -> None:
    source = provisioned_datasource()
    assert source["uid"] == dash.DATASOURCE_UID
    assert source["type"] == "influxdb"
    assert source["access"] == "proxy"
    assert source["url"] == "${STOREFRONT_INFLUX_URL}"
    assert source["jsonData"]["version"] == "InfluxQL"
    # The database the integration writes to unless told otherwise.
    assert source["jsonData"]["dbName"] == InfluxTarget("http://influxdb:8086").database
    assert "password" not in source, "a password belongs in secureJsonData"
    assert source["secureJsonData"]["password"] == "${STOREFRONT_INFLUX_PASSWORD}"


def test_dashboard_provisioning_loads_the_dashboards_folder() -> None:
    config = yaml.safe_load(dash.PROVIDERS.read_text(encoding="utf-8"))
    assert config["apiVersion"] == 1
    (provider,) = config["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")
    assert provider["folder"] == "Storefront"


def datasource_refs(node: Any, where: str = "$") -> Iterator[tuple[str, Any]]:
    """Every `datasource` value anywhere in a dashboard, with its JSON path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield f"{where}.datasource", value
            yield from datasource_refs(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from datasource_refs(value, f"{where}[{index}]")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_datasource_reference_is_the_provisioned_one(path: Path) -> None:
    dashboard = dash.load(path)
    source = provisioned_datasource()
    expected = {"type": source["type"], "uid": source["uid"]}
    builtin = {"type": "grafana", "uid": "-- Grafana --"}  # Grafana's own annotations
    refs = list(datasource_refs(dashboard))
    wrong = [(w, ref) for w, ref in refs if ref not in (expected, builtin)]
    assert not wrong, f"{path.name} refers to another data source: {wrong}"
    for panel in dash.panels(dashboard):
        for target in panel.get("targets", []):
            assert target.get("datasource") == expected, (path.name, panel["title"])
    for variable in dash.variables(dashboard):
        if variable["type"] == "query":
            assert variable.get("datasource") == expected, (path.name, variable["name"])


# ---------------------------------------------------------------- panels and queries


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_panels_fit_the_grid_without_overlapping(path: Path) -> None:
    dashboard = dash.load(path)
    all_panels = list(dash.panels(dashboard))
    ids = [p["id"] for p in all_panels]
    assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["w"] > 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{panel['title']!r} overlaps {taken[(x, y)]!r}"
                taken[(x, y)] = panel["title"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_panel_queries_influxql_and_obeys_the_variables(path: Path) -> None:
    dashboard = dash.load(path)
    defined = {v["name"] for v in dash.variables(dashboard)}
    for panel in dash.panels(dashboard):
        if panel["type"] == "row":
            continue
        title = f"{path.name} > {panel['title']}"
        targets = panel.get("targets", [])
        assert targets, f"{title} has no query"
        assert panel.get("description"), f"{title} has no description"
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{title} has no unit"
        ref_ids = [t["refId"] for t in targets]
        assert len(ref_ids) == len(set(ref_ids)), f"{title}: refIds repeat"
        for target in targets:
            query = target["query"]
            assert target["rawQuery"] is True, title
            assert target["resultFormat"] in {"time_series", "table"}, title
            assert SCOPE in query, f"{title} ({target['refId']}) ignores store/node/synthetic"
            if "zone" in defined and re.search(r'FROM "(occupancy|dwell)"', query):
                assert '"zone" =~ /^$zone$/' in query, f"{title} ignores the zone variable"
            if "GROUP BY time(" in query:
                assert "$timeFilter" in query, f"{title} groups by time without $timeFilter"
            used = {a or b for a, b in re.findall(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}", query)}
            unknown = used - defined - GRAFANA_BUILTINS
            assert not unknown, f"{title} uses undefined variables {unknown}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_variables_allow_several_values_and_all(path: Path) -> None:
    dashboard = dash.load(path)
    by_name = {v["name"]: v for v in dash.variables(dashboard)}
    assert {"store", "node", "synthetic"} <= set(by_name)
    for name in ("store", "node", "zone"):
        if name not in by_name:
            continue
        variable = by_name[name]
        assert variable["multi"], name
        assert variable["includeAll"], name
        assert variable["allValue"] == ".*", name
        assert variable["current"]["value"] == [dash.ALL], f"{name} must open on All"
        assert 'WITH KEY = "' + name + '"' in variable["query"], name
    assert '"store" =~ /^$store$/' in by_name["node"]["query"]
    synthetic = by_name["synthetic"]
    values = {o["text"]: o["value"] for o in synthetic["options"]}
    assert values == {"shown": "none", "hidden": "true"}
    assert synthetic["current"]["value"] == "none", "simulated nodes are shown by default"


def test_dashboard_uids_and_titles_are_unique() -> None:
    loaded = [dash.load(path) for path in FILES]
    for key in ("uid", "title"):
        values = [d[key] for d in loaded]
        assert len(values) == len(set(values)), key
    for d in loaded:
        assert d["id"] is None, "a provisioned dashboard carries no instance id"
        assert "storefront" in d["tags"]


def test_the_docs_describe_every_panel_and_variable() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for path in FILES:
        dashboard = dash.load(path)
        assert dashboard["title"] in docs, dashboard["title"]
        assert path.name in docs, path.name
        for panel in dash.panels(dashboard):
            assert panel["title"] in docs, f"docs/grafana.md misses panel {panel['title']!r}"
        for variable in dash.variables(dashboard):
            assert f"`{variable['name']}`" in docs, variable["name"]
