"""`make demo`: the system on one machine, on the bundled footage.

Starts a mosquitto broker and one camera node running the real model on vtest.avi in a loop,
both on 127.0.0.1, writes `.run/demo.json` (how to reach them) and `.run/demo.pids`, then shows
what the node publishes — occupancy, footfall, health — until Ctrl-C or `make stop`.
The Home Assistant, InfluxDB and Streamlit parts join the demo as they are built.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".run"
DEMO = RUN / "demo"
sys.path.insert(0, str(ROOT))

from tests.mqtt_probe import Probe  # noqa: E402
from tests.servers import Mosquitto, free_port  # noqa: E402


def node_config(port: int) -> Path:
    config = yaml.safe_load((ROOT / "edge_node" / "example-config.yaml").read_text())
    config["camera"]["source"] = str(ROOT / ".assets" / "vtest.avi")
    config["mqtt"] = {"host": "127.0.0.1", "port": port}
    config["outbox"] = {"path": str(DEMO / "node.db")}
    path = DEMO / "node.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def show(probe: Probe) -> str:
    state = probe.last("entrance/state")
    health = probe.last("entrance/health")
    if state is None:
        return "waiting for the node's first state..."
    s = json.loads(state)
    h = json.loads(health) if health else {}
    door = s["counters"]["lines"].get("door", {"in": 0, "out": 0})
    zones = ", ".join(f"{k} {v}" for k, v in s["occupancy"]["zones"].items())
    return (
        f"in view {s['occupancy']['total']:2d} ({zones}) | door in {door['in']} "
        f"out {door['out']} | visits {s['counters']['visits']} | "
        f"{h.get('fps', 0):.1f} fps, {h.get('inference_ms', 0):.1f} ms/inference, "
        f"camera {h.get('camera', '?')}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    args = parser.parse_args()
    DEMO.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(workdir=DEMO / "mosquitto", port=free_port())
    broker.start()
    log = (DEMO / "node.log").open("ab")
    node = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "storefront-edge"),
            "run",
            "--config",
            str(node_config(broker.port)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    assert broker.process is not None
    (RUN / "demo.pids").write_text(f"{broker.process.pid}\n{node.pid}\n")
    (RUN / "demo.json").write_text(
        json.dumps({"mqtt_host": "127.0.0.1", "mqtt_port": broker.port}, indent=2) + "\n"
    )
    print(f"Storefront demo: broker mqtt://127.0.0.1:{broker.port}, node 'entrance' on vtest.avi")
    print(f"  watch it raw: mosquitto_sub -p {broker.port} -t 'storefront/#' -v")
    print("  node log: .run/demo/node.log; stop with Ctrl-C or 'make stop'")
    probe = Probe(broker.port, topic="storefront/#", client_id="demo-console")
    stop = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started = time.monotonic()
    try:
        while not stop and node.poll() is None:
            if args.seconds and time.monotonic() - started > args.seconds:
                break
            print(show(probe), flush=True)
            time.sleep(2)
    finally:
        probe.close()
        if node.poll() is None:
            node.send_signal(signal.SIGTERM)
            node.wait(15)
        broker.stop()
        (RUN / "demo.pids").unlink(missing_ok=True)
    return 0 if node.returncode in (0, -signal.SIGTERM, None) else 1


if __name__ == "__main__":
    sys.exit(main())
