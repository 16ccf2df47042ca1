"""Every query of every dashboard, as Grafana would send it, against a real influxd holding a
day of two stores' data: each returns data without an error under the selections a user makes,
and the numbers the main panels show are the numbers that were written."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from storefront_dev.servers import Influxd
from tests.grafana import dashboards as dash
from tests.grafana.conftest import DATABASE
from tests.grafana.store_day import HARBOUR, MAIN, midnight
from tests.streamlit import dataset
from tests.streamlit.dataset import Dataset, nearest_rank, scoped

OVERVIEW = "store-overview.json"
HEALTH = "node-health.json"
QUERIES = dash.all_panel_queries()
VARIABLES = [
    (path.name, variable)
    for path in dash.DASHBOARD_FILES
    for variable in dash.variables(dash.load(path))
    if variable["type"] == "query"
]
HIDDEN = "true"  # the synthetic variable's value that leaves simulated nodes out

SCENARIOS = [
    dash.Scenario("as the dashboard opens (All, simulated nodes shown)", {}),
    dash.Scenario(
        "one store, two nodes picked, simulated nodes hidden, 30s interval",
        {"store": [MAIN], "node": ["entrance", "floor"], "synthetic": HIDDEN},
        interval="30s",
    ),
    dash.Scenario(
        "two stores, all nodes, zone window, 1h interval",
        {"store": [MAIN, HARBOUR], "zone": ["window"], "synthetic": HIDDEN},
        interval="1h",
    ),
    dash.Scenario("Main St. entrance alone", {"store": [MAIN], "node": ["entrance"]}),
    dash.Scenario("Main St. floor alone", {"store": [MAIN], "node": ["floor"]}),
    dash.Scenario("Harbour entrance alone", {"store": [HARBOUR], "node": ["entrance"]}),
]


def dashboard(file: str) -> dict[str, Any]:
    return dash.load(dash.GRAFANA / "dashboards" / file)


def scenario(dashboard: dict[str, Any], base: dash.Scenario) -> dash.Scenario:
    """The dashboard's own defaults, overridden by what the scenario picks."""
    return dash.Scenario(base.name, {**dash.defaults(dashboard), **base.selection}, base.interval)


def ask(
    influxd: Influxd, file: str, panel: str, picks: dash.Selection, ref_id: str = "A"
) -> tuple[list[dict[str, Any]], dash.Range]:
    """Run one panel's query as Grafana would; the series and the time range it covered."""
    board = dashboard(file)
    query = dash.find(file, panel, ref_id)
    text, span = dash.as_sent(
        board, query, scenario(board, dash.Scenario("test", picks)), datetime.now(UTC)
    )
    return dash.run(influxd.url, DATABASE, text), span


def one_value(series: list[dict[str, Any]]) -> Any:
    assert len(series) == 1, series
    assert len(series[0]["values"]) == 1, series
    return series[0]["values"][0][1]


# ---------------------------------------------------------------- every query has data


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_every_panel_query_returns_data(influxd: Influxd, day: Dataset, query: dash.Query) -> None:
    board = dashboard(query.file)
    now = datetime.now(UTC)
    failures = []
    for base in SCENARIOS:
        text, _ = dash.as_sent(board, query, scenario(board, base), now)
        why = dash.problem(influxd.url, DATABASE, text)
        if why:
            failures.append(f"  {base.name}: {why}\n    {text}")
    assert not failures, f"{query} shows nothing:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("file", "variable"), VARIABLES, ids=lambda v: v if isinstance(v, str) else v["name"]
)
def test_every_variable_query_lists_values(
    influxd: Influxd, day: Dataset, file: str, variable: dict[str, Any]
) -> None:
    board = dashboard(file)
    for base in SCENARIOS:
        text = dash.variable_query_as_sent(board, variable, scenario(board, base).selection)
        found = dash.tag_values(dash.run(influxd.url, DATABASE, text))
        assert found, f"{file} > variable {variable['name']} ({base.name}) lists nothing: {text}"


def test_variables_follow_the_store_and_node(influxd: Influxd, day: Dataset) -> None:
    board = dashboard(OVERVIEW)
    by_name = {v["name"]: v for v in dash.variables(board)}

    def listed(name: str, **picks: Any) -> list[str]:
        selection = {**dash.defaults(board), **picks}
        text = dash.variable_query_as_sent(board, by_name[name], selection)
        return dash.tag_values(dash.run(influxd.url, DATABASE, text))

    assert listed("store") == sorted([HARBOUR, MAIN])
    assert listed("node", store=[MAIN]) == ["entrance", "floor", "sim-1"]
    assert listed("node", store=[HARBOUR]) == ["entrance"]
    assert listed("zone", store=[MAIN], node=["entrance"]) == ["counter", "window"]
    assert listed("zone", store=[MAIN], node=["floor"]) == ["aisle", "counter"]
    assert listed("zone", store=[MAIN, HARBOUR], node=dash.ALL) == ["aisle", "counter", "window"]


# ---------------------------------------------------------------- the numbers are right


def latest_state(day: Dataset, **scope: Any) -> dict[tuple[str, str], dataset.Occupancy]:
    """Each node's last state (its occupancy reading), by (store, node)."""
    return {(r.store, r.node): r for r in scoped(day.occupancy, **scope)}


def test_people_now_adds_up_each_nodes_latest_count(influxd: Influxd, day: Dataset) -> None:
    panel = "People in the store now"
    hidden, _ = ask(influxd, OVERVIEW, panel, {"store": [MAIN], "synthetic": HIDDEN})
    shown, _ = ask(influxd, OVERVIEW, panel, {"store": [MAIN]})
    latest = {node: r.total for (_, node), r in latest_state(day, stores=[MAIN]).items()}
    assert one_value(hidden) == latest["entrance"] + latest["floor"]
    assert one_value(shown) == sum(latest.values())
    assert latest["sim-1"] > 0  # else hiding simulated nodes would change nothing


def test_visits_today_are_each_nodes_counter_since_midnight(influxd: Influxd, day: Dataset) -> None:
    series, span = ask(influxd, OVERVIEW, "Visits today", {"synthetic": HIDDEN})
    assert span.start.timestamp() == midnight(span.end.timestamp())
    last = {key: r.ts for key, r in latest_state(day, synthetic=False).items()}
    expected = sum(
        1
        for v in scoped(day.visits, synthetic=False)
        if span.start.timestamp() <= v.ts <= last[v.store, v.node]
    )
    assert one_value(series) == expected


def test_people_in_and_out_per_hour_count_every_crossing(influxd: Influxd, day: Dataset) -> None:
    series, span = ask(influxd, OVERVIEW, "People in and out per hour", {"store": [MAIN]})
    shown = {s["tags"]["direction"]: sum(dash.values([s], "sum")) for s in series}
    for direction in ("in", "out"):
        crossings = [c for c in scoped(day.crossings, stores=[MAIN]) if c.direction == direction]
        assert shown[direction] == sum(1 for c in crossings if span.covers(c.ts)), direction


def test_dwell_percentiles_per_zone(influxd: Influxd, day: Dataset) -> None:
    series, span = ask(
        influxd, OVERVIEW, "Dwell per zone (p50, p90)", {"store": [MAIN], "synthetic": HIDDEN}
    )
    shown = {s["tags"]["zone"]: (one_value([s]), s["values"][0][2]) for s in series}
    dwell: dict[str, list[float]] = {}
    for visit in scoped(day.visits, stores=[MAIN], synthetic=False):
        if span.covers(visit.ts):
            for zone, seconds in visit.zones.items():
                dwell.setdefault(zone, []).append(seconds)
    assert shown == {z: (nearest_rank(s, 50), nearest_rank(s, 90)) for z, s in dwell.items()}
    assert set(shown) == {"window", "counter", "aisle"}


def test_persona_mix_counts_visits_per_persona(influxd: Influxd, day: Dataset) -> None:
    series, span = ask(influxd, OVERVIEW, "Persona mix", {})
    shown = {s["tags"]["persona"]: one_value([s]) for s in series}
    expected = Counter(v.persona for v in day.visits if v.persona and span.covers(v.ts))
    assert shown == dict(expected)


def test_node_health_counts_reporting_and_online_nodes(influxd: Influxd, day: Dataset) -> None:
    for panel in ("Nodes reporting", "Nodes online"):
        hidden, _ = ask(influxd, HEALTH, panel, {"synthetic": HIDDEN})
        shown, _ = ask(influxd, HEALTH, panel, {})
        harbour, _ = ask(influxd, HEALTH, panel, {"store": [HARBOUR]})
        assert (one_value(hidden), one_value(shown), one_value(harbour)) == (3, 4, 1), panel


def test_last_seen_is_each_nodes_latest_health_report(influxd: Influxd, day: Dataset) -> None:
    series, _ = ask(influxd, HEALTH, "Last seen", {"synthetic": HIDDEN})
    shown = {(s["tags"]["store"], s["tags"]["node"]): s["values"][0][0] for s in series}
    last = {(r.store, r.node): round(r.ts * 1000) for r in scoped(day.health, synthetic=False)}
    assert shown == last


def test_online_offline_shows_each_outage(influxd: Influxd, day: Dataset) -> None:
    series, span = ask(influxd, HEALTH, "Online / offline", {"synthetic": HIDDEN})
    offline = {
        (s["tags"]["store"], s["tags"]["node"]) for s in series if False in dash.values([s], "last")
    }
    expected = {
        (r.store, r.node)
        for r in scoped(day.availability, synthetic=False)
        if not r.online and span.covers(r.ts)
    }
    assert offline == expected == {(MAIN, "entrance"), (MAIN, "floor"), (HARBOUR, "entrance")}


# ---------------------------------------------------------------- the checks can fail


def test_an_empty_database_shows_nothing(influxd: Influxd, empty_database: str) -> None:
    """The same queries against a database without points: every one is reported empty."""
    now = datetime.now(UTC)
    for query in QUERIES:
        board = dashboard(query.file)
        text, _ = dash.as_sent(board, query, scenario(board, SCENARIOS[0]), now)
        assert dash.problem(influxd.url, empty_database, text) == "no data", query


@pytest.mark.parametrize(
    ("mistake", "old", "new", "expected"),
    [
        ("misspelled measurement", '"node_occupancy"', '"node_ocupancy"', "no data"),
        ("misspelled field", 'last("people")', 'last("peeple")', "no data"),
        ("misspelled variable", "/^$store$/", "/^$stores$/", "no data"),
        ("broken syntax", "GROUP BY", "GROUP", "InfluxDB error"),
    ],
)
def test_a_broken_query_is_detected(
    influxd: Influxd, day: Dataset, mistake: str, old: str, new: str, expected: str
) -> None:
    board = dashboard(OVERVIEW)
    query = dash.find(OVERVIEW, "People in the store now")
    assert old in query.text
    good, _ = dash.as_sent(board, query, scenario(board, SCENARIOS[0]), datetime.now(UTC))
    broken = dash.Query(**{**query.__dict__, "text": query.text.replace(old, new)})
    bad, _ = dash.as_sent(board, broken, scenario(board, SCENARIOS[0]), datetime.now(UTC))
    assert dash.problem(influxd.url, DATABASE, good) is None
    why = dash.problem(influxd.url, DATABASE, bad)
    assert why is not None
    assert why.startswith(expected), (mistake, why)


def test_a_store_name_needs_grafanas_escaping(influxd: Influxd, day: Dataset) -> None:
    """The test store's name is full of regex characters: pasted into the regex as it is, it
    matches nothing (or breaks the query), so the scenarios above really check the escaping."""
    board = dashboard(OVERVIEW)
    query = dash.find(OVERVIEW, "People in the store")
    picks = scenario(board, dash.Scenario("one store", {"store": MAIN}))
    escaped, _ = dash.as_sent(board, query, picks, datetime.now(UTC))
    unescaped = escaped.replace(dash.escape_regex(MAIN), MAIN)
    assert unescaped != escaped
    assert dash.problem(influxd.url, DATABASE, escaped) is None
    assert dash.problem(influxd.url, DATABASE, unescaped) is not None


def test_offer_tags_hit_and_missed_is_each_tags_engaged_share(
    influxd: Influxd, day: Dataset
) -> None:
    """Every impression credits each tag of its offer; the panel's share is engaged / all."""
    series, span = ask(influxd, OVERVIEW, "Offer tags hit and missed", {})
    rows = {s["tags"]["tag"]: one_value([s]) for s in series}
    for tag in {t for tags in dataset.OFFER_TAGS.values() for t in tags}:
        credited = [
            i.looked
            for i in day.impressions
            if tag in dataset.OFFER_TAGS[i.offer] and span.covers(i.ts)
        ]
        assert rows[tag] == pytest.approx(sum(credited) / len(credited))
