"""Every page of the analyst app, run by AppTest against a real InfluxDB holding data written
by the integration's writer. Expected numbers come from the records of what was written."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storefront_dev.servers import Influxd, free_port
from streamlit_app import formatting as fmt
from tests.streamlit import dataset

DATABASE = "streamlit_pages"
PAGES = ("overview", "traffic", "zones", "personas", "shelves", "displays")

AppFactory = Callable[[], AppTest]


@pytest.fixture
def pages_app(
    influxd: Influxd,
    store_data: dataset.Dataset,
    app_env: Callable[..., None],
    app: AppFactory,
) -> AppFactory:
    app_env(influxd.url, DATABASE)
    return app


def _yesterday(data: dataset.Dataset) -> date:
    return data.today - timedelta(days=1)


def _filtered(
    factory: AppFactory, data: dataset.Dataset, page: str, key: str, values: list[str]
) -> AppTest:
    """`page` over the data's last week with the sidebar's `key` filter set to `values`."""
    first, last = _week(data)
    at = _open(factory, page, first, last)
    at.sidebar.multiselect(key=key).set_value(values).run()
    return at


def _week(data: dataset.Dataset) -> tuple[date, date]:
    last = _yesterday(data)
    return last - timedelta(days=6), last


def _open(factory: AppFactory, page: str, first: date, last: date) -> AppTest:
    """The app on `page` with the sidebar's date range set to first..last."""
    at = factory().run()
    at.sidebar.date_input(key="range").set_value((first, last)).run()
    if page != "overview":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def test_overview_compares_the_day_with_the_same_weekday_last_week(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    day = _yesterday(store_data)
    before = day - timedelta(days=7)
    at = pages_app().run()
    at.date_input(key="overview_day").set_value(day).run()
    assert not at.exception

    data = store_data
    mean, median = data.visit_mean_median(day)
    mean_before, median_before = data.visit_mean_median(before)
    peak, peak_before = data.peak_occupancy(day), data.peak_occupancy(before)
    assert _metrics(at) == {
        "Visitors": (
            fmt.count(data.entries(day, day)),
            fmt.change(data.entries(day, day), data.entries(before, before)),
        ),
        "Exits": (
            fmt.count(data.exits(day, day)),
            fmt.change(data.exits(day, day), data.exits(before, before)),
        ),
        "Peak occupancy": (fmt.count(peak), fmt.change(peak, peak_before)),
        "Average visit": (fmt.duration(mean), fmt.duration_change(mean, mean_before)),
        "Median visit": (fmt.duration(median), fmt.duration_change(median, median_before)),
    }
    assert data.entries(day, day) > 0
    assert _charts(at) == 2  # entries by hour, people in view
    table = at.dataframe[0].value.set_index("metric")
    assert table.loc["Visitors (entries)", day.isoformat()] == data.entries(day, day)
    assert table.loc["Visitors (entries)", before.isoformat()] == data.entries(before, before)
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]


def test_a_day_in_the_address_opens_that_day(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    day = store_data.today - timedelta(days=3)
    at = pages_app()
    at.query_params["day"] = day.isoformat()
    at.run()
    assert _metrics(at)["Visitors"][0] == fmt.count(store_data.entries(day, day))


def test_simulated_nodes_are_hidden_until_included(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    day = _yesterday(store_data)
    at = pages_app().run()
    at.date_input(key="overview_day").set_value(day).run()
    real = store_data.entries(day, day)
    everything = store_data.entries(day, day, synthetic=True)
    assert everything > real
    assert _metrics(at)["Visitors"][0] == fmt.count(real)
    at.sidebar.checkbox(key="synthetic").check().run()
    assert _metrics(at)["Visitors"][0] == fmt.count(everything)


def test_traffic_counts_entries_and_exits_per_line(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    first, last = _week(store_data)
    at = _open(pages_app, "traffic", first, last)

    metrics = _metrics(at)
    assert metrics["Entries"][0] == fmt.count(store_data.entries(first, last))
    assert metrics["Exits"][0] == fmt.count(store_data.exits(first, last))
    assert _charts(at) == 3  # by hour of day, weekday x hour, per day
    per_line = at.dataframe[0].value
    found = {
        (r.store, r.node, r.line): (r.entries, r.exits) for r in per_line.itertuples(index=False)
    }
    crossings = store_data.select(store_data.crossings, first, last)
    expected = {
        key: (
            sum(1 for c in crossings if (c.store, c.node, c.line) == key and c.direction == "in"),
            sum(1 for c in crossings if (c.store, c.node, c.line) == key and c.direction == "out"),
        )
        for key in {(c.store, c.node, c.line) for c in crossings}
    }
    assert found == expected
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download per-line CSV", "Download hourly CSV"]


def test_traffic_store_filter(pages_app: AppFactory, store_data: dataset.Dataset) -> None:
    first, last = _week(store_data)
    at = _filtered(pages_app, store_data, "traffic", "stores", ["Harbour"])
    assert _metrics(at)["Entries"][0] == fmt.count(
        store_data.entries(first, last, stores=["Harbour"])
    )
    assert set(at.dataframe[0].value["store"]) == {"Harbour"}


def test_zones_show_dwell_distributions(pages_app: AppFactory, store_data: dataset.Dataset) -> None:
    first, last = _week(store_data)
    at = _open(pages_app, "zones", first, last)
    assert _charts(at) == 4  # profile through the day, series, box, histogram
    table = at.dataframe[0].value
    expected = store_data.dwell(first, last)
    assert len(table) == len(expected)
    for row in table.itertuples(index=False):
        seconds = expected[(row.store, row.node, row.zone)]
        assert row.visits == len(seconds)
        assert row.mean_s == pytest.approx(sum(seconds) / len(seconds))
        for percent in (10, 25, 50, 75, 90):
            assert getattr(row, f"p{percent}") == dataset.nearest_rank(seconds, percent)
        assert not row.sampled


def test_zones_over_two_weeks_read_dwell_from_the_rollup(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    last = _yesterday(store_data)
    first = last - timedelta(days=13)
    at = _open(pages_app, "zones", first, last)
    assert _charts(at) == 4
    table = at.dataframe[0].value
    expected = store_data.dwell(first, last)
    assert len(table) == len(expected)
    for row in table.itertuples(index=False):
        seconds = expected[(row.store, row.node, row.zone)]
        assert row.visits == len(seconds)  # exact, as over a week
        assert row.mean_s == pytest.approx(sum(seconds) / len(seconds))
        assert row.binned
        assert not row.sampled
    assert any("hourly dwell rollup" in caption.value for caption in at.caption)


def test_zone_filter_keeps_only_that_zone(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    at = _filtered(pages_app, store_data, "zones", "zones", ["counter"])
    table = at.dataframe[0].value
    assert set(table["zone"]) == {"counter"}
    assert set(table["node"]) == {"entrance", "floor"}


def test_personas_show_the_mix_of_visits(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    first, last = _week(store_data)
    at = _open(pages_app, "personas", first, last)
    assert _charts(at) == 5  # mix, by hour, by weekday, by zone, per day
    mix = at.dataframe[0].value
    visits = [v for v in store_data.select(store_data.visits, first, last) if v.persona]
    expected = Counter(v.persona for v in visits)
    assert dict(zip(mix["persona"], mix["visits"], strict=True)) == dict(expected)
    assert mix["share"].sum() == pytest.approx(1.0)
    assert "simulated" not in mix.columns  # none included
    assert not at.warning
    browsers = [v for v in visits if v.persona == "browser"]
    row = mix.set_index("persona").loc["browser"]
    assert row["mean_duration_s"] == pytest.approx(
        sum(v.duration_s for v in browsers) / len(browsers)
    )
    assert row["group_size"] == pytest.approx(sum(v.group_size for v in browsers) / len(browsers))

    # Per zone, with its dwell, from the same visits.
    dwell: dict[tuple[str, str], list[float]] = {}
    for v in visits:
        for zone, seconds in v.zones.items():
            dwell.setdefault((zone, v.persona), []).append(seconds)
    table = at.dataframe[1].value
    assert {(r.zone, r.persona): r.visits for r in table.itertuples()} == {
        k: len(s) for k, s in dwell.items()
    }
    assert {(r.zone, r.persona): r.mean_dwell_s for r in table.itertuples()} == pytest.approx(
        {k: sum(s) / len(s) for k, s in dwell.items()}
    )


def test_personas_label_the_simulated_nodes_visits(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    first, last = _week(store_data)
    at = _open(pages_app, "personas", first, last)
    at.sidebar.checkbox(key="synthetic").check().run()
    assert not at.exception
    visits = store_data.select(store_data.visits, first, last, synthetic=True)
    simulated = sum(1 for v in visits if v.persona and v.synthetic)
    assert simulated > 0
    mix = at.dataframe[0].value
    assert mix["simulated"].sum() == simulated
    assert mix["visits"].sum() == sum(1 for v in visits if v.persona)
    assert f"{simulated:,} of these" in at.warning[0].value
    assert "simulated nodes" in at.warning[0].value


def test_personas_empty_state_for_nodes_without_personas(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    at = _filtered(pages_app, store_data, "personas", "stores", ["Harbour"])
    assert not at.exception
    assert "don't produce persona data yet" in at.info[0].value
    assert not at.dataframe
    assert _charts(at) == 0


def test_shelves_show_stock_and_changes(pages_app: AppFactory, store_data: dataset.Dataset) -> None:
    first, last = _week(store_data)
    at = _open(pages_app, "shelves", first, last)
    assert _charts(at) == 1
    latest, changes = at.dataframe[0].value, at.dataframe[1].value
    readings = store_data.select(store_data.stock, first, last)
    assert latest["level"].tolist() == [max(readings, key=lambda r: r.ts).level]
    events = store_data.select(store_data.shelf_changes, first, last)
    # The product's row; restock and low-stock events (no product) have a row of their own.
    row = changes[changes["product"] == "espresso"].iloc[0]
    assert (row["shelf"], row["product"]) == ("coffee", "espresso")
    assert row["taken"] == sum(1 for e in events if e.change == "taken")
    assert row["returned"] == sum(1 for e in events if e.change == "returned")


def test_displays_show_impressions_and_watchers(
    pages_app: AppFactory, store_data: dataset.Dataset
) -> None:
    first, last = _week(store_data)
    at = _open(pages_app, "displays", first, last)
    impressions = store_data.select(store_data.impressions, first, last)
    looked = sum(1 for i in impressions if i.looked)
    metrics = _metrics(at)
    assert metrics["Impressions"][0] == fmt.count(len(impressions))
    assert metrics["Watchers"][0] == fmt.count(looked)
    assert metrics["Watch rate"][0] == f"{looked / len(impressions):.0%}"
    summary = at.dataframe[0].value
    for offer in dataset.OFFERS:
        row = summary[summary["offer"] == offer].iloc[0]
        assert row["passers"] == sum(1 for i in impressions if i.offer == offer)
        assert row["looked"] == sum(1 for i in impressions if i.offer == offer and i.looked)
    assert _charts(at) == 1
    # Tags hit and missed: per tag of the offer on screen, impressions and how many engaged.
    by_tag = at.dataframe[1].value.set_index("tag")
    for tag in {t for tags in dataset.OFFER_TAGS.values() for t in tags}:
        hits = [i for i in impressions if tag in dataset.OFFER_TAGS[i.offer]]
        assert by_tag.loc[tag, "impressions"] == len(hits)
        assert by_tag.loc[tag, "engaged"] == sum(i.looked for i in hits)
    rates = by_tag["engagement_rate"].tolist()
    assert rates == sorted(rates, reverse=True)
    by_persona = at.dataframe[2].value.set_index("persona")
    assert by_persona.loc["browser", "engagement_rate"] == 1.0
    assert by_persona.loc["passer_by", "engaged"] == 0
    assert at.dataframe[3].value["impressions"].sum() == len(impressions)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_an_empty_state(
    pages_app: AppFactory, store_data: dataset.Dataset, page: str
) -> None:
    """A range before any data: each page says so instead of drawing empty charts."""
    first = store_data.today - timedelta(days=400)
    at = pages_app().run()
    at.sidebar.date_input(key="range").set_value((first, first + timedelta(days=6))).run()
    if page == "overview":
        at.date_input(key="overview_day").set_value(first).run()
    else:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception
    assert not at.error
    assert len(at.info) == 1
    assert at.info[0].value.startswith("**")
    assert not at.metric
    assert _charts(at) == 0


def test_empty_database_says_there_is_no_data_yet(
    influxd: Influxd, app_env: Callable[..., None], app: AppFactory
) -> None:
    dataset.create_database(influxd.url, "streamlit_pages_empty")
    app_env(influxd.url, "streamlit_pages_empty")
    at = app().run()
    assert not at.exception
    assert not at.error
    assert "No Storefront data in the database 'streamlit_pages_empty'" in at.info[0].value
    assert "InfluxDB export" in at.info[0].value
    assert not at.metric


def test_closed_port_gives_the_error_page(app_env: Callable[..., None], app: AppFactory) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app_env(url, DATABASE)
    at = app().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert f"Cannot reach InfluxDB at {url}" in message
    assert "STOREFRONT_INFLUX_URL" in message
    assert not at.metric
    assert not at.dataframe


def test_stopped_server_gives_the_error_page_and_the_app_recovers(
    influxd: Influxd,
    store_data: dataset.Dataset,
    app_env: Callable[..., None],
    app: AppFactory,
) -> None:
    app_env(influxd.url, DATABASE, STOREFRONT_APP_CACHE_TTL="0")

    def yesterday() -> AppTest:
        """The overview of a day with traffic: today has none before the shop opens."""
        at = app()
        at.query_params["day"] = _yesterday(store_data).isoformat()
        return at.run()

    assert yesterday().metric
    influxd.stop()
    try:
        at = yesterday()
        assert not at.exception
        assert f"Cannot reach InfluxDB at {influxd.url}" in at.error[0].value
        assert not at.metric
    finally:
        influxd.start()
    at = yesterday()
    assert not at.error
    assert len(at.metric) == 5


def test_missing_database_names_the_setting(
    influxd: Influxd, app_env: Callable[..., None], app: AppFactory
) -> None:
    app_env(influxd.url, "no_such_database")
    at = app().run()
    assert not at.exception
    message = at.error[0].value
    assert "'no_such_database' does not exist" in message
    assert "STOREFRONT_INFLUX_DB" in message


def test_settings_from_a_config_file(
    influxd: Influxd,
    store_data: dataset.Dataset,
    app_env: Callable[..., None],
    app: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "analyst.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [influxdb]
            url = "{influxd.url}"
            database = "{DATABASE}"

            [app]
            timezone = "{dataset.TZ}"
            cache_ttl_s = 60
            """
        )
    )
    app_env(influxd.url, DATABASE)
    for name in ("STOREFRONT_INFLUX_URL", "STOREFRONT_INFLUX_DB", "STOREFRONT_TIMEZONE"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("STOREFRONT_APP_CONFIG", str(config))
    day = _yesterday(store_data)
    at = app()
    at.query_params["day"] = day.isoformat()
    at.run()
    assert _metrics(at)["Visitors"][0] == fmt.count(store_data.entries(day, day))


def test_a_wrong_config_file_gives_the_error_page(
    app_env: Callable[..., None], app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "analyst.toml"
    config.write_text('[app]\ntimezone = "Mars/Olympus"\n')
    app_env("http://127.0.0.1:1", DATABASE)
    monkeypatch.delenv("STOREFRONT_TIMEZONE")
    monkeypatch.setenv("STOREFRONT_APP_CONFIG", str(config))
    at = app().run()
    assert not at.exception
    message = at.error[0].value
    assert "timezone" in message
    assert "Mars/Olympus" in message
    assert not at.metric
