"""What every page's queries share: the scope and time window a page looks at, the WHERE
clause and GROUP BY interval built from them, and small reshaping helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from streamlit_app.influxql import quote_ident, quote_literal


@dataclass(frozen=True)
class Scope:
    """Which points a page looks at, apart from time. An empty tuple means "all"."""

    stores: tuple[str, ...] = ()
    nodes: tuple[tuple[str, str], ...] = ()  # (store, node) pairs
    zones: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    synthetic: bool = False  # include the simulator's nodes (tag synthetic=true)
    tz: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end) with time-zone aware ends."""

    start: datetime
    end: datetime

    @classmethod
    def days(cls, first: date, last: date, tz: str) -> Window:
        """Whole local days, `first` to `last` inclusive."""
        zone = ZoneInfo(tz)
        return cls(
            datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone),
        )

    def until(self, now: datetime) -> Window:
        """The part of the window that has already happened."""
        return Window(self.start, min(self.end, max(self.start, now)))

    def split(self, days: int) -> list[Window]:
        """Consecutive parts of at most `days` local days, cut at local midnight, so that no
        GROUP BY time() bucket of a day or less straddles two parts."""
        parts, start = [], self.start
        while start < self.end:
            end = min(
                self.end,
                datetime.combine(start.date() + timedelta(days=days), time(), start.tzinfo),
            )
            parts.append(Window(start, end))
            start = end
        return parts

    def shifted(self, delta: timedelta) -> Window:
        # Aware datetimes in one ZoneInfo add wall-clock time: a week earlier is the same
        # local hour even across a daylight saving change.
        return Window(self.start + delta, self.end + delta)

    @property
    def span(self) -> timedelta:
        return self.end - self.start


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _any_of(key: str, values: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{quote_ident(key)} = {quote_literal(v)}" for v in values) + ")"


def where(
    scope: Scope,
    window: Window,
    *,
    zones: bool = False,
    lines: bool = False,
    extra: Sequence[str] = (),
) -> str:
    """The WHERE clause: time, store/node, optionally zone and line, simulated nodes."""
    parts = [f"time >= {_ms(window.start)}ms AND time < {_ms(window.end)}ms"]
    if scope.stores:
        parts.append(_any_of("store", scope.stores))
    if scope.nodes:
        pairs = [
            f'("store" = {quote_literal(store)} AND "node" = {quote_literal(node)})'
            for store, node in scope.nodes
        ]
        parts.append("(" + " OR ".join(pairs) + ")")
    if zones and scope.zones:
        parts.append(_any_of("zone", scope.zones))
    if lines and scope.lines:
        parts.append(_any_of("line", scope.lines))
    if not scope.synthetic:
        # A point without the tag compares as '' and passes.
        parts.append("\"synthetic\" != 'true'")
    parts.extend(extra)
    return " AND ".join(parts)


def tz_clause(scope: Scope) -> str:
    """The tz() clause that makes GROUP BY time() buckets start at local midnight."""
    return f"tz({quote_literal(scope.tz)})"


def bucket(window: Window) -> str:
    """The GROUP BY time() interval for charts through the day: fine for short ranges,
    coarser for long ones so a chart stays a few thousand rows."""
    if window.span <= timedelta(days=2):
        return "5m"
    if window.span <= timedelta(days=8):
        return "15m"
    return "1h"


def label(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series[str]:
    """A readable series name: "node · zone", with the store in front when several appear."""
    keys = [k for k in keys if k in frame.columns]
    if "store" in keys and frame["store"].nunique() <= 1:
        keys.remove("store")
    if not keys:
        return pd.Series("all", index=frame.index)
    text = frame[keys[0]].fillna("").astype(str)
    for key in keys[1:]:
        text = text + " · " + frame[key].fillna("").astype(str)
    return text


def ensure(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """An empty answer has no columns; give it the expected ones."""
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object")
    return frame


def so_far(window: Window, scope: Scope, now: datetime | None) -> Window:
    """The part of `window` that has happened by the shop's clock (`now`: a fixed time)."""
    return window.until((now or datetime.now(scope.zone)).astimezone(scope.zone))
