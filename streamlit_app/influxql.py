"""InfluxQL over HTTP (`/query`), which every InfluxDB generation serves, into pandas.

Results are asked for in chunks (`chunked=true`), so a long answer is never cut at the
server's row limit; the chunks of one series are joined again here. Every failure becomes an
`InfluxError` whose `hint` tells the analyst what to check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd
import requests

from streamlit_app.config import Settings

CHUNK_SIZE: Final = 10_000
# Statements of one page run side by side: InfluxDB answers each on its own core.
PARALLEL_QUERIES: Final = 4


class InfluxError(Exception):
    """A query could not be answered. `hint` says what to check, in the analyst's words."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class InfluxUnreachable(InfluxError):
    """Nothing answered at the configured address (refused, timed out, name not found)."""


class InfluxRefused(InfluxError):
    """The server answered but refused: credentials, a missing database, a bad statement."""


def quote_ident(name: str) -> str:
    """An identifier (measurement, tag key, field) in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(value: str) -> str:
    """A string literal (tag values) in single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class Series:
    """One series of a statement's answer."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]] = field(default_factory=list)


@dataclass
class InfluxClient:
    """Runs InfluxQL statements against the configured database."""

    settings: Settings
    session: requests.Session = field(default_factory=requests.Session)

    def measurement(self, name: str) -> str:
        """`"rp"."name"` when a retention policy is configured, else `"name"`."""
        rp = self.settings.retention_policy
        return f"{quote_ident(rp)}.{quote_ident(name)}" if rp else quote_ident(name)

    def query(self, statement: str) -> list[Series]:
        """One statement; its series (empty when nothing matched)."""
        return self.query_many([statement])[0]

    def query_many(self, statements: Sequence[str]) -> list[list[Series]]:
        """Several statements, answered concurrently; results in the order given."""
        if len(statements) <= 1:
            return [self._run(s) for s in statements]
        with ThreadPoolExecutor(max_workers=min(PARALLEL_QUERIES, len(statements))) as pool:
            return list(pool.map(self._run, statements))

    def _run(self, statement: str) -> list[Series]:
        params = {
            "db": self.settings.database,
            "q": statement,
            "epoch": "ms",
            "chunked": "true",
            "chunk_size": str(CHUNK_SIZE),
        }
        # Basic auth, which InfluxDB 1.x and 2.x (v1 compatibility) accept: not in the URL.
        auth = (self.settings.username, self.settings.password) if self.settings.username else None
        url = self.settings.url.rstrip("/") + "/query"
        try:
            # POST keeps long statements out of the URL (and out of proxies' logs).
            response = self.session.post(
                url,
                data=params,
                auth=auth,
                timeout=self.settings.timeout_s,
                verify=self.settings.verify_ssl,
            )
        except requests.ConnectionError as err:
            raise InfluxUnreachable(
                f"Cannot reach InfluxDB at {self.settings.url}",
                unreachable_hint(self.settings),
            ) from err
        except requests.Timeout as err:
            raise InfluxUnreachable(
                f"InfluxDB at {self.settings.url} did not answer within "
                f"{self.settings.timeout_s:g} s",
                "Check that the server is not overloaded, or choose a shorter date range. "
                + unreachable_hint(self.settings),
            ) from err
        if response.status_code in (401, 403):
            raise InfluxRefused(
                f"InfluxDB at {self.settings.url} refused the credentials ({response.status_code})",
                "Check STOREFRONT_INFLUX_USER and STOREFRONT_INFLUX_PASSWORD (or username and "
                "password in the [influxdb] table of the config file); the user needs READ "
                f"on the database {self.settings.database!r}.",
            )
        if response.status_code >= 400 and not response.text.lstrip().startswith("{"):
            raise InfluxRefused(
                f"InfluxDB at {self.settings.url} answered {response.status_code}: "
                f"{response.text[:200]}",
                "Check that STOREFRONT_INFLUX_URL points at InfluxDB's HTTP API "
                "(it must serve /query).",
            )
        return _parse_chunks(response.text.splitlines(), self.settings)


def unreachable_hint(settings: Settings) -> str:
    return (
        f"Check that InfluxDB is running and reachable from this machine at {settings.url} "
        f"(try `curl {settings.url.rstrip('/')}/ping`), and that STOREFRONT_INFLUX_URL "
        f"(or url in the config file) is right. Settings came from: {settings.source}."
    )


def _parse_chunks(lines: Iterable[str], settings: Settings) -> list[Series]:
    """Join a chunked answer (one JSON document per line) into whole series."""
    series: dict[tuple[str, tuple[tuple[str, str], ...]], Series] = {}
    for text in lines:
        if not text.strip():
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as err:
            raise InfluxRefused(
                f"InfluxDB at {settings.url} sent an answer that is not JSON",
                "Check that STOREFRONT_INFLUX_URL points at InfluxDB's HTTP API.",
            ) from err
        if error := document.get("error"):
            raise _statement_error(error, settings)
        for result in document.get("results", []):
            if error := result.get("error"):
                raise _statement_error(error, settings)
            for raw in result.get("series", []):
                tags = raw.get("tags") or {}
                key = (raw.get("name", ""), tuple(sorted(tags.items())))
                if key in series:
                    series[key].values.extend(raw.get("values", []))
                else:
                    series[key] = Series(
                        raw.get("name", ""), dict(tags), list(raw["columns"]), raw.get("values", [])
                    )
    return list(series.values())


def _statement_error(error: str, settings: Settings) -> InfluxRefused:
    if error.startswith("database not found"):
        return InfluxRefused(
            f"The database {settings.database!r} does not exist on {settings.url}",
            "Check STOREFRONT_INFLUX_DB (or database in the config file), and that the "
            "Storefront integration's InfluxDB export is switched on and writes to this "
            "database (Home Assistant → Storefront → Configure).",
        )
    if "authorization" in error or "authenticat" in error:
        return InfluxRefused(
            f"InfluxDB at {settings.url} refused the query: {error}",
            "Check STOREFRONT_INFLUX_USER and STOREFRONT_INFLUX_PASSWORD.",
        )
    return InfluxRefused(
        f"InfluxDB could not run a query: {error}",
        "This is a defect of the app or an unsupported server; please report it with "
        "the message above.",
    )


def to_frame(series: Iterable[Series], tz: str | None = None) -> pd.DataFrame:
    """All series of one statement as one table: their tags become columns; `time`
    (epoch milliseconds) becomes a time-zone aware timestamp in `tz`."""
    frames = []
    for one in series:
        frame = pd.DataFrame(one.values, columns=one.columns)
        for key, value in one.tags.items():
            frame[key] = value
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if "time" in table.columns and tz is not None:
        table["time"] = pd.to_datetime(table["time"], unit="ms", utc=True).dt.tz_convert(tz)
    return table


def tag_values(series: Iterable[Series]) -> list[str]:
    """The distinct values of a `SHOW TAG VALUES` answer, sorted."""
    found = {str(row[1]) for one in series for row in one.values if len(row) > 1}
    return sorted(found)
