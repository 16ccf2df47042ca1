"""`make drill`: the demo stack through four faults and a hostile-payload run, counted end to end.

It starts the demo (broker, InfluxDB, Home Assistant, the camera nodes `entrance` and
`shelf-cam` and one simulated node, run through a busy weekday at five times real speed)
in a run directory of its own (`.run/drill`, or `STOREFRONT_RUN_DIR`, emptied first), then:

1. counts what the nodes produced (an MQTT subscriber), what Home Assistant fired
   (`storefront_event`, read from Home Assistant's own recorder database, which keeps every
   event it fired across its restarts) and what reached InfluxDB, per (node, stream, seq);
2. runs the faults one after another (`--faults` picks some), each followed by a settle:
   mosquitto SIGKILL and restart after `--broker-down` s, the camera node SIGKILL and restart
   after `--node-down` s, Home Assistant stopped and started, influxd stopped for
   `--influx-down` s;
3. publishes `--payloads` hostile payloads over every topic of both nodes (depth bombs, huge
   integers, unicode junk, wrong types, oversized bodies, replays of old events, malformed
   commands), then retained garbage on both `availability` topics and a Home Assistant restart;
4. prints one JSON document: per node and stream produced / fired in HA / in InfluxDB / lost /
   duplicated, tracebacks in the logs, entities still unavailable, and whether the camera node
   kept publishing after the malformed commands.

Everything runs on 127.0.0.1. `--quick` shortens every pause. The stack is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("STOREFRONT_RUN_DIR", str(ROOT / ".run" / "drill"))

import paho.mqtt.client as mqtt  # noqa: E402
import requests  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from custom_components.storefront.contract import EVENT_TYPES, NODE_TOPIC_KINDS  # noqa: E402
from storefront_dev import demo  # noqa: E402
from storefront_dev.demo_procs import Proc, Registry  # noqa: E402

CAMERA = "entrance"
SIMULATED = "sim-1"
NODES = (CAMERA, demo.SHELF_NODE_ID, SIMULATED)
# The simulated node replays a Wednesday from before its lunch peak (local time) at five times
# real speed: busy at any real hour, a few events a minute.
SIMULATOR_ARGS = ("--start", "2026-03-04T11:45", "--speed", "5")
EVENT_KINDS = EVENT_TYPES
# Every topic of a node's subtree, as the contract names them.
TOPICS = (*NODE_TOPIC_KINDS, *(f"event/{kind}" for kind in EVENT_KINDS))
Key = tuple[str, str, int]  # node, stream, seq


def say(text: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def wait_for(condition: Callable[[], bool], within_s: float) -> bool:
    """Poll `condition` for at most `within_s` seconds; whether it came true."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (requests.RequestException, OSError, ValueError, KeyError):
            pass
        time.sleep(1)
    return False


# --- what the nodes produced ---------------------------------------------------------------


class Produced:
    """Every event the nodes published (the wire, de-duplicated) and the newest state per node."""

    def __init__(self, port: int) -> None:
        self.events: dict[Key, bytes] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.ignore = threading.Event()  # set while the drill itself publishes hostile payloads
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="drill-produced", clean_session=False
        )
        self.client.on_connect = lambda c, *_: c.subscribe("storefront/#", qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        if self.ignore.is_set() or len(parts) < 3 or parts[1] not in NODES:
            return
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        with self.lock:
            if parts[2] == "event" and isinstance(body.get("seq"), int):
                key = (parts[1], str(body.get("stream")), body["seq"])
                self.events.setdefault(key, msg.payload)
            elif parts[2] == "state":
                self.states[parts[1]] = body

    def snapshot(self) -> dict[Key, bytes]:
        with self.lock:
            return dict(self.events)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


# --- what Home Assistant fired -------------------------------------------------------------


def recorded(database: Path) -> Counter[Key]:
    """`storefront_event` per (node, stream, seq) as Home Assistant's recorder stored them: every
    event it fired, also just before and after its own restarts (a websocket listener misses
    those while it reconnects)."""
    if not database.exists():
        return Counter()
    query = (
        "SELECT event_data.shared_data FROM events"
        " JOIN event_types ON events.event_type_id = event_types.event_type_id"
        " LEFT JOIN event_data ON events.data_id = event_data.data_id"
        " WHERE event_types.event_type = 'storefront_event'"
    )
    counts: Counter[Key] = Counter()
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        for (shared,) in db.execute(query):
            data = json.loads(shared or "{}")
            if "seq" in data:
                counts[(data["node_id"], str(data["stream"]), int(data["seq"]))] += 1
    return counts


# --- what InfluxDB holds -------------------------------------------------------------------


def exported(influx_url: str) -> Counter[tuple[str, int]]:
    """Points per (node, seq) in the event measurements (InfluxDB keeps no stream tag)."""
    query = "SELECT seq FROM " + ",".join(EVENT_KINDS) + " GROUP BY node"
    response = requests.get(
        f"{influx_url}/query", params={"db": demo.INFLUX_DB, "q": query}, timeout=30
    )
    response.raise_for_status()
    counts: Counter[tuple[str, int]] = Counter()
    for result in response.json().get("results", []):
        for series in result.get("series", []):
            node = series.get("tags", {}).get("node", "")
            for _time, seq in series["values"]:
                if seq is not None:
                    counts[(node, int(seq))] += 1
    return counts


# --- the stack and its faults --------------------------------------------------------------


class Stack:
    """The demo's processes, started by the demo's own functions, killed and restarted by name."""

    def __init__(self) -> None:
        self.procs: Registry = demo.registry()
        self.ports: dict[str, int] = {}
        self.ha: Any = None
        self.token = ""

    def start(self) -> None:
        if self.procs.running():
            raise RuntimeError(f"a drill is already running in {demo.RUN}")
        # A fresh stack every time: a database that kept an earlier drill's points would count
        # them again (InfluxDB has no stream tag, and a new simulated node starts at seq 1).
        shutil.rmtree(demo.DEMO, ignore_errors=True)
        demo.DEMO.mkdir(parents=True, exist_ok=True)
        self.ports = demo.choose_ports()
        demo.start_servers(self.procs, self.ports)
        demo.start_home_assistant(self.procs, self.ports["ha"])
        demo.start_nodes(self.procs, self.ports, 1, sim_args=SIMULATOR_ARGS)
        setup = demo.set_up_home_assistant(self.procs, self.ports)
        self.ha, self.token = setup["ha"], setup["token"]
        self.wait_entities()

    @property
    def recorder_db(self) -> Path:
        """Home Assistant's recorder database in the drill's configuration directory."""
        return demo.DEMO / "ha" / "home-assistant_v2.db"

    def wait_entities(self, within_s: float = demo.UP_TIMEOUT_S) -> None:
        from storefront_dev.demo_ha import people_in_view

        if not wait_for(lambda: people_in_view(self.ha.states(), demo.NODE_NAME) is not None,
                        within_s):  # fmt: skip
            raise RuntimeError("the camera node's people count never reached Home Assistant")

    def find(self, name: str) -> Proc:
        return next(p for p in self.procs.procs if p.name == name)

    def end(self, name: str, sig: signal.Signals) -> None:
        proc = self.find(name)
        os.kill(proc.pid, sig)
        wait_for(lambda: not self.procs.is_running(proc), 60)
        if self.procs.is_running(proc):
            os.kill(proc.pid, signal.SIGKILL)
            wait_for(lambda: not self.procs.is_running(proc), 30)
        self.procs.procs.remove(proc)
        self.procs.save()

    def respawn(self, name: str) -> None:
        from storefront_dev.servers import Influxd, Mosquitto

        if name == "mosquitto":
            broker = Mosquitto(workdir=demo.DEMO / "mosquitto", port=self.ports["mqtt"])
            proc = self.procs.spawn(name, broker.command(), demo.DEMO / "mosquitto.log")
            self.procs.wait_ready(proc, broker.ready, 30)
        elif name == "influxd":
            influx = Influxd(
                workdir=demo.DEMO / "influxd",
                port=self.ports["influx"],
                rpc_port=self.ports["influx_rpc"],
            )
            proc = self.procs.spawn(name, influx.command(), demo.DEMO / "influxd.log")
            self.procs.wait_ready(proc, influx.ready, 60)
        elif name == "node":
            edge = str(demo.VENV_BIN / "storefront-edge")
            config = str(demo.node_config(self.ports["mqtt"]))
            self.procs.spawn(name, [edge, "run", "--config", config], demo.DEMO / "node.log")
        elif name == "home-assistant":
            demo.start_home_assistant(self.procs, self.ports["ha"])
            self.procs.wait_ready(self.find(name), self.ha.up, 120)
            self.wait_entities()

    def restart_ha(self) -> None:
        self.end("home-assistant", signal.SIGTERM)
        self.respawn("home-assistant")

    def stop(self) -> None:
        self.procs.stop_all()


FAULTS = {  # --faults name: what the report calls it
    "broker": "mosquitto SIGKILL",
    "node": "camera node SIGKILL",
    "ha": "Home Assistant restart",
    "influxd": "influxd stopped",
}


def run_faults(stack: Stack, args: argparse.Namespace) -> list[dict[str, Any]]:
    actions: dict[str, Callable[[], None]] = {
        "broker": lambda: outage(stack, "mosquitto", signal.SIGKILL, args.broker_down),
        "node": lambda: outage(stack, "node", signal.SIGKILL, args.node_down),
        "ha": stack.restart_ha,
        "influxd": lambda: outage(stack, "influxd", signal.SIGTERM, args.influx_down),
    }
    faults = [(FAULTS[key], actions[key]) for key in FAULTS if key in args.faults]
    done = []
    for name, fault in faults:
        say(f"fault: {name}")
        began = time.monotonic()
        fault()
        done.append({"fault": name, "seconds": round(time.monotonic() - began)})
        time.sleep(args.settle)
    return done


def outage(stack: Stack, name: str, sig: signal.Signals, down_s: float) -> None:
    stack.end(name, sig)
    time.sleep(down_s)
    stack.respawn(name)


# --- hostile payloads ----------------------------------------------------------------------


def hostile_bodies(rng: random.Random, old: list[bytes]) -> Iterator[tuple[str, bytes]]:
    """(kind, payload) forever: a round of every kind, then again with fresh randomness."""
    huge = str(10 ** rng.randint(20, 400))
    while True:
        depth = rng.randint(9, 5000)
        yield "depth_bomb", ("[" * depth + "]" * depth).encode()
        yield "depth_bomb", ('{"a":' * depth + "1" + "}" * depth).encode()
        yield "huge_int", f'{{"schema":1,"stream":"ab","seq":{huge},"ts":{huge}}}'.encode()
        yield (
            "huge_int",
            f'{{"schema":1,"id":"x","command":"replay","args":{{"stream":"ab","from_seq":{huge}}}}}'.encode(),
        )
        yield "unicode", bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
        yield "unicode", json.dumps({"schema": 1, "node_id": "\u202e\ud83d\ude00\u0000"}).encode()
        yield "unicode", b"\xed\xa0\x80\xff\xfe" + "\u00e9\u200b".encode()
        yield "wrong_type", b'{"schema":"1","stream":7,"seq":"1","ts":null,"type":[]}'
        yield "wrong_type", b'{"schema":1,"id":1,"command":{"x":1},"args":"no"}'
        yield "wrong_type", rng.choice([b"null", b"true", b"[]", b"42", b'"online"', b""])
        yield "oversized", b'{"schema":1,"pad":"' + b"x" * 70_000 + b'"}'
        if old:
            yield "replay", rng.choice(old)


def hostile_run(port: int, produced: Produced, count: int) -> dict[str, Any]:
    """`count` payloads round-robin over every topic of both nodes (QoS 1, not retained)."""
    rng = random.Random(14)
    old = list(produced.snapshot().values())
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="drill-hostile")
    client.connect("127.0.0.1", port)
    client.loop_start()
    kinds: Counter[str] = Counter()
    bodies = hostile_bodies(rng, old)
    produced.ignore.set()  # replayed old events are not new production
    try:
        for i in range(count):
            kind, body = next(bodies)
            node = NODES[i % len(NODES)]
            topic = TOPICS[(i // len(NODES)) % len(TOPICS)]
            if topic == "availability" and body in (b"online", b"offline", b""):
                body = b"onl1ne"  # valid values are not garbage
            client.publish(f"storefront/{node}/{topic}", body, qos=1).wait_for_publish(30)
            kinds[kind] += 1
    finally:
        client.loop_stop()
        client.disconnect()
        produced.ignore.clear()
    return {"payloads": count, "by_kind": dict(kinds), "topics_per_node": len(TOPICS)}


def retained_garbage(port: int) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="drill-garbage")
    client.connect("127.0.0.1", port)
    client.loop_start()
    for node in NODES:
        payload = b'\xff{"garbage":' + b"[" * 50
        client.publish(
            f"storefront/{node}/availability", payload, qos=1, retain=True
        ).wait_for_publish(30)
    client.loop_stop()
    client.disconnect()


def unavailable(stack: Stack) -> list[str]:
    """Storefront entities of the two nodes that Home Assistant shows as unavailable."""
    listing = {"type": "config/entity_registry/list"}
    entries = asyncio.run(stack.ha._ws(stack.token, listing))
    ours = {e["entity_id"] for e in entries if e.get("platform") == "storefront"}
    return sorted(
        s["entity_id"]
        for s in stack.ha.states()
        if s["entity_id"] in ours and s["state"] == "unavailable"
    )


# --- the figures ---------------------------------------------------------------------------


def tracebacks(log: Path, mentioning: str = "") -> int:
    """Tracebacks in `log`; with `mentioning`, only those whose text (with the log line that
    announced it) names it."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return 0
    count, block = 0, None
    for previous, line in zip(["", *lines], lines, strict=False):
        if line.startswith("Traceback"):
            block = [previous, line]
        elif block is not None:
            block.append(line)
            if not line.startswith((" ", "\t")):  # the exception line ends the block
                count += mentioning in "\n".join(block)
                block = None
    return count


def tally(
    produced: dict[Key, bytes], fired: Counter[Key], influx: Counter[tuple[str, int]],
    baseline: dict[str, int],
) -> dict[str, Any]:  # fmt: skip
    """Per node and stream: the events owed to HA (after its first look at the node). A node
    numbers its events without gaps, so every seq up to the newest one seen was produced, even
    one the broker lost for the drill's own subscriber (a broker killed holds its sessions in
    memory only)."""
    newest: dict[tuple[str, str], int] = {}
    for node, stream, seq in produced:
        newest[(node, stream)] = max(seq, newest.get((node, stream), 0))
    streams: dict[str, Any] = {}
    for (node, stream), last in sorted(newest.items()):
        first = baseline.get(node, 0) + 1
        row: dict[str, Any] = {"seqs": [first, last], "produced": max(last - first + 1, 0)}
        for name in ("seen_on_wire", "fired_in_ha", "in_influxdb", "lost_ha", "lost_influxdb"):
            row[name] = 0
        row["duplicated_ha"] = row["duplicated_influxdb"] = 0
        for seq in range(first, last + 1):
            times_ha, times_db = fired.get((node, stream, seq), 0), influx.get((node, seq), 0)
            row["seen_on_wire"] += (node, stream, seq) in produced
            row["fired_in_ha"] += min(times_ha, 1)
            row["in_influxdb"] += min(times_db, 1)
            row["lost_ha"] += times_ha == 0
            row["lost_influxdb"] += times_db == 0
            row["duplicated_ha"] += max(times_ha - 1, 0)
            row["duplicated_influxdb"] += max(times_db - 1, 0)
        streams[f"{node}/{stream}"] = row
    return streams


def settle_counts(stack: Stack, produced: Produced, within_s: float) -> Any:
    """Wait (bounded) until HA and InfluxDB hold every event produced up to now."""
    owed = produced.snapshot()
    influx_url = f"http://127.0.0.1:{stack.ports['influx']}"
    database = stack.recorder_db

    def caught_up() -> bool:
        got, db = recorded(database), exported(influx_url)
        return all(k in got and (k[0], k[2]) in db for k in owed)

    wait_for(caught_up, within_s)
    return owed, recorded(database), exported(influx_url)


# --- main ----------------------------------------------------------------------------------


def drill(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    stack.start()
    say(f"stack up in {demo.RUN}")
    produced = Produced(stack.ports["mqtt"])
    wait_for(lambda: all(n in produced.states for n in NODES), 60)
    # HA starts a node from its state's last_seq: what came before is owed only as counters.
    baseline = {n: int(produced.states.get(n, {}).get("last_seq", 0)) for n in NODES}
    time.sleep(args.settle)
    faults = run_faults(stack, args)
    hostile = hostile_run(stack.ports["mqtt"], produced, args.payloads)
    newest = max((k[2] for k in produced.snapshot() if k[0] == CAMERA), default=0)
    publishing = wait_for(
        lambda: any(k[0] == CAMERA and k[2] > newest for k in produced.snapshot()), 180
    )
    retained_garbage(stack.ports["mqtt"])
    stack.restart_ha()
    began = time.monotonic()
    recovered = wait_for(lambda: not unavailable(stack), 60)
    recovery_s = round(time.monotonic() - began, 1)
    still = unavailable(stack)
    owed, got, db = settle_counts(stack, produced, args.catch_up)
    produced.close()
    logs = demo.DEMO
    return {
        "mode": "quick" if args.quick else "full",
        "faults": faults,
        "streams": tally(owed, got, db, baseline),
        "hostile": hostile,
        "tracebacks": {
            "home_assistant_storefront": tracebacks(
                logs / "hass.log", "custom_components.storefront"
            )
            + tracebacks(logs / "hass.log", "custom_components/storefront"),
            "camera_node": tracebacks(logs / "node.log"),
            "shelf_camera_node": tracebacks(logs / "shelf-node.log"),
            "simulated_node": tracebacks(logs / "simulator.log"),
        },
        "node_publishing_after_malformed_commands": publishing,
        "unavailable_after_garbage_and_restart": still,
        "entities_recovered_within_s": recovery_s if recovered else None,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter pauses (about 5 minutes)")
    parser.add_argument("--influx-down", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--broker-down", type=float, default=20, help="seconds (default 20)")
    parser.add_argument("--node-down", type=float, default=10, help="seconds (default 10)")
    parser.add_argument("--settle", type=float, default=15, help="seconds after each fault")
    parser.add_argument("--payloads", type=int, default=3000, help="hostile payloads (>= 3000)")
    parser.add_argument("--catch-up", type=float, default=180, help="seconds to wait at the end")
    parser.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"which faults, comma-separated, in this order: {','.join(FAULTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    args.faults = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = sorted(set(args.faults) - set(FAULTS))
    if unknown:
        parser.error(f"--faults: unknown {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    if args.quick:
        args.influx_down, args.broker_down = min(args.influx_down, 15), min(args.broker_down, 5)
        args.node_down, args.settle = min(args.node_down, 5), min(args.settle, 5)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    stack = Stack()
    try:
        report = drill(stack, args)
    except (Exception, KeyboardInterrupt) as err:
        say(f"the drill stopped: {err}; logs in {demo.DEMO}")
        return 1
    finally:
        stack.stop()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
