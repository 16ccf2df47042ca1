"""Streamlit glue shared by the pages: settings, the sidebar, caching, error and empty states.

The query logic lives in `queries/`; this module only decides when to call it (through
`st.cache_data`, so reruns and page switches do not query again until the cache expires) and
how a failure or an empty answer looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Final, NoReturn

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_app import queries
from streamlit_app.config import ConfigError, Settings, load_settings
from streamlit_app.influxql import InfluxClient, InfluxError

CONTEXT_KEY: Final = "storefront_context"
DEFAULT_DAYS: Final = 7
DOCS: Final = "docs/analyst-app.md"


@dataclass(frozen=True)
class Context:
    """What every page needs: where the data is, what the sidebar selected."""

    settings: Settings
    options: queries.sidebar.Options
    scope: queries.base.Scope
    first: date
    last: date

    @property
    def window(self) -> queries.base.Window:
        return queries.base.Window.days(self.first, self.last, self.settings.timezone)

    def now(self) -> datetime:
        return datetime.now(self.settings.tz)

    def describe(self) -> str:
        """The selection in words, for captions and empty states."""
        parts = [f"{self.first:%d %b %Y} to {self.last:%d %b %Y}"]
        if self.scope.stores:
            parts.append("stores " + ", ".join(self.scope.stores))
        if self.scope.nodes:
            parts.append("nodes " + ", ".join(node for _, node in self.scope.nodes))
        if self.scope.zones:
            parts.append("zones " + ", ".join(self.scope.zones))
        if self.scope.lines:
            parts.append("lines " + ", ".join(self.scope.lines))
        return "; ".join(parts)


# --- Cached loading --------------------------------------------------------------------------

_CACHED: dict[tuple[str, int], Callable[..., Any]] = {}


def _cached[**P, R](function: Callable[P, R], ttl: int) -> Callable[P, R]:
    """`function` behind st.cache_data with the configured time to live (0: no cache)."""
    if ttl <= 0:
        return function
    key = (function.__name__, ttl)
    if key not in _CACHED:
        _CACHED[key] = st.cache_data(ttl=ttl, show_spinner=False)(function)
    return _CACHED[key]


def _options(settings: Settings) -> queries.sidebar.Options:
    return queries.sidebar.load(InfluxClient(settings))


def _overview(
    settings: Settings, scope: queries.base.Scope, day: date, now: datetime
) -> queries.overview.Overview:
    return queries.overview.load(InfluxClient(settings), scope, day, now)


# The pages whose data is their query module's `load` over the sidebar's date range.
WINDOW_PAGES: Final[dict[str, Any]] = {
    "traffic": queries.traffic,
    "zones": queries.zones,
    "personas": queries.personas,
    "shelves": queries.shelves,
    "displays": queries.displays,
}


def _windowed(
    page: str,
    settings: Settings,
    scope: queries.base.Scope,
    window: queries.base.Window,
    now: datetime,
) -> Any:
    """A date-range page's data (the page is part of the cache key)."""
    return WINDOW_PAGES[page].load(InfluxClient(settings), scope, window, now)


def _cache_now(context: Context, end: datetime) -> datetime:
    """The `now` a cached answer is keyed on: the window's end once it has passed (the answer
    cannot change any more), else the current minute."""
    now = context.now()
    if end <= now:
        return end
    return now.replace(second=0, microsecond=0)


def load(page: str, context: Context, *args: Any) -> Any:
    """A page's data for the sidebar's selection; the error page when InfluxDB fails."""
    ttl = context.settings.cache_ttl_s
    if page == "overview":
        (day,) = args
        end = queries.base.Window.days(day, day, context.settings.timezone).end
        call = partial(_cached(_overview, ttl), context.settings, context.scope, day)
    else:
        window = context.window
        call = partial(_cached(_windowed, ttl), page, context.settings, context.scope, window)
        end = window.end
    try:
        return call(_cache_now(context, end))
    except InfluxError as err:
        error_page(err)


# --- Error and empty states ------------------------------------------------------------------


def error_page(err: InfluxError | ConfigError) -> NoReturn:
    """Say what went wrong and what to check, then stop the page."""
    if isinstance(err, InfluxError):
        st.error(f"**{err}**\n\n{err.hint}", icon=":material/cloud_off:")
    else:
        st.error(
            f"**The app's configuration cannot be used.**\n\n{err}\n\nSee {DOCS}.",
            icon=":material/settings_alert:",
        )
    st.stop()


def empty_state(context: Context, what: str, hint: str) -> NoReturn:
    """No data for this selection: say so, say why it may be, stop the page."""
    text = f"**{what}** ({context.describe()}).\n\n{hint}"
    if context.options.has_synthetic and not context.scope.synthetic:
        text += (
            "\n\nThe database also holds simulated nodes (tag `synthetic=true`), which are "
            "hidden: tick *Include simulated nodes* in the sidebar to see them."
        )
    st.info(text, icon=":material/info:")
    st.stop()


def page(title: str, name: str, what: str, hint: str) -> tuple[Context, Any]:
    """A page's header and data: title, the selection as caption, the empty state if none."""
    page_context = context()
    st.title(title)
    st.caption(page_context.describe())
    data = load(name, page_context)
    if data.empty:
        empty_state(page_context, what, hint)
    return page_context, data


def download(frame: pd.DataFrame, name: str, context: Context, label: str = "CSV") -> None:
    """A CSV download of a page's table, named after the page and the date range."""
    st.download_button(
        f"Download {label}",
        frame.to_csv(index=False).encode(),
        file_name=f"storefront-{name}-{context.first}-{context.last}.csv",
        mime="text/csv",
        key=f"download-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


# --- Start of every run ----------------------------------------------------------------------


def setup() -> Context:
    """Settings, the sidebar and the database's tag values; stops with a clear page when the
    configuration is wrong, InfluxDB cannot be reached or holds no Storefront data."""
    try:
        settings = load_settings()
    except ConfigError as err:
        error_page(err)
    try:
        options = _cached(_options, settings.cache_ttl_s)(settings)
    except InfluxError as err:
        error_page(err)
    if options.empty:
        st.info(
            f"**No Storefront data in the database {settings.database!r} at {settings.url} "
            "yet.**\n\nSwitch on the InfluxDB export in the Storefront integration's options "
            "(Home Assistant → Settings → Devices & services → Storefront → Configure) and "
            "point it at this database; points appear as soon as a node reports. "
            f"Settings came from: {settings.source}.",
            icon=":material/database:",
        )
        st.stop()
    context = _sidebar(settings, options)
    st.session_state[CONTEXT_KEY] = context
    return context


def context() -> Context:
    """The context `setup()` stored for this run (pages call this)."""
    return st.session_state[CONTEXT_KEY]  # type: ignore[no-any-return]


def _node_label(pair: tuple[str, str]) -> str:
    return f"{pair[1]} ({pair[0]})"


def _sidebar(settings: Settings, options: queries.sidebar.Options) -> Context:
    today = datetime.now(settings.tz).date()
    if "range" not in st.session_state:
        st.session_state["range"] = (today - timedelta(days=DEFAULT_DAYS - 1), today)
    with st.sidebar:
        picked = st.date_input("Date range", key="range", format="YYYY-MM-DD")
        stores = st.multiselect("Stores", options.stores, key="stores", placeholder="All stores")
        candidates = [n for n in options.nodes if not stores or n[0] in stores]
        # A node of a store that is no longer selected leaves the node selection too.
        if "nodes" in st.session_state:
            st.session_state["nodes"] = [n for n in st.session_state["nodes"] if n in candidates]
        nodes = st.multiselect(
            "Nodes", candidates, key="nodes", format_func=_node_label, placeholder="All nodes"
        )
        zones = st.multiselect("Zones", options.zones, key="zones", placeholder="All zones")
        lines = st.multiselect(
            "Counting lines",
            options.lines,
            key="lines",
            placeholder="All lines",
            help="Entries and exits count crossings of these lines only: leave out lines "
            "inside the shop so nobody is counted twice.",
        )
        synthetic = options.has_synthetic and st.checkbox(
            "Include simulated nodes",
            value=settings.include_synthetic,
            key="synthetic",
            help="Nodes of the store simulator write their points with synthetic=true.",
        )
        if st.button("Reload data", icon=":material/refresh:"):
            st.cache_data.clear()
        st.caption(
            f"InfluxDB {settings.url}, database `{settings.database}`. Times in "
            f"{settings.timezone}. Cached for {settings.cache_ttl_s} s."
        )
    first, last = _range(picked, today)
    scope = queries.base.Scope(
        stores=tuple(stores),
        nodes=tuple(nodes),
        zones=tuple(zones),
        lines=tuple(lines),
        synthetic=bool(synthetic),
        tz=settings.timezone,
    )
    return Context(settings=settings, options=options, scope=scope, first=first, last=last)


def _range(picked: Any, today: date) -> tuple[date, date]:
    """The date input gives one date while the analyst is still choosing the second."""
    if isinstance(picked, tuple | list):
        dates = [d for d in picked if d is not None]
    else:
        dates = [picked] if picked else []
    if not dates:
        return today - timedelta(days=DEFAULT_DAYS - 1), today
    return min(dates), max(dates)


# --- Charts ----------------------------------------------------------------------------------


def wall_clock(frame: pd.DataFrame, column: str = "time") -> pd.DataFrame:
    """Times as the shop's wall clock: the browser must not shift them to its own zone.
    Charts pair this with `time_axis()`, which reads the values as UTC, i.e. unshifted."""
    return frame.assign(**{column: frame[column].dt.tz_localize(None)})


def time_axis(column: str = "time", title: str | None = None) -> alt.X:
    return alt.X(
        f"{column}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%a %d %b %H:%M", labelOverlap=True),
    )


def day_axis(frame: pd.DataFrame, column: str = "day") -> tuple[pd.DataFrame, alt.X]:
    """Days as ordered labels ("Mon 16 Nov"), so no time zone can move a bar to the next day."""
    labelled = frame.sort_values(column).assign(
        **{column: frame[column].map(lambda d: d.strftime("%a %d %b"))}
    )
    order = list(dict.fromkeys(labelled[column]))
    return labelled, alt.X(f"{column}:O", sort=order, title=None, axis=alt.Axis(labelAngle=0))


def legend() -> alt.Legend:
    return alt.Legend(orient="bottom", title=None, columns=3, labelLimit=400)
