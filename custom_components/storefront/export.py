"""The store's InfluxDB export: every accepted message becomes points (points.py), written in
batches on Home Assistant's shared HTTP session (writer.py), kept on disk while the database is
away (spool.py). The owner sees written / buffered / dropped points in diagnostics, one log line
when the database goes away and one when it is back, and a repair issue if it stays away."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import STORAGE_DIR

from .const import DOMAIN, EXPORT_BUFFER_POINTS, EXPORT_UNREACHABLE_MINUTES, LOGGER
from .influx import InfluxTarget
from .models import Message, NodeData
from .points import PointMaker
from .spool import Spool
from .writer import InfluxWriter

OCCUPANCY_EVERY = timedelta(minutes=1)


class StoreExport:
    """Owned by the store hub, which hands it every accepted message; `nodes` is the hub's own
    view of the nodes, sampled once a minute for the occupancy series."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        store_name: str,
        target: InfluxTarget,
        nodes: Mapping[str, NodeData],
    ) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.nodes = nodes
        self.target = target
        self.maker = PointMaker(store_name)
        self.issue_id = f"export_unreachable_{entry_id}"
        self.writer: InfluxWriter | None = None
        self._spool: Spool | None = None
        self._unsubscribes: list[Callable[[], None]] = []
        self._issue_timer: Callable[[], None] | None = None

    @property
    def spool_path(self) -> Path:
        return Path(self.hass.config.path(STORAGE_DIR, f"{DOMAIN}.{self.entry_id}.export.db"))

    async def async_start(self) -> None:
        """Open the buffer and the writer; the hub starts this before it subscribes."""
        self._spool = await self.hass.async_add_executor_job(
            Spool, self.spool_path, EXPORT_BUFFER_POINTS
        )
        self.writer = InfluxWriter(
            async_get_clientsession(self.hass, verify_ssl=self.target.verify_ssl),
            self.target,
            self._spool,
            on_unreachable=self._unreachable,
            on_back=self._back,
        )
        if ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id) is not None:
            # The outage began before a restart: the first write that works closes the issue.
            self.writer.stats.unreachable_since = time.time()
        await self.writer.start()
        self._unsubscribes.append(
            async_track_time_interval(self.hass, self._sample_occupancy, OCCUPANCY_EVERY)
        )

    async def async_stop(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes.clear()
        self._cancel_issue_timer()
        if self.writer is not None:
            self.writer.add(self.maker.rollup())  # the open slots, so far: nothing is lost
            await self.writer.stop()
        if self._spool is not None:
            await self.hass.async_add_executor_job(self._spool.close)

    @callback
    def add_message(self, node_id: str, kind: str, message: Message) -> None:
        """An accepted description, state, health or event (each event once)."""
        assert self.writer is not None
        maker = self.maker
        if kind == "event":
            lines = maker.event(node_id, message)
        elif kind == "state":
            lines = maker.state(node_id, message)
        elif kind == "health":
            lines = maker.health(node_id, message)
        else:
            lines = maker.description(node_id, message)
        self.writer.add(lines)

    @callback
    def add_availability(self, node_id: str, online: bool) -> None:
        assert self.writer is not None
        self.writer.add(self.maker.availability(node_id, online, _now()))

    @callback
    def _sample_occupancy(self, _now_dt: datetime) -> None:
        """Once a minute, each online node's head count: regular series for charts, also when
        nobody comes or goes for a while (a node sends state only on change)."""
        assert self.writer is not None
        now = _now()
        for node_id, node in self.nodes.items():
            if node.online and node.state is not None:
                self.writer.add(self.maker.occupancy(node_id, node.state, now))
        self.writer.add(self.maker.rollup(now))  # slots of nodes that went quiet or offline

    @callback
    def _unreachable(self, error: str) -> None:
        LOGGER.warning(
            "InfluxDB export to %s failed: %s. Points are kept and written when it answers",
            self.target.describe(),
            error,
        )

        @callback
        def raise_issue(_now: object) -> None:
            self._issue_timer = None
            assert self.writer is not None
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="export_unreachable",
                translation_placeholders={
                    "target": self.target.describe(),
                    "minutes": str(EXPORT_UNREACHABLE_MINUTES),
                    "error": self.writer.stats.last_error or "",
                },
            )

        self._cancel_issue_timer()
        self._issue_timer = async_call_later(
            self.hass, EXPORT_UNREACHABLE_MINUTES * 60, raise_issue
        )

    @callback
    def _back(self) -> None:
        LOGGER.info("InfluxDB export to %s works again", self.target.describe())
        self._cancel_issue_timer()
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    def _cancel_issue_timer(self) -> None:
        if self._issue_timer is not None:
            self._issue_timer()
            self._issue_timer = None

    def diagnostics(self) -> dict[str, Any]:
        stats = self.writer.stats if self.writer is not None else None
        return {
            "target": {"url": "**REDACTED**", "api": self.target.api},
            "written": stats.written if stats else 0,
            "buffered": self.writer.pending if self.writer else 0,
            "spooled": stats.spooled if stats else 0,
            "dropped": stats.dropped if stats else 0,
            "refused": stats.refused if stats else 0,
            "failures": stats.failures if stats else 0,
            "last_error": (stats.last_error or "").replace(self.target.base, "**REDACTED**")
            if stats
            else None,
            "last_success": stats.last_success if stats else None,
            "unreachable_since": stats.unreachable_since if stats else None,
        }


def _now() -> float:
    return time.time()
