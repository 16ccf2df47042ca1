"""The `storefront-edge` command."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .capture import CaptureError
from .config import ConfigError, MqttConfig, ZoneConfig, load_config
from .detect import ModelError

EXIT_USAGE = 2
TOPIC_ROOT = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+){0,3}$")


def _write_json(data: dict[str, Any], output: str | None) -> None:
    text = json.dumps(data, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import eval_config, run_eval

    config = eval_config(args.video, args.config, args.line, model=args.model, rate_hz=args.rate_hz)
    result = run_eval(args.video, config)
    _write_json(result, args.output)
    print(
        f"eval: {result['frames']} frames at {result['fps']} fps, "
        f"in={result['totals']['in']} out={result['totals']['out']} "
        f"visits={result['totals']['visits']} visitors={result['totals']['visitors']} "
        f"impressions={len(result['impressions'])}",
        file=sys.stderr,
    )
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench
    from .evaluate import eval_config

    # Every frame: bench measures what the machine sustains, not what the config asks for.
    config = eval_config(args.video, args.config, None, model=args.model, rate_hz=0)
    updates: dict[str, Any] = {}
    if args.motion:
        updates["motion"] = config.motion.model_copy(update={"enabled": True})
    if args.threads:
        updates["detection"] = config.detection.model_copy(update={"threads": args.threads})
    if args.attention or args.mood:
        updates["features"] = config.features.model_copy(
            update={"attention": True, "mood": args.mood}
        )
        if not config.displays:
            # No display zone in the config: one over the whole frame, so every person is looked
            # at — the most the face reader can cost on this video.
            whole = ZoneConfig(id="bench", name="Bench", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])
            updates["displays"] = [whole]
    result = run_bench(args.video, config.model_copy(update=updates))
    if args.models:
        from .bench import bench_models

        threads = args.threads or config.detection.threads
        result["bundled_models"] = bench_models(args.video, threads)
    _write_json(result, args.output)
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from .score import score
    from .score_personas import score_personas

    try:
        result = json.loads(Path(args.eval).read_text(encoding="utf-8"))
        labels = json.loads(Path(args.labels).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read the eval result or the labels: {err}") from None
    scorer = score_personas if "persons" in labels else score
    _write_json(scorer(result, labels), args.output)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .node import run_node

    return run_node(args.config)


def _cmd_simulate(args: argparse.Namespace) -> int:
    import signal
    import threading

    from storefront_dev.simulator import BrokerError, LiveSimulation, parse_start
    from storefront_dev.synthetic import Store

    if not TOPIC_ROOT.match(args.topic_root):
        raise ValueError(
            f"--topic-root: {args.topic_root!r} is not 1-4 levels of a-z, 0-9, _ and - "
            "separated by /"
        )
    store = Store(nodes=args.nodes, seed=args.seed, timezone=args.timezone)
    start = parse_start(args.start, args.timezone)
    mqtt = MqttConfig(
        host=args.host,
        port=args.port,
        topic_root=args.topic_root,
        username=args.username,
        password_file=args.password_file,
    )
    sim = LiveSimulation(store, mqtt)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(
        f"simulate: {len(store.nodes)} synthetic node(s) {', '.join(store.node_ids)} "
        f"on mqtt://{args.host}:{args.port} under {args.topic_root}/, speed {args.speed:g}x, "
        f"seed {args.seed}",
        file=sys.stderr,
        flush=True,
    )
    try:
        counts = sim.run(
            speed=args.speed,
            start_ts=start,
            seconds=args.seconds,
            stop=stop,
            connect_timeout_s=args.connect_timeout,
        )
    except BrokerError as err:
        print(f"storefront-edge: error: {err}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    print(f"simulate: published {summary or 'nothing'}", file=sys.stderr)
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(
        f"{args.config}: ok — node {config.node_id!r}, {len(config.zones)} zone(s), "
        f"{len(config.lines)} line(s), {len(config.displays)} display(s)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storefront-edge", description="Storefront camera node: people analytics on video."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the node: camera → analytics → MQTT")
    run.add_argument("--config", required=True, help="the node's YAML file")
    run.set_defaults(handler=_cmd_run)

    ev = commands.add_parser(
        "eval", help="replay a video offline; per-frame counts, crossings and visits as JSON"
    )
    ev.add_argument("--video", required=True, help="video file to replay")
    ev.add_argument("--line", help="counting line X1,Y1,X2,Y2 (normalized); overrides the config")
    ev.add_argument("--config", help="node YAML (zones, lines, thresholds); optional")
    ev.add_argument("--model", help="'bundled', 'ssdlite', 'ssdlite-int8' or a .tflite path")
    ev.add_argument(
        "--rate-hz", type=float, help="detection rate; 0 = every frame (default: the config's)"
    )
    ev.add_argument("--output", help="write the JSON here (default: standard output)")
    ev.set_defaults(handler=_cmd_eval)

    be = commands.add_parser("bench", help="measure the pipeline's speed and memory on a video")
    be.add_argument("--video", required=True)
    be.add_argument("--config", help="node YAML; optional")
    be.add_argument("--motion", action="store_true", help="turn motion gating on")
    be.add_argument("--threads", type=int, help="detector threads (default: the config's)")
    be.add_argument(
        "--model", help="'bundled', 'ssdlite', 'ssdlite-int8' or a .tflite path (default: config's)"
    )
    be.add_argument(
        "--models",
        action="store_true",
        help="also time every bundled model on the same frames and count its MACs per frame",
    )
    be.add_argument(
        "--attention", action="store_true", help="turn the face reader on in display zones"
    )
    be.add_argument("--mood", action="store_true", help="also read expressions (implies attention)")
    be.add_argument("--output", help="write the JSON here (default: standard output)")
    be.set_defaults(handler=_cmd_bench)

    sc = commands.add_parser("score", help="score an eval result against hand-made labels")
    sc.add_argument("--eval", required=True, help="JSON written by 'storefront-edge eval'")
    sc.add_argument(
        "--labels",
        required=True,
        help="labels JSON (see tests/data/): counts and crossings, or personas and groups",
    )
    sc.add_argument("--output", help="write the JSON here (default: standard output)")
    sc.set_defaults(handler=_cmd_score)

    si = commands.add_parser(
        "simulate",
        help="publish made-up shop traffic from synthetic nodes sim-1..sim-N to a broker",
        description="Synthetic nodes (ids sim-1.., marked synthetic in their description) "
        "publish a shop's day by the MQTT contract: opening hours, lunch and after-work peaks, "
        "zones and dwell, visits, crossings, shelves, state and health. Deterministic in --seed.",
    )
    si.add_argument("--nodes", type=int, default=3, help="how many nodes (default 3)")
    si.add_argument("--seed", type=int, default=1, help="same seed, same traffic (default 1)")
    si.add_argument("--host", default="127.0.0.1", help="MQTT broker (default 127.0.0.1)")
    si.add_argument("--port", type=int, default=1883, help="MQTT port (default 1883)")
    si.add_argument("--username", help="MQTT user name (default: none)")
    si.add_argument("--password-file", help="file holding the MQTT password")
    si.add_argument("--topic-root", default="storefront", help="topic root (default storefront)")
    si.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1; above 1 the clock runs ahead)",
    )
    si.add_argument("--start", help="simulated start, ISO date-time in --timezone (default: now)")
    si.add_argument(
        "--seconds", type=float, default=0, help="stop after this many real seconds (0: never)"
    )
    si.add_argument(
        "--timezone", default="Europe/Berlin", help="the nodes' timezone (default Europe/Berlin)"
    )
    si.add_argument(
        "--connect-timeout",
        type=float,
        default=15.0,
        help="give up when the broker is not reachable within this many seconds (default 15)",
    )
    si.set_defaults(handler=_cmd_simulate)

    cc = commands.add_parser("check-config", help="validate a node YAML and say what is wrong")
    cc.add_argument("config")
    cc.set_defaults(handler=_cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except (ConfigError, ModelError, CaptureError, ValueError) as err:
        print(f"storefront-edge: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
