"""The store hub: everything one store does over MQTT, from its config entry's set-up to unload.

It owns the store's one subscription (`<root>/#`, every payload checked against the contract),
the nodes' typed data, the sequence book that drops replayed events, the InfluxDB export, the
nodes' devices and repair issues, and the commands sent to nodes. Entities listen to their own
node (`async_add_node_listener`); no other module talks MQTT.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.components import mqtt
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later

from . import contract, devices
from .const import (
    CONF_EXPORT,
    CONF_OFFLINE_MINUTES,
    CONF_SHELF_SCALES,
    CONF_STORE_NAME,
    CONF_TOPIC_ROOT,
    DEFAULT_OFFLINE_MINUTES,
    DOMAIN,
    LOGGER,
)
from .export import StoreExport
from .influx import InfluxTarget
from .issues import OfflineWatch, contract_mismatch, contract_ok
from .listeners import Listeners
from .models import Message, NodeCounts, NodeData, NodeInfo, NodeVitals, Snapshot
from .sequences import SequenceBook, Verdict
from .weight import ShelfScale

if TYPE_CHECKING:
    from .data import StorefrontConfigEntry

# Fired once per event a node reports (replays are dropped), for automations and history.
EVENT_STOREFRONT: Final = f"{DOMAIN}_event"

# One log line per rejected kind of message per this many seconds: a broken node must not
# flood the log, but the owner must see that something is wrong.
REJECT_LOG_INTERVAL_S = 60.0

# How long a command that waits for its reply gives the node; a node handles commands between
# frames.
REPLY_TIMEOUT_S = 15.0

# A gap is asked for after this pause, so events still on their way are not asked for twice;
# it also bounds the replay requests to one per node per pause.
REPLAY_DELAY_S = 2.0

# The retained topics of a node, cleared on the broker when the owner removes the node.
RETAINED_KINDS: Final = ("availability", "description", "state", "health")

type EventListener = Callable[[str, Message], None]


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


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """What the owner tunes in the options flow; changing it reloads the store."""

    offline_minutes: int = DEFAULT_OFFLINE_MINUTES
    export: InfluxTarget | None = None  # None: the InfluxDB export is off
    scales: tuple[ShelfScale, ...] = ()  # weight sensors fused with shelves

    @classmethod
    def from_entry(cls, entry: StorefrontConfigEntry) -> Self:
        export = entry.options.get(CONF_EXPORT)
        scales = entry.options.get(CONF_SHELF_SCALES) or {}
        return cls(
            offline_minutes=int(entry.options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES)),
            export=InfluxTarget.from_options(export) if export else None,
            scales=tuple(ShelfScale.from_option(k, v) for k, v in sorted(scales.items())),
        )


class StoreHub:
    """One store: subscribes to `<root>/#` and turns valid payloads into per-node data."""

    def __init__(
        self,
        hass: HomeAssistant,
        topic_root: str,
        entry_id: str,
        *,
        store_name: str = "",
        options: StoreOptions | None = None,
    ) -> None:
        self.hass = hass
        self.topic_root = topic_root
        self.entry_id = entry_id
        self.store_name = store_name or topic_root
        self.nodes: dict[str, NodeData] = {}
        self.capacities: dict[str, int] = {}  # the owner's limit per node (number entities)
        self.rejects = RejectStats()
        self.sequences = SequenceBook(hass, entry_id)
        self.options = options or StoreOptions()
        self.offline = OfflineWatch(hass, entry_id, self.options.offline_minutes, self.node_name)
        self.export = (
            StoreExport(hass, entry_id, self.store_name, self.options.export, self.nodes)
            if self.options.export is not None
            else None
        )
        self._mismatched: set[str] = set()  # nodes with an open contract-version issue
        self._replies: dict[str, asyncio.Future[Message]] = {}  # commands awaiting an answer
        self._snapshot_requests: dict[str, asyncio.Future[Snapshot]] = {}  # by request id
        self._snapshot_asked: set[str] = set()  # nodes asked for their first snapshot
        self._node_listeners: Listeners[()] = Listeners()
        self._description_listeners: Listeners[()] = Listeners()
        self._event_listeners: Listeners[str, Message] = Listeners()
        self._store_device_id: str | None = None
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._replay_timers: dict[str, CALLBACK_TYPE] = {}  # nodes with a gap being watched
        self.replays_requested = 0
        self._shut_down = False
        self._stop_listener: CALLBACK_TYPE | None = None

    @classmethod
    def from_entry(cls, hass: HomeAssistant, entry: StorefrontConfigEntry) -> Self:
        """The hub of a store's config entry, with the owner's options."""
        return cls(
            hass,
            entry.data[CONF_TOPIC_ROOT],
            entry.entry_id,
            store_name=entry.data.get(CONF_STORE_NAME, entry.title),
            options=StoreOptions.from_entry(entry),
        )

    async def async_start(self) -> None:
        """Load the sequence book and start the export before subscribing, so the retained
        messages that arrive at once are deduplicated and exported too."""
        await self.sequences.async_load()
        self._store_device_id = devices.async_register_store(
            self.hass, self.entry_id, self.store_name
        )
        if self.export is not None:
            await self.export.async_start()
        # Home Assistant stops without unloading entries: shut down then too, or what the
        # export holds in memory is lost.
        self._stop_listener = self.hass.bus.async_listen(
            EVENT_HOMEASSISTANT_STOP, self._home_assistant_stops
        )
        try:
            self._unsubscribe = await mqtt.async_subscribe(
                self.hass, f"{self.topic_root}/#", self._on_message, qos=1, encoding=None
            )
        except Exception:
            await self.async_shutdown()
            raise

    async def async_shutdown(self) -> None:
        """Stop listening, then keep what is pending: the sequence book is written now, the
        export writes what the database takes (the rest stays on disk). Runs when the entry
        unloads and when Home Assistant stops (which unloads no entry); once."""
        if self._shut_down:
            return
        self._shut_down = True
        if self._stop_listener is not None:
            self._stop_listener()
            self._stop_listener = None
        self.offline.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for cancel in self._replay_timers.values():
            cancel()
        self._replay_timers.clear()
        await self.sequences.async_flush()
        if self.export is not None:
            await self.export.async_stop()

    async def _home_assistant_stops(self, _event: Event) -> None:
        await self.async_shutdown()

    @callback
    def async_add_node_listener(self, node_id: str, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener()` whenever this node's data changed; returns its remover."""
        return self._node_listeners.add(node_id, listener)

    @callback
    def async_add_store_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener()` whenever any node's data or the store's own figures changed."""
        return self._node_listeners.add(None, listener)

    @callback
    def async_add_description_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener()` when a node's description arrived or changed, or a node was
        forgotten: what decides which entities exist."""
        return self._description_listeners.add(None, listener)

    @callback
    def async_add_event_listener(
        self, listener: EventListener, node_id: str | None = None
    ) -> CALLBACK_TYPE:
        """Call `listener(node_id, event)` once for every new event (of one node, or of all
        when `node_id` is None); returns its remover."""
        return self._event_listeners.add(node_id, listener)

    @callback
    def _node_changed(self, node_id: str) -> None:
        self._node_listeners.fire(node_id)
        self._node_listeners.fire(None)

    @callback
    def _store_changed(self) -> None:
        """Only the store's own figures moved (e.g. a rejected message was counted)."""
        self._node_listeners.fire(None)

    def node_name(self, node_id: str) -> str:
        """The name a node gives itself, or its id while its description is unknown."""
        node = self.nodes.get(node_id)
        return node.info.name if node is not None and node.info is not None else node_id

    @callback
    def async_set_capacity(self, node_id: str, capacity: int) -> None:
        """The owner's limit of people in view for a node (its over-capacity sensor follows)."""
        self.capacities[node_id] = capacity
        self._node_changed(node_id)

    async def async_forget_node(self, node_id: str) -> None:
        """Drop a decommissioned node and clear its retained topics on the broker."""
        self.nodes.pop(node_id, None)
        for kind in RETAINED_KINDS:
            await mqtt.async_publish(
                self.hass, contract.topic(kind, self.topic_root, node_id), "", qos=1, retain=True
            )
        self._node_changed(node_id)
        self._description_listeners.fire(None)

    async def async_send_command(
        self,
        node_id: str,
        command: str,
        *,
        args: Message | None = None,
        wait: bool = False,
        request_id: str | None = None,
    ) -> Message | None:
        """Publish a contract command to a node.

        With `wait`, return the node's reply, and raise when the node refuses the command (with
        its reason) or does not answer in time; without, return None once the broker has it.
        Arguments that break the contract raise a translated error naming the field.
        """
        request_id = request_id or secrets.token_hex(6)
        payload: dict[str, object] = {
            "schema": contract.VERSION,
            "id": request_id,
            "command": command,
        }
        if args is not None:
            payload["args"] = dict(args)
        try:
            contract.validate("command", payload)
        except contract.ContractError as err:
            raise _command_error("invalid_command", command=command, error=str(err)) from None
        reply = self._expect_reply(request_id) if wait else None
        try:
            await mqtt.async_publish(
                self.hass,
                contract.topic("command", self.topic_root, node_id),
                json.dumps(payload),
                qos=1,
            )
            if reply is None:
                return None
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                answer = await reply
        except HomeAssistantError as err:
            raise _command_error("command_failed", command=command, error=str(err)) from err
        except TimeoutError:
            raise _command_error(
                "no_reply", command=command, node=node_id, seconds=f"{REPLY_TIMEOUT_S:.0f}"
            ) from None
        finally:
            if reply is not None:
                reply.cancel()  # no-op once answered; forgets the request otherwise
        if not answer["ok"]:
            error = str(answer.get("error") or "no reason given")
            raise _command_error("command_refused", command=command, node=node_id, error=error)
        return answer

    async def async_request_snapshot(self, node_id: str) -> Snapshot:
        """Ask a node for a fresh anonymised snapshot and return it once it has arrived."""
        request_id = secrets.token_hex(6)
        arrived: asyncio.Future[Snapshot] = self.hass.loop.create_future()
        self._snapshot_requests[request_id] = arrived
        try:
            await self.async_send_command(node_id, "snapshot", wait=True, request_id=request_id)
            # The node sends the picture before its reply; this wait only covers a broker that
            # delivered them out of order.
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                return await arrived
        except TimeoutError:
            raise _command_error(
                "no_reply", command="snapshot", node=node_id, seconds=f"{REPLY_TIMEOUT_S:.0f}"
            ) from None
        finally:
            self._snapshot_requests.pop(request_id, None)

    async def async_set_layout(self, node_id: str, layout: Message) -> Message:
        """Send a layout to a node and return the description it answers with.

        Raises a translated error with the node's reason when it refuses the layout."""
        await self.async_send_command(node_id, "set_layout", args={"layout": layout}, wait=True)
        # The node publishes its new description before its reply.
        node = self.nodes.get(node_id)
        if node is None or node.description is None:
            raise _command_error("command_failed", command="set_layout", error="node forgotten")
        return node.description

    @callback
    def _first_snapshot(self, node: NodeData) -> None:
        """Ask a node seen for the first time for a snapshot, so its picture is there to see."""
        info = node.info
        if not node.online or info is None or not info.snapshots or node.snapshot is not None:
            return
        if node.node_id in self._snapshot_asked:
            return
        self._snapshot_asked.add(node.node_id)
        self.hass.async_create_task(
            self._async_ask_snapshot(node.node_id), f"storefront first snapshot {node.node_id}"
        )

    async def _async_ask_snapshot(self, node_id: str) -> None:
        try:
            await self.async_send_command(node_id, "snapshot")
        except HomeAssistantError as err:
            LOGGER.debug("First snapshot of %s not requested: %s", node_id, err)

    def _expect_reply(self, request_id: str) -> asyncio.Future[Message]:
        """A future that gets the node's reply to the command with this id."""
        future: asyncio.Future[Message] = self.hass.loop.create_future()
        self._replies[request_id] = future
        future.add_done_callback(lambda _f: self._replies.pop(request_id, None))
        return future

    @callback
    def _on_message(self, message: mqtt.ReceiveMessage) -> None:
        where = contract.parse_topic(self.topic_root, message.topic)
        if where is None or where.kind == "command":
            return
        if where.kind == "reply":
            self._on_reply(message)
            return
        if not message.payload:
            # An empty retained payload is how MQTT withdraws retained data: the node is gone.
            self._withdraw(where)
            return
        try:
            contract.validate_node_id(where.node_id)
            value = contract.parse(where.kind, message.payload)
            snapshot = Snapshot.from_message(value) if where.kind == "snapshot" else None
        except contract.ContractError as err:
            self._reject(err, message.topic, where.node_id)
            if err.kind == "availability":  # a valid node id, a payload the contract refuses
                node = self.nodes.setdefault(where.node_id, NodeData(where.node_id))
                node.online = None  # unknown, not offline for good
                self._node_changed(node.node_id)
            return
        if where.node_id in self._mismatched:
            self._mismatched.discard(where.node_id)
            contract_ok(self.hass, self.entry_id, where.node_id)
        if where.event_type is not None:
            self._on_event(where.node_id, value, message.topic)
            return
        node = self.nodes.setdefault(where.node_id, NodeData(where.node_id))
        if where.kind == "availability":
            self._set_online(node, value == "online")
        elif where.kind == "snapshot" and snapshot is not None:
            node.snapshot = snapshot
            self._snapshot_arrived(snapshot)
        else:
            self._keep(node, where.kind, value)
        self._first_snapshot(node)
        self._node_changed(node.node_id)
        if where.kind == "description":
            self._description_listeners.fire(None)

    @callback
    def _snapshot_arrived(self, snapshot: Snapshot) -> None:
        waiting = self._snapshot_requests.get(snapshot.request_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(snapshot)

    @callback
    def _reject(self, error: contract.ContractError, topic: str, node_id: str) -> None:
        self.rejects.record(error, topic)
        if error.field == "schema" and node_id not in self._mismatched:
            self._mismatched.add(node_id)
            contract_mismatch(self.hass, self.entry_id, node_id, str(error))
        self._store_changed()  # only the rejected-messages diagnostic moves

    @callback
    def _set_online(self, node: NodeData, online: bool) -> None:
        if online != node.online:
            LOGGER.info("Storefront node %s is %s", node.node_id, "online" if online else "offline")
        node.online = online
        if online:
            self.offline.came_online(node.node_id)
        else:
            self.offline.went_offline(node.node_id)
        if self.export is not None:
            self.export.add_availability(node.node_id, online)

    @callback
    def _keep(self, node: NodeData, kind: str, message: Message) -> None:
        """A retained description, state or health message: parsed once, kept, exported."""
        if kind == "description":
            node.info = NodeInfo.from_message(message)
            if self._store_device_id is not None:
                devices.async_register_node(
                    self.hass, self.entry_id, node.node_id, node.info, self._store_device_id
                )
        elif kind == "state":
            node.counts = NodeCounts.from_message(message)
            self.sequences.note_state(
                node.node_id,
                message.get("stream"),
                message.get("last_seq", 0),
                message.get("replay_from"),
            )
            self._watch_gap(node.node_id)
        else:
            node.vitals = NodeVitals.from_message(message)
        if self.export is not None:
            self.export.add_message(node.node_id, kind, message)

    @callback
    def _on_reply(self, message: mqtt.ReceiveMessage) -> None:
        """Replies only matter to whoever sent the command; others are not this hub's."""
        try:
            reply = contract.parse("reply", message.payload)
        except contract.ContractError as err:
            self.rejects.record(err, message.topic)
            self._store_changed()
            return
        future = self._replies.get(reply["id"])
        if future is not None and not future.done():
            future.set_result(reply)

    @callback
    def _on_event(self, node_id: str, event: Message, topic: str) -> None:
        verdict = self.sequences.accept(node_id, event["stream"], event["seq"])
        if verdict is Verdict.REFUSED:
            reason = (
                f"seq {event['seq']} of stream {event['stream']} is not one this node announced "
                "(a stream its state never named, or far beyond its newest seq)"
            )
            self._reject(contract.ContractError(event["type"], "seq", reason), topic, node_id)
            return
        if verdict is Verdict.DUPLICATE:
            return  # a replay after a reconnect: already counted
        self._watch_gap(node_id)
        self.hass.bus.async_fire(
            EVENT_STOREFRONT, {"store": self.topic_root, "node_id": node_id, **event}
        )
        self._event_listeners.fire(node_id, node_id, event)
        self._event_listeners.fire(None, node_id, event)
        if self.export is not None:
            self.export.add_message(node_id, "event", event)

    @callback
    def _watch_gap(self, node_id: str) -> None:
        """If the node has sent events this hub never fired, ask for them after a pause."""
        if node_id in self._replay_timers or self.sequences.missing(node_id) is None:
            return

        @callback
        def ask(_now: Any) -> None:
            self._replay_timers.pop(node_id, None)
            missing = self.sequences.missing(node_id)
            if missing is not None:
                self._ask_replay(node_id, *missing)

        self._replay_timers[node_id] = async_call_later(self.hass, REPLAY_DELAY_S, ask)

    @callback
    def _ask_replay(self, node_id: str, stream: str, from_seq: int) -> None:
        """Ask the node to publish its events again from `from_seq` (duplicates are dropped)."""
        command = {
            "schema": contract.VERSION,
            "id": f"replay-{secrets.token_hex(4)}",
            "command": "replay",
            "args": {"stream": stream, "from_seq": from_seq},
        }
        self.replays_requested += 1
        LOGGER.debug("Asking node %s to replay stream %s from seq %d", node_id, stream, from_seq)

        async def publish() -> None:
            try:
                await mqtt.async_publish(
                    self.hass,
                    contract.topic("command", self.topic_root, node_id),
                    json.dumps(command),
                    qos=1,
                )
            except HomeAssistantError as err:
                # The broker is away; the node's state after the reconnect shows the gap again.
                LOGGER.debug("Replay request to %s not sent: %s", node_id, err)

        self.hass.async_create_task(publish(), f"{DOMAIN} replay request")

    @callback
    def _withdraw(self, where: contract.Topic) -> None:
        node = self.nodes.get(where.node_id)
        if node is None:
            return
        if where.kind == "availability":
            node.online = False
        elif where.kind == "description":
            node.info = None
        elif where.kind == "state":
            node.counts = None
        elif where.kind == "health":
            node.vitals = None
        self._node_changed(where.node_id)


def _command_error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
