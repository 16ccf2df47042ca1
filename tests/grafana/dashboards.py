"""The dashboards in grafana/dashboards/ as data, and what Grafana does to their queries.

Grafana turns a panel's raw InfluxQL into the text InfluxDB receives in two steps, and this
module does the same so the tests can run every query against a real influxd:

1. In the browser, dashboard variables are replaced. For the InfluxDB data source a variable
   with several values (or one that allows several) becomes a regex-escaped alternation
   `(a|b)`; a single-value variable is regex-escaped only where it stands inside a `=~ /.../`
   regex; "All" with a custom all value (`.*` here) is inserted as it is; `${name:raw}` is never
   escaped. Escaping backslashes the characters \\ ^ $ * + ? . ( ) | [ ] { } and /.
2. On the server, `$timeFilter` becomes `time >= <from>ms and time <= <to>ms` and
   `$__interval` / `$interval` the interval text (e.g. `5m`), `$__interval_ms` its milliseconds.

A panel's relative time (`timeFrom`, e.g. `now/d`: today so far) replaces the dashboard's range;
a panel's `interval` is the smallest `$__interval` it gets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
SCHEMA = GRAFANA / "schema" / "dashboard.schema.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "storefront.yaml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "storefront.yaml"
DATASOURCE_UID = "storefront-influxdb"
ALL = "$__all"

# A selection maps a variable's name to the value(s) a user picked, or ALL.
Selection = Mapping[str, str | Sequence[str]]


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows included, and the panels a collapsed row keeps inside it."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(dashboard.get("templating", {}).get("list", []))


@dataclass(frozen=True)
class Query:
    """One panel target: its raw InfluxQL and what Grafana needs to run it."""

    file: str
    panel_id: int
    panel: str
    ref_id: str
    text: str
    result_format: str
    time_from: str | None
    min_interval: str | None

    def __str__(self) -> str:
        return f"{self.file} > panel {self.panel_id} {self.panel!r} > refId {self.ref_id}"


def panel_queries(path: Path) -> list[Query]:
    dashboard = load(path)
    return [
        Query(
            file=path.name,
            panel_id=panel["id"],
            panel=panel.get("title", ""),
            ref_id=target["refId"],
            text=target["query"],
            result_format=target.get("resultFormat", "time_series"),
            time_from=panel.get("timeFrom"),
            min_interval=panel.get("interval"),
        )
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def all_panel_queries() -> list[Query]:
    return [query for path in DASHBOARD_FILES for query in panel_queries(path)]


def find(file: str, panel: str, ref_id: str = "A") -> Query:
    """A panel's target by the dashboard file's name and the panel's title."""
    for query in panel_queries(GRAFANA / "dashboards" / file):
        if query.panel == panel and query.ref_id == ref_id:
            return query
    raise LookupError(f"{file} has no panel {panel!r} with refId {ref_id}")


def defaults(dashboard: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """The selection a dashboard opens with (each variable's saved `current` value)."""
    chosen: dict[str, str | list[str]] = {}
    for variable in variables(dashboard):
        value = variable.get("current", {}).get("value", ALL)
        if value == [ALL]:
            value = ALL
        chosen[variable["name"]] = value
    return chosen


# ---------------------------------------------------------------- step 1: dashboard variables

_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+|Infinity)")
# $name, ${name} and ${name:format}
_REFERENCE = re.compile(r"\$(\w+)|\$\{(\w+)(?::(\w+))?\}")
# A regex literal on the right of =~ or !~ (Grafana's own test for "used inside a regex").
_REGEX_LITERAL = re.compile(r"[=!]~\s*/((?:[^\r\n\[/\\]|\\.|\[(?:[^\r\n\]\\]|\\.)*\])+)/")


def escape_regex(value: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def _in_regex(query: str, name: str) -> bool:
    mention = re.compile(rf"\$(?:{name}\b|\{{{name}[}}:])")
    return any(mention.search(m.group(1)) for m in _REGEX_LITERAL.finditer(query))


def format_variable(variable: Mapping[str, Any], picked: str | Sequence[str], query: str) -> str:
    """One variable's text in `query`, as Grafana's InfluxDB data source writes it."""
    if picked == ALL:
        if not variable.get("allValue"):
            raise ValueError(f"variable {variable['name']} has no custom all value")
        return str(variable["allValue"])
    if isinstance(picked, str) and _NUMBER.match(picked):
        return picked  # Grafana leaves anything that parses as a number alone
    if variable.get("multi") or _in_regex(query, variable["name"]):
        if isinstance(picked, str):
            return escape_regex(picked)
        return "(" + "|".join(escape_regex(v) for v in picked) + ")"
    return picked if isinstance(picked, str) else ",".join(picked)


def interpolate(query: str, defined: Sequence[Mapping[str, Any]], selection: Selection) -> str:
    """Replace the dashboard's variables; anything else (`$timeFilter`, `$__interval`) stays."""
    by_name = {v["name"]: v for v in defined}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in by_name or name not in selection:
            return match.group(0)
        picked = selection[name]
        if match.group(3) == "raw":
            if picked == ALL:
                return str(by_name[name].get("allValue", ""))
            return picked if isinstance(picked, str) else ",".join(picked)
        return format_variable(by_name[name], picked, query)

    return _REFERENCE.sub(replace, query)


# ---------------------------------------------------------------- step 2: time and interval

_RELATIVE = re.compile(r"^now(?:-(\d+)([smhdw]))?(?:/([dw]))?$")
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(duration: str) -> float:
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"not a Grafana duration: {duration!r}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def moment(expression: str, now: datetime) -> datetime:
    """`now`, `now-24h`, `now/d` (start of today) in the dashboard's time zone (here UTC)."""
    match = _RELATIVE.match(expression)
    if match is None:
        raise ValueError(f"not a relative time Grafana understands here: {expression!r}")
    amount, unit, round_to = match.groups()
    at = now - timedelta(seconds=int(amount) * _SECONDS[unit]) if amount else now
    if round_to == "d":
        at = datetime.combine(at.date(), time(), UTC)
    elif round_to == "w":
        day = at.date() - timedelta(days=at.weekday())
        at = datetime.combine(day, time(), UTC)
    return at


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime

    def ms(self) -> tuple[int, int]:
        return int(self.start.timestamp() * 1000), int(self.end.timestamp() * 1000)

    def covers(self, ts: float) -> bool:
        start, end = self.ms()
        return start <= ts * 1000 <= end


def panel_range(dashboard: Mapping[str, Any], query: Query, now: datetime) -> Range:
    start = query.time_from or dashboard["time"]["from"]
    return Range(moment(start, now), moment(dashboard["time"]["to"], now))


def render(query: str, span: Range, interval: str) -> str:
    """What Grafana's server does to a raw InfluxQL query before sending it."""
    start, end = span.ms()
    text = query.replace("$timeFilter", f"time >= {start}ms and time <= {end}ms")
    text = text.replace("$interval", interval)
    text = text.replace("$__interval_ms", str(int(seconds(interval) * 1000)))
    return text.replace("$__interval", interval)


@dataclass(frozen=True)
class Scenario:
    """What a user picked on a dashboard: variable values and the interval Grafana chose."""

    name: str
    selection: Selection
    interval: str = "5m"


def as_sent(
    dashboard: Mapping[str, Any], query: Query, scenario: Scenario, now: datetime
) -> tuple[str, Range]:
    """The text InfluxDB receives for one panel target, and the time range it covers."""
    span = panel_range(dashboard, query, now)
    interval = scenario.interval
    if query.min_interval and seconds(query.min_interval) > seconds(interval):
        interval = query.min_interval
    text = interpolate(query.text, variables(dashboard), scenario.selection)
    return render(text, span, interval), span


def variable_query_as_sent(
    dashboard: Mapping[str, Any], variable: Mapping[str, Any], selection: Selection
) -> str:
    query = variable["query"]
    if not isinstance(query, str):
        query = query["query"]
    return interpolate(query, variables(dashboard), selection)


# ---------------------------------------------------------------- running them


class InfluxQueryError(Exception):
    """InfluxDB refused the query (HTTP error, or an error in its result)."""


def run(url: str, database: str, query: str) -> list[dict[str, Any]]:
    """The series InfluxDB answers to one statement (times in epoch ms, as Grafana asks)."""
    response = requests.get(
        f"{url}/query", params={"db": database, "q": query, "epoch": "ms"}, timeout=30
    )
    body = response.json() if response.content else {}
    if response.status_code != 200 or "error" in body:
        raise InfluxQueryError(body.get("error") or f"HTTP {response.status_code}")
    results = body.get("results", [])
    if len(results) != 1:
        raise InfluxQueryError(f"expected one result, got {len(results)}")
    if "error" in results[0]:
        raise InfluxQueryError(results[0]["error"])
    return list(results[0].get("series", []))


def has_values(series: Sequence[Mapping[str, Any]]) -> bool:
    """True when any series holds a value that is not null (the time column aside)."""
    for one in series:
        columns = one.get("columns", [])
        for row in one.get("values", []):
            if any(v is not None for c, v in zip(columns, row, strict=True) if c != "time"):
                return True
    return False


def problem(url: str, database: str, query: str) -> str | None:
    """Why a panel would show nothing: InfluxDB's error, or "no data"; None when it has data."""
    try:
        series = run(url, database, query)
    except InfluxQueryError as err:
        return f"InfluxDB error: {err}"
    return None if has_values(series) else "no data"


def values(series: Sequence[Mapping[str, Any]], column: str) -> list[Any]:
    """One column of every series, in order."""
    found = []
    for one in series:
        index = one["columns"].index(column)
        found += [row[index] for row in one.get("values", [])]
    return found


def tag_values(series: Sequence[Mapping[str, Any]]) -> list[str]:
    """The answer of SHOW TAG VALUES, without duplicates, sorted."""
    return sorted(set(values(series, "value")))
