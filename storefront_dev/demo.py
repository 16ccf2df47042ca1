"""`make demo`: the whole Storefront system on one machine, everything on 127.0.0.1.

It starts, each from its own configuration and data under `.run/demo/`:

- mosquitto, the MQTT broker;
- influxd (InfluxDB 1.x) with the database `storefront`;
- Home Assistant (`.venv/bin/hass -c .run/demo/ha`) with a generated minimal configuration and
  the integration linked in, onboarded without a browser (owner `demo`, a generated password),
  the MQTT and Storefront entries added and the InfluxDB export switched on (`demo_ha.py`);
- a camera node running the real model on the bundled `vtest.avi` in a loop;
- a second camera node, `shelf-cam`, running the same real pipeline on the shelf clip the
  project's setup composes (`.assets/demo-shelf.avi`: real product photos on a shelf of
  vtest.avi, taken and put back while its people walk past), so stock levels, takes and
  returns move in Home Assistant and the analyst app;
- the Streamlit analyst app, reading InfluxDB;
- with `--simulate N` (`make demo SIMULATE=N`), N synthetic nodes (`storefront-edge simulate`),
  and their last `--history-days` days (default 7) written into InfluxDB first, so the analyst
  app and Grafana have a past to compare with (`demo_history.py`).

When everything is up it prints the URLs and the login, writes `.run/demo.json` (ha_url,
ha_token, ha_user, ha_password, streamlit_url, influx_url, influx_db, mqtt_host, mqtt_port) and
the pids to `.run/demo.pids`; the logs are `.run/demo/*.log`.

Foreground or detached: by default `make demo` stays in the foreground and shows what the camera
node publishes every two seconds until Ctrl-C, which stops everything. `--detach`
(`make demo DETACH=1`) returns as soon as everything is up and leaves it running. Either way
`make stop` (`python -m storefront_dev.demo stop`) stops every process by its pid and waits
until each has exited.

Running it again: while a demo runs, `make demo` says so and prints where it is. Otherwise it
starts again and reuses what the last run left (Home Assistant's owner, token and entries, the
broker's and InfluxDB's data, the same ports when they are free), so a second run is quicker
and the token in demo.json stays the same. `rm -rf .run/demo` starts from scratch.

`STOREFRONT_RUN_DIR` moves all of this away from `.run` (the tests run their own demo so).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storefront_dev.demo_procs import Registry

ROOT = Path(__file__).resolve().parent.parent
RUN = Path(os.environ.get("STOREFRONT_RUN_DIR") or ROOT / ".run").resolve()
DEMO = RUN / "demo"
VENV_BIN = ROOT / ".venv" / "bin"
TIMEZONE = "Europe/Berlin"
STORE_NAME = "Demo store"
NODE_NAME = "Entrance camera"  # the name in edge_node/example-config.yaml
SHELF_NODE_ID = "shelf-cam"
SHELF_NODE_NAME = "Shelf camera"
INFLUX_DB = "storefront"
# Ports tried first (kept from the last run when they are free); any free port otherwise.
PREFERRED_PORTS = {"mqtt": 11883, "influx": 18086, "influx_rpc": 18088, "ha": 18123, "app": 18501}
UP_TIMEOUT_S = 150.0
CREDENTIALS = "demo-credentials.json"  # in the HA config dir: the owner's password and token


def registry() -> Registry:
    return Registry(RUN / "demo.pids", DEMO / "processes.json")


def info() -> dict[str, Any]:
    try:
        return dict(json.loads((RUN / "demo.json").read_text()))
    except (OSError, ValueError):
        return {}


def say(text: str) -> None:
    print(text, flush=True)


# --- start ---------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_ports() -> dict[str, int]:
    from storefront_dev.servers import free_port

    path = DEMO / "ports.json"
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        previous = {}
    ports: dict[str, int] = {}
    for name, preferred in PREFERRED_PORTS.items():
        port = int(previous.get(name, preferred))
        while not _port_free(port) or port in ports.values():
            port = free_port()
        ports[name] = port
    path.write_text(json.dumps(ports, indent=2) + "\n")
    return ports


def _demo_node(template: Path, stem: str, video: Path, port: int, **settings: Any) -> Path:
    """A node of the demo: `template` with `settings` over it, playing `video` in a loop, on the
    demo's broker, with an outbox of its own; written to `<stem>.yaml` in the demo's folder."""
    import yaml

    config = yaml.safe_load(template.read_text()) | settings
    config["camera"] = {"source": str(video), "loop": True}
    config["mqtt"] = {"host": "127.0.0.1", "port": port}
    config["outbox"] = {"path": str(DEMO / f"{stem}.db")}
    path = DEMO / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def node_config(port: int) -> Path:
    """The example configuration on vtest.avi."""
    example = ROOT / "edge_node" / "example-config.yaml"
    return _demo_node(example, "node", ROOT / ".assets" / "vtest.avi", port)


def shelf_node_config(port: int) -> Path:
    """The shelf clip's own layout (`.assets/demo-shelf.yaml`, written with the clip), with the
    demo's id, name and time zone for it."""
    layout, clip = ROOT / ".assets" / "demo-shelf.yaml", ROOT / ".assets" / "demo-shelf.avi"
    return _demo_node(
        layout,
        "shelf-node",
        clip,
        port,
        node_id=SHELF_NODE_ID,
        name=SHELF_NODE_NAME,
        timezone=TIMEZONE,
    )


def _http_ok(url: str) -> bool:
    import requests

    try:
        return bool(requests.get(url, timeout=2).ok)
    except requests.RequestException:
        return False


def start_servers(procs: Registry, ports: dict[str, int]) -> None:
    import requests

    from storefront_dev.servers import Influxd, Mosquitto

    broker = Mosquitto(workdir=DEMO / "mosquitto", port=ports["mqtt"])
    broker.workdir.mkdir(parents=True, exist_ok=True)
    proc = procs.spawn("mosquitto", broker.command(), DEMO / "mosquitto.log")
    procs.wait_ready(proc, broker.ready, 20)
    influx = Influxd(workdir=DEMO / "influxd", port=ports["influx"], rpc_port=ports["influx_rpc"])
    influx.workdir.mkdir(parents=True, exist_ok=True)
    proc = procs.spawn("influxd", influx.command(), DEMO / "influxd.log")
    procs.wait_ready(proc, influx.ready, 30)
    created = requests.post(
        f"{influx.url}/query", params={"q": f"CREATE DATABASE {INFLUX_DB}"}, timeout=10
    )
    created.raise_for_status()


def write_history(ports: dict[str, int], nodes: int, days: int) -> None:
    """The synthetic nodes' last `days` days, straight into InfluxDB (`demo_history.py`)."""
    from storefront_dev.demo_history import backfill

    began = time.monotonic()
    written, since = backfill(
        f"http://127.0.0.1:{ports['influx']}",
        INFLUX_DB,
        store=STORE_NAME,
        nodes=nodes,
        days=days,
        now=time.time(),
        timezone=TIMEZONE,
        marker=DEMO / "history.json",
    )
    if written and since is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(since))
        say(
            f"Wrote {written:,} synthetic points (sim-1 .. sim-{nodes} since {when}) into "
            f"InfluxDB in {time.monotonic() - began:.0f} s."
        )


def start_home_assistant(procs: Registry, port: int) -> None:
    from storefront_dev.demo_ha import write_config

    config_dir = DEMO / "ha"
    if (config_dir / ".storage" / "auth").exists() and not (config_dir / CREDENTIALS).exists():
        # An owner exists whose password the demo no longer knows: start this one afresh.
        shutil.rmtree(config_dir)
    write_config(config_dir, port, ROOT / "custom_components" / "storefront", TIMEZONE)
    command = [str(VENV_BIN / "hass"), "-c", str(config_dir), "--skip-pip"]
    procs.spawn("home-assistant", command, DEMO / "hass.log")


def start_nodes(
    procs: Registry, ports: dict[str, int], simulate: int, sim_args: Sequence[str] = ()
) -> None:
    """The camera nodes, and `simulate` synthetic nodes (`sim_args`: more options of
    `storefront-edge simulate`, e.g. `--start`)."""
    edge = str(VENV_BIN / "storefront-edge")
    procs.spawn(
        "node", [edge, "run", "--config", str(node_config(ports["mqtt"]))], DEMO / "node.log"
    )
    shelf_config = str(shelf_node_config(ports["mqtt"]))
    procs.spawn("shelf-node", [edge, "run", "--config", shelf_config], DEMO / "shelf-node.log")
    if simulate:
        command = [edge, "simulate", "--nodes", str(simulate), "--port", str(ports["mqtt"])]
        command += ["--timezone", TIMEZONE]
        command += list(sim_args)
        procs.spawn("simulator", command, DEMO / "simulator.log")


def start_app(procs: Registry, ports: dict[str, int]) -> str:
    app = ROOT / "streamlit_app" / "app.py"
    port = ports["app"]
    command = [str(VENV_BIN / "streamlit"), "run", str(app), "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    env = {
        "STOREFRONT_INFLUX_URL": f"http://127.0.0.1:{ports['influx']}",
        "STOREFRONT_INFLUX_DB": INFLUX_DB,
        "STOREFRONT_TIMEZONE": TIMEZONE,
        # The demo's synthetic nodes are what gives the app a past; show them from the start.
        "STOREFRONT_INCLUDE_SYNTHETIC": "true",
    }
    procs.spawn("streamlit", command, DEMO / "streamlit.log", env=env, cwd=ROOT)
    return f"http://127.0.0.1:{port}"


# The demo store's catalogue: what its window display chooses from.
DEMO_OFFERS = [
    {
        "title": "Morning coffee to go",
        "pitch": "Good {part_of_day}! A hot coffee for {audience}.",
        "tags": ["morning", "one"],
        "personas": ["passer_by"],
    },
    {
        "title": "Winter coats -30 %",
        "pitch": "Warm up this {part_of_day}: every coat a third off.",
        "tags": ["evening", "afternoon"],
        "personas": ["browser", "lingerer"],
    },
    {
        "title": "Family bundle",
        "pitch": "Shopping together? A treat for {audience}.",
        "tags": ["group", "few"],
        "personas": ["group"],
    },
]


def set_up_home_assistant(procs: Registry, ports: dict[str, int]) -> dict[str, Any]:
    """Onboarding, token, MQTT and Storefront entries, InfluxDB export; returns the login."""
    from storefront_dev.demo_ha import HomeAssistant

    url = f"http://127.0.0.1:{ports['ha']}"
    ha = HomeAssistant(url, DEMO / "ha" / CREDENTIALS)
    hass = next(p for p in procs.procs if p.name == "home-assistant")
    procs.wait_ready(hass, ha.up, 120, "answering on " + url)
    ha.onboard()
    token = ha.ensure_token()
    ha.ensure_mqtt(ports["mqtt"])
    entry_id = ha.ensure_store(STORE_NAME, "storefront")
    influx_url = f"http://127.0.0.1:{ports['influx']}"
    ha.enable_influx_export(entry_id, influx_url, INFLUX_DB)
    ha.ensure_offers(entry_id, DEMO_OFFERS)
    return {"ha": ha, "url": url, "token": token}


def wait_until_up(procs: Registry, ha: Any, app_url: str) -> None:
    """Up means: the camera node's people count is in Home Assistant, the app answers."""
    from storefront_dev.demo_ha import people_in_view, screen_urls

    hass = next(p for p in procs.procs if p.name == "home-assistant")
    procs.wait_ready(
        hass,
        lambda: people_in_view(ha.states(), NODE_NAME) is not None,
        UP_TIMEOUT_S,
        f"showing the camera node's people count (node log: {DEMO / 'node.log'})",
    )
    procs.wait_ready(
        hass,
        lambda: bool(screen_urls(ha.states(), ha.url)),
        UP_TIMEOUT_S,
        "showing the window display's offer",
    )
    app = next(p for p in procs.procs if p.name == "streamlit")
    procs.wait_ready(app, lambda: _http_ok(app_url + "/_stcore/health"), 60, "answering")


def start(args: argparse.Namespace) -> int:
    procs = registry()
    running = procs.running()
    if running:
        names = ", ".join(p.name for p in running)
        say(f"A demo is already running ({names}); 'make stop' ends it.")
        show_login(info())
        return 0
    procs.stop_all()  # forget a demo that died without 'make stop'
    for footage in ("vtest.avi", "demo-shelf.avi", "demo-shelf.yaml"):
        if not (ROOT / ".assets" / footage).exists():
            say(f"The footage .assets/{footage} is missing: run 'make setup' first.")
            return 1
    DEMO.mkdir(parents=True, exist_ok=True)
    (RUN / "demo.json").unlink(missing_ok=True)
    began = time.monotonic()
    try:
        ports = choose_ports()
        start_servers(procs, ports)
        if args.simulate:
            write_history(ports, args.simulate, args.history_days)
        start_home_assistant(procs, ports["ha"])
        start_nodes(procs, ports, args.simulate)
        app_url = start_app(procs, ports)
        ha = set_up_home_assistant(procs, ports)
        wait_until_up(procs, ha["ha"], app_url)
    except (Exception, KeyboardInterrupt) as err:
        say(f"The demo did not come up: {err}")
        say("Logs: " + ", ".join(p.log for p in procs.procs if p.log))
        procs.stop_all()
        return 1
    details = {
        "ha_url": ha["url"],
        "ha_token": ha["token"],
        "ha_user": ha["ha"].state["username"],
        "ha_password": ha["ha"].state["password"],
        "streamlit_url": app_url,
        "influx_url": f"http://127.0.0.1:{ports['influx']}",
        "influx_db": INFLUX_DB,
        "mqtt_host": "127.0.0.1",
        "mqtt_port": ports["mqtt"],
        "screen_urls": _screen_urls(ha),
    }
    path = RUN / "demo.json"
    path.write_text(json.dumps(details, indent=2) + "\n")
    path.chmod(0o600)
    say(f"Storefront demo is up after {time.monotonic() - began:.0f} s.")
    show_login(details, simulate=args.simulate)
    if args.detach:
        return 0
    return console(procs, details, args.seconds)


def _screen_urls(ha: dict[str, Any]) -> dict[str, str]:
    from storefront_dev.demo_ha import screen_urls

    return screen_urls(ha["ha"].states(), ha["url"])


def show_login(details: dict[str, Any], simulate: int = 0) -> None:
    if not details:
        return
    say(f"  Home Assistant  {details['ha_url']}  user {details['ha_user']}, "
        f"password {details['ha_password']}")  # fmt: skip
    say(f"  Analyst app     {details['streamlit_url']}")
    say(f"  InfluxDB        {details['influx_url']}  database {details['influx_db']}")
    say(f"  MQTT broker     mqtt://{details['mqtt_host']}:{details['mqtt_port']}  "
        f"(mosquitto_sub -p {details['mqtt_port']} -t 'storefront/#' -v)")  # fmt: skip
    if simulate:
        names = "sim-1" if simulate == 1 else f"sim-1 .. sim-{simulate}"
        say(f"  Synthetic nodes {names} (storefront-edge simulate)")
    for display, url in details.get("screen_urls", {}).items():
        say(f"  Screen {display}  {url}")
    say(f"  Token and all of the above: {RUN / 'demo.json'}; logs: {DEMO}/*.log")


# --- the console ---------------------------------------------------------------------------


def show(probe: Any) -> str:
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


def console(procs: Registry, details: dict[str, Any], seconds: float) -> int:
    """Show what the camera node publishes until Ctrl-C, 'make stop' or `seconds`."""
    from storefront_dev.mqtt_probe import Probe

    procs.add_self("console")
    say("Stop with Ctrl-C or 'make stop'.")
    probe = Probe(
        details["mqtt_port"], topic="storefront/#", client_id=f"demo-console-{os.getpid()}"
    )
    stop = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started = time.monotonic()
    exited = None
    try:
        while not stop:
            if seconds and time.monotonic() - started > seconds:
                break
            gone = [p.name for p in procs.procs if p.log and not procs.is_running(p)]
            if gone:
                exited = gone
                break
            say(show(probe))
            time.sleep(2)
    finally:
        probe.close()
        procs.stop_all()
    if exited:
        say(f"Stopped the demo: {', '.join(exited)} exited; logs in {DEMO}/*.log")
        return 1
    say("demo stopped")
    return 0


# --- stop ----------------------------------------------------------------------------------


def stop() -> int:
    procs = registry()
    if not procs.load():
        say("no demo running")
        return 0
    stopped = procs.stop_all()
    say(f"demo stopped ({', '.join(stopped) or 'nothing was still running'})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", nargs="?", choices=["start", "stop"], default="start")
    parser.add_argument("--detach", action="store_true", help="return once everything is up")
    parser.add_argument("--simulate", type=int, default=0, metavar="N", help="N synthetic nodes")
    parser.add_argument(
        "--history-days",
        type=int,
        default=7,
        metavar="D",
        help="with --simulate: the synthetic nodes' last D days into InfluxDB (default 7)",
    )
    parser.add_argument("--seconds", type=float, default=0, help="foreground: stop after this long")
    args = parser.parse_args()
    if args.action == "stop":
        return stop()
    return start(args)


if __name__ == "__main__":
    sys.exit(main())
