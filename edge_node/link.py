"""The node's MQTT link: availability, retained messages, events from the outbox, commands.

One background thread owns the connection. Each connection attempt uses a fresh paho client, so
nothing paho kept in memory from a dead connection is sent again behind the outbox's back: after
every (re)connect the link resends, in order, every event the broker has not acknowledged, and an
event leaves the outbox only on its PUBACK. The node says `online` (and counts as connected) only
once the broker has acknowledged its command subscription, so no command sent to a node that shows
online is lost. Reconnects back off exponentially with jitter.

Nothing a message can carry stops the link: every paho callback is guarded, and the thread is
supervised, so an unexpected error costs one connection (counted in `restarts`), not the node's
link for good. A `replay` request re-sends acknowledged events from the outbox's replay log.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from .config import MqttConfig
from .contract import parse_command
from .messages import OFFLINE, ONLINE, Topics, encode
from .outbox import EventQueue

LOG = logging.getLogger(__name__)

MAX_LOGGED_CHARS = 200
INFLIGHT_WINDOW = 100  # unacknowledged events on the wire at once
RETAINED_KINDS = ("description", "state", "health")
HA_STATUS_TOPIC = Topics.ha_status()

Callback = TypeVar("Callback", bound=Callable[..., None])


def guarded(callback: Callback) -> Callback:
    """An MQTT callback that logs an unexpected error instead of letting it end paho's loop."""

    @wraps(callback)
    def call(*args: Any, **kwargs: Any) -> None:
        try:
            callback(*args, **kwargs)
        except Exception:
            LOG.exception("MQTT callback %s failed; the link carries on", callback.__name__)

    return call  # type: ignore[return-value]


class Link:
    """Keeps a node connected to its broker and its outbox drained."""

    def __init__(
        self,
        config: MqttConfig,
        node_id: str,
        outbox: EventQueue,
        on_command: Callable[[dict[str, Any]], None],
    ) -> None:
        self.config = config
        self.node_id = node_id
        self.outbox = outbox
        self.on_command = on_command
        self.topics = Topics(config.topic_root, node_id)
        self.client_id = config.client_id or f"storefront-{node_id}"
        self._password = config.read_password()
        self._retained: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._client: mqtt.Client | None = None
        self._inflight: dict[int, int] = {}  # paho mid -> event seq
        self._sent_upto = 0
        self._replay_next: int | None = None  # next seq of a requested replay
        self._refused: str | None = None
        self._subscribe_mid: int | None = None
        self.connected = False  # True once subscribed and online, until the connection drops
        self.last_error: str | None = None
        self.connects = 0
        self.restarts = 0  # connections ended by an unexpected error in the link itself
        self.last_restart: str | None = None  # why, for health
        self.rejected_commands = 0
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)

    # --- used by the node -------------------------------------------------------------------

    def start(self) -> Link:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Orderly shutdown: a clean retained 'offline', then disconnect."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def set_retained(self, kind: str, payload: dict[str, Any]) -> None:
        """Publish description/state/health now (if connected) and after every reconnect."""
        body = encode(payload)
        with self._lock:
            self._retained[kind] = body
            client = self._client if self.connected else None
        if client is not None:
            client.publish(self.topics.of(kind), body, qos=1, retain=True)

    def publish(self, kind: str, payload: dict[str, Any]) -> bool:
        """A one-off message (reply, snapshot); False when there is no connection to send it."""
        body = encode(payload)
        with self._lock:
            client = self._client if self.connected else None
        if client is None:
            return False
        client.publish(self.topics.of(kind), body, qos=1, retain=False)
        return True

    def wake(self) -> None:
        """New events are in the outbox."""
        self._wake.set()

    def replay(self, args: dict[str, Any]) -> str | None:
        """The `replay` command (arguments already checked by parse_command): None when the
        replay is under way, else why not. Events older than the replay log are gone; a
        receiver sees that in the state's `replay_from`."""
        if "stream" not in args or "from_seq" not in args:
            return "args: give the stream and from_seq to replay"
        if args["stream"] != self.outbox.stream:
            return f"this node's stream is {self.outbox.stream}, not {args['stream']}"
        self.request_replay(args["from_seq"])
        return None

    def request_replay(self, from_seq: int) -> None:
        """Send again every acknowledged event from `from_seq` on (after those still queued)."""
        with self._lock:
            self._replay_next = max(1, from_seq)
        self._wake.set()

    # --- connection thread ------------------------------------------------------------------

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True
        )
        client.max_inflight_messages_set(INFLIGHT_WINDOW)
        client.max_queued_messages_set(0)
        client.will_set(self.topics.of("availability"), OFFLINE, qos=1, retain=True)
        if self.config.username is not None:
            client.username_pw_set(self.config.username, self._password)
        tls = self.config.tls
        if tls is not None:
            client.tls_set(
                ca_certs=tls.ca_file,
                certfile=tls.cert_file,
                keyfile=tls.key_file,
                cert_reqs=ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(tls.insecure)
        client.on_connect = guarded(self._on_connect)
        client.on_disconnect = guarded(self._on_disconnect)
        client.on_publish = guarded(self._on_publish)
        client.on_subscribe = guarded(self._on_subscribe)
        client.on_message = guarded(self._on_message)
        return client

    def _run(self) -> None:
        """Supervisor: whatever goes wrong inside, the link comes back after a pause."""
        while not self._stop.is_set():
            try:
                self._connect_loop()
            except Exception as err:
                self.restarts += 1
                LOG.exception("the MQTT link failed; restarting it")
                self.last_restart = f"{type(err).__name__}: {err}"[:MAX_LOGGED_CHARS]
                self._note_error(f"MQTT link restarted after {self.last_restart}")
                with self._lock:
                    self._client = None
                    self.connected = False
                self._stop.wait(1.0)

    def _connect_loop(self) -> None:
        backoff = 1.0
        where = f"{self.config.host}:{self.config.effective_port}"
        while not self._stop.is_set():
            client = self._new_client()
            self._refused = None
            try:
                client.connect(
                    self.config.host, self.config.effective_port, self.config.keepalive_s
                )
            except (OSError, ssl.SSLError) as err:
                self._note_error(f"cannot reach MQTT broker {where}: {err}")
            else:
                with self._lock:
                    self._client = client
                if self._serve(client):
                    backoff = 1.0
            with self._lock:
                self._client = None
                self.connected = False
            if self._stop.is_set():
                break
            # Jitter spreads the reconnects of many nodes after a broker restart.
            delay = backoff * random.uniform(0.5, 1.0)
            LOG.debug("reconnecting to %s in %.1f s", where, delay)
            self._stop.wait(delay)
            backoff = min(backoff * 2, self.config.reconnect_max_s)

    def _serve(self, client: mqtt.Client) -> bool:
        """Run one connection until it drops or the node stops; True if it was established."""
        established = False
        while not self._stop.is_set():
            rc = client.loop(timeout=0.05)
            if self._refused is not None:
                break
            if rc != mqtt.MQTT_ERR_SUCCESS:
                if established:
                    self._note_error(f"lost the connection to the broker ({mqtt.error_string(rc)})")
                break
            if self.connected:
                established = True
                self._pump_events(client)
                self._pump_replay(client)
            if self._wake.is_set():
                self._wake.clear()
        if self._stop.is_set() and self.connected:
            self._say_goodbye(client)
        client.disconnect()
        return established

    def _say_goodbye(self, client: mqtt.Client) -> None:
        info = client.publish(self.topics.of("availability"), OFFLINE, qos=1, retain=True)
        deadline = time.monotonic() + 2.0
        while not info.is_published() and time.monotonic() < deadline:
            client.loop(timeout=0.05)

    def _pump_events(self, client: mqtt.Client) -> None:
        room = INFLIGHT_WINDOW - len(self._inflight)
        if room <= 0:
            return
        for event in self.outbox.pending(after_seq=self._sent_upto, limit=room):
            info = client.publish(self.topics.event(event.type), event.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break
            self._inflight[info.mid] = event.seq
            self._sent_upto = event.seq

    def _pump_replay(self, client: mqtt.Client) -> None:
        """Re-send acknowledged events while there is room on the wire (new events go first)."""
        with self._lock:
            start = self._replay_next
        room = INFLIGHT_WINDOW - len(self._inflight)
        if start is None or room <= 0:
            return
        batch = self.outbox.delivered(start, limit=room)
        for event in batch:
            info = client.publish(self.topics.event(event.type), event.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return
            self._inflight[info.mid] = 0  # nothing to acknowledge in the outbox
            start = event.seq + 1
        with self._lock:
            if self._replay_next is not None and self._replay_next <= start:
                self._replay_next = start if len(batch) == room else None

    def _note_error(self, message: str) -> None:
        if message != self.last_error:
            LOG.warning("%s", message)
        self.last_error = message

    # --- paho callbacks (run in the link thread) ---------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _properties: Any
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            hint = ""
            if reason.value in (4, 5, 134, 135):  # bad user name or password / not authorised
                hint = " — check mqtt.username and mqtt.password (or password_file)"
            self._note_error(
                f"MQTT broker {self.config.host}:{self.config.effective_port} refused "
                f"the connection: {reason}{hint}"
            )
            return
        self.connects += 1
        self.last_error = None
        self._inflight.clear()
        self._sent_upto = 0  # resend everything not yet acknowledged, in order
        LOG.info("connected to MQTT broker %s:%s", self.config.host, self.config.effective_port)
        # Online only once the broker has acknowledged the subscriptions (_on_subscribe): a
        # command sent as soon as the node shows up online must not be lost.
        _rc, self._subscribe_mid = client.subscribe(
            [(self.topics.of("command"), 1), (HA_STATUS_TOPIC, 1)]
        )

    def _on_subscribe(
        self,
        client: mqtt.Client,
        _userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        _properties: Any,
    ) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [str(reason) for reason in reasons if reason.is_failure]
        if refused:
            self._note_error(
                f"MQTT broker refused the subscription to {self.topics.of('command')} or "
                f"{HA_STATUS_TOPIC} ({', '.join(refused)}): check the broker's ACL"
            )
        client.publish(self.topics.of("availability"), ONLINE, qos=1, retain=True)
        self._republish_retained(client)
        self.connected = True

    def _republish_retained(self, client: mqtt.Client) -> None:
        with self._lock:
            retained = dict(self._retained)
        for kind in RETAINED_KINDS:
            if kind in retained:
                client.publish(self.topics.of(kind), retained[kind], qos=1, retain=True)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        _reason: ReasonCode,
        _properties: Any,
    ) -> None:
        self.connected = False
        self._inflight.clear()

    def _on_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: ReasonCode, _properties: Any
    ) -> None:
        seq = self._inflight.pop(mid, None)
        if seq:
            self.outbox.ack(seq)

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == HA_STATUS_TOPIC:
            if message.payload == ONLINE:
                # A restarted Home Assistant may hold garbage someone retained on availability.
                client.publish(self.topics.of("availability"), ONLINE, qos=1, retain=True)
                self._republish_retained(client)
            return
        command = parse_command(message.payload)
        if isinstance(command, str):
            self.rejected_commands += 1
            LOG.warning("ignored command on %s: %s", message.topic, command[:MAX_LOGGED_CHARS])
            return
        self.on_command(command)
