"""Repair issues the owner sees in Settings → Repairs: a node offline too long, and a node that
speaks a contract version this integration does not know."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from .const import DOMAIN


class OfflineWatch:
    """Raises `node_offline` when a node stays offline `minutes`; clears it when it is back.

    The issue names the node as `name_of(node_id)` says when it is raised: a node's retained
    availability may arrive before its description does."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, minutes: int, name_of: Callable[[str], str]
    ) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.minutes = minutes
        self.name_of = name_of
        self._timers: dict[str, Callable[[], None]] = {}

    def _issue_id(self, node_id: str) -> str:
        return f"node_offline_{self.entry_id}_{node_id}"

    @callback
    def went_offline(self, node_id: str) -> None:
        if node_id in self._timers:
            return

        @callback
        def raise_issue(_now: object) -> None:
            self._timers.pop(node_id, None)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue_id(node_id),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="node_offline",
                translation_placeholders={
                    "node": self.name_of(node_id),
                    "minutes": str(self.minutes),
                },
            )

        self._timers[node_id] = async_call_later(self.hass, self.minutes * 60, raise_issue)

    @callback
    def came_online(self, node_id: str) -> None:
        cancel = self._timers.pop(node_id, None)
        if cancel is not None:
            cancel()
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(node_id))

    @callback
    def stop(self) -> None:
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()


@callback
def contract_mismatch(hass: HomeAssistant, entry_id: str, node_id: str, error: str) -> None:
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"contract_version_{entry_id}_{node_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="contract_version",
        translation_placeholders={"node": node_id, "error": error},
    )


@callback
def contract_ok(hass: HomeAssistant, entry_id: str, node_id: str) -> None:
    ir.async_delete_issue(hass, DOMAIN, f"contract_version_{entry_id}_{node_id}")
