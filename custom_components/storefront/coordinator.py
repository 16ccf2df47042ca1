"""The store hub: owns every MQTT subscription of one store and keeps the nodes' validated data."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback

from . import contract
from .const import DEFAULT_OFFLINE_MINUTES, DOMAIN, LOGGER
from .issues import OfflineWatch, contract_mismatch, contract_ok
from .sequences import SequenceBook

# Fired once per event a node reports (replays are dropped), for automations and history.
EVENT_STOREFRONT: Final = f"{DOMAIN}_event"

# One log line per rejected kind of message per this many seconds: a broken node must not
# flood the log, but the owner must see that something is wrong.
REJECT_LOG_INTERVAL_S = 60.0


@dataclass(slots=True)
class NodeData:
    """What the hub knows of one node; every value here passed the contract."""

    node_id: str
    online: bool = False
    description: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    health: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None  # the latest anonymised snapshot reply
    snapshot_jpeg: bytes | None = None


@dataclass(slots=True)
class RejectStats:
    """Counts of payloads refused, by reason kind, for diagnostics."""

    total: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    _last_logged: dict[str, float] = field(default_factory=dict)

    def record(self, error: contract.ContractError, topic: str) -> None:
        self.total += 1
        self.by_kind[error.kind] += 1
        self.last_error = f"{topic}: {error}"
        now = time.monotonic()
        if now - self._last_logged.get(error.kind, -REJECT_LOG_INTERVAL_S) >= REJECT_LOG_INTERVAL_S:
            self._last_logged[error.kind] = now
            LOGGER.warning(
                "Rejected payload on %s: %s (%d rejected so far)", topic, error, self.total
            )


class StoreHub:
    """Subscribes to `<root>/#` and turns valid payloads into per-node data."""

    def __init__(
        self,
        hass: HomeAssistant,
        topic_root: str,
        entry_id: str,
        offline_minutes: int = DEFAULT_OFFLINE_MINUTES,
    ) -> None:
        self.hass = hass
        self.offline = OfflineWatch(hass, entry_id, offline_minutes)
        self._mismatched: set[str] = set()  # nodes with an open contract-version issue
        self.capacities: dict[str, int] = {}
        self.changed_node: str | None = None  # set by the owner's capacity number entities
        self.topic_root = topic_root
        self.entry_id = entry_id
        self.nodes: dict[str, NodeData] = {}
        # Commands waiting for the node's reply, by request id (see services.py).
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.rejects = RejectStats()
        self.sequences = SequenceBook(hass, entry_id)
        self._event_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._message_listeners: list[Callable[[str, str, Any], None]] = []
        self._listeners: list[Callable[[], None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self.export: Any = None  # the StoreExport while the InfluxDB export is on

    @callback
    def async_add_event_listener(
        self, listener: Callable[[str, dict[str, Any]], None]
    ) -> Callable[[], None]:
        """Call `listener(node_id, event)` once for every new event; returns its remover."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @callback
    def async_add_message_listener(
        self, listener: Callable[[str, str, Any], None]
    ) -> Callable[[], None]:
        """Call `listener(node_id, kind, value)` for every accepted message: kind is
        availability ("online"/"offline"), description, state, health or event (each event
        once); returns its remover. The InfluxDB export listens here."""
        self._message_listeners.append(listener)
        return lambda: self._message_listeners.remove(listener)

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` whenever any node's data changed; returns its remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def async_forget_node(self, node_id: str) -> None:
        """Drop a decommissioned node and clear its retained topics on the broker."""
        self.nodes.pop(node_id, None)
        for kind in ("availability", "description", "state", "health"):
            await mqtt.async_publish(
                self.hass, contract.topic(kind, self.topic_root, node_id), "", qos=1, retain=True
            )
        self._changed(node_id)

    @callback
    def async_notify(self) -> None:
        """Tell every entity to refresh (e.g. the owner changed a capacity)."""
        self._changed()

    @callback
    def _changed(self, node_id: str | None = None) -> None:
        """Tell listeners; `changed_node` says whose data moved ("" = only the store's own,
        None = everything), so each entity of 20 nodes need not rewrite its state each time."""
        self.changed_node = node_id
        for listener in list(self._listeners):
            listener()

    async def async_start(self) -> None:
        await self.sequences.async_load()
        self._unsubscribe = await mqtt.async_subscribe(
            self.hass, f"{self.topic_root}/#", self._on_message, qos=1, encoding=None
        )

    @callback
    def async_stop(self) -> None:
        self.offline.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def _on_message(self, message: mqtt.ReceiveMessage) -> None:
        where = contract.parse_topic(self.topic_root, message.topic)
        if where is None or where.kind == "command":
            return
        if where.kind == "reply":
            self._on_reply(message)
            return
        payload = message.payload
        if not payload:
            # An empty retained payload is how MQTT withdraws retained data: the node is gone.
            self._forget(where)
            return
        try:
            contract.validate_node_id(where.node_id)
            value = contract.parse(where.kind, payload)
            jpeg = _decode_image(value) if where.kind == "snapshot" else None
        except contract.ContractError as err:
            self.rejects.record(err, message.topic)
            if err.field == "schema" and where.node_id not in self._mismatched:
                self._mismatched.add(where.node_id)
                contract_mismatch(self.hass, self.entry_id, where.node_id, str(err))
            self._changed("")  # only the rejected-messages diagnostic moves
            return
        if where.node_id in self._mismatched:
            self._mismatched.discard(where.node_id)
            contract_ok(self.hass, self.entry_id, where.node_id)
        if where.event_type is not None:
            self._on_event(where.node_id, value)
            return
        node = self.nodes.setdefault(where.node_id, NodeData(where.node_id))
        if where.kind == "availability":
            online = value == "online"
            if online != node.online:
                LOGGER.info("Storefront node %s is %s", where.node_id, value)
            node.online = online
            name = str((node.description or {}).get("name", where.node_id))
            if online:
                self.offline.came_online(where.node_id)
            else:
                self.offline.went_offline(where.node_id, name)
        elif where.kind in ("description", "state", "health"):
            setattr(node, where.kind, value)
        if where.kind != "snapshot":
            for message_listener in list(self._message_listeners):
                message_listener(where.node_id, where.kind, value)
        if where.kind == "snapshot":
            node.snapshot, node.snapshot_jpeg = value, jpeg
        self._changed(where.node_id)

    def expect_reply(self, request_id: str) -> asyncio.Future[dict[str, Any]]:
        """A future that gets the node's reply to the command with this id."""
        future: asyncio.Future[dict[str, Any]] = self.hass.loop.create_future()
        self._replies[request_id] = future
        future.add_done_callback(lambda _f: self._replies.pop(request_id, None))
        return future

    @callback
    def _on_reply(self, message: mqtt.ReceiveMessage) -> None:
        """Replies only matter to whoever sent the command; others are not this hub's."""
        try:
            reply = contract.parse("reply", message.payload)
        except contract.ContractError as err:
            self.rejects.record(err, message.topic)
            self._changed("")
            return
        future = self._replies.get(reply["id"])
        if future is not None and not future.done():
            future.set_result(reply)

    @callback
    def _on_event(self, node_id: str, event: dict[str, Any]) -> None:
        if not self.sequences.accept(node_id, event["stream"], event["seq"]):
            return  # a replay after a reconnect: already counted
        self.hass.bus.async_fire(
            EVENT_STOREFRONT, {"store": self.topic_root, "node_id": node_id, **event}
        )
        for listener in list(self._event_listeners):
            listener(node_id, event)
        for message_listener in list(self._message_listeners):
            message_listener(node_id, "event", event)

    @callback
    def _forget(self, where: contract.Topic) -> None:
        node = self.nodes.get(where.node_id)
        if node is None:
            return
        if where.kind == "availability":
            node.online = False
        elif where.kind in ("description", "state", "health"):
            setattr(node, where.kind, None)
        self._changed(where.node_id)


def _decode_image(snapshot: dict[str, Any]) -> bytes:
    try:
        jpeg = base64.b64decode(snapshot["image"], validate=True)
    except binascii.Error as err:
        raise contract.ContractError("snapshot", "image", f"not valid base64 ({err})") from None
    if not jpeg.startswith(b"\xff\xd8"):
        raise contract.ContractError("snapshot", "image", "not a JPEG image")
    return jpeg
