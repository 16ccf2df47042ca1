"""`storefront-edge run`: the camera node at work.

The main loop takes the newest camera frame, runs the pipeline, turns what happened into events
(through the durable outbox) and authoritative state, and answers commands. MQTT lives in its own
thread (`link.py`); commands cross over through a queue so the pipeline's state is only ever
touched by this loop.
"""

from __future__ import annotations

import logging
import queue
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import messages
from .analytics import VisitSummary, is_visitor
from .audience import Impression
from .capture import CameraStatus, LiveCapture, is_file_source
from .config import ID_PATTERN, ConfigError, NodeConfig, load_config
from .counters import DailyCounters, ImpressionFigures, local_day
from .layout import apply_layout, write_layout
from .link import Link
from .outbox import EventQueue
from .pipeline import FrameResult, Pipeline
from .shelves import ShelfEvent, StockLevel
from .snapshot import PRIVACY_MIN_SCORE, PrivacyMask, make_snapshot
from .system import cpu_temperature, hardware_model, rss_mb
from .types import Frame

LOG = logging.getLogger(__name__)
STATE_MIN_INTERVAL_S = 0.5  # rate limit for state published on change
ID = re.compile(ID_PATTERN)


@dataclass
class Rates:
    """Frames per second and inference time over the last health interval."""

    frames: int = 0
    skipped: int = 0
    invoke_total_s: float = 0.0
    invokes: int = 0
    since: float = field(default_factory=time.monotonic)

    def add(self, result: FrameResult) -> None:
        self.frames += 1
        if result.detected:
            self.invokes += 1
            self.invoke_total_s += result.invoke_s
        else:
            self.skipped += 1

    def snapshot_and_reset(self) -> tuple[float, float]:
        elapsed = max(1e-6, time.monotonic() - self.since)
        fps = self.frames / elapsed
        inference_ms = self.invoke_total_s / self.invokes * 1000 if self.invokes else 0.0
        self.frames, self.invokes, self.invoke_total_s = 0, 0, 0.0
        self.since = time.monotonic()
        return round(fps, 2), round(inference_ms, 2)


class Node:
    """Owns the pipeline, counters, outbox and link of one camera node."""

    def __init__(
        self,
        config: NodeConfig,
        config_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if config.mqtt is None:
            raise ConfigError("mqtt: 'run' needs a broker; add an mqtt section with at least host")
        self.config = config
        self.config_path = config_path
        self.clock = clock
        self.started = time.monotonic()
        self.pipeline = Pipeline(config)
        outbox = config.outbox
        self.outbox = EventQueue(
            outbox.path,
            max_events=outbox.max_events,
            max_bytes=int(outbox.max_mb * 1024 * 1024),
            max_age_s=outbox.max_age_h * 3600,
            replay_events=outbox.replay_events,
            replay_age_s=outbox.replay_age_h * 3600,
        )
        self.counters = self._load_counters()
        self.commands: queue.Queue[dict[str, Any]] = queue.Queue()
        self.link = Link(config.mqtt, config.node_id, self.outbox, on_command=self.commands.put)
        self.capture = self._open_capture(config)
        self.rates = Rates()
        self.skipped_total = 0
        self._occupancy: dict[str, Any] = {"total": 0, "zones": {z.id: 0 for z in config.zones}}
        self._live: dict[str, Any] = {"total": {}, "zones": {}}  # provisional personas in view
        self._staff_now = 0
        self._stock: list[StockLevel] = []
        self._state_dirty = True
        self._last_state = 0.0
        self._last_health = 0.0
        self._last_frame: Frame | None = None
        self.privacy_mask = PrivacyMask()
        self._stop = threading.Event()

    # --- set-up -----------------------------------------------------------------------------

    @staticmethod
    def _open_capture(config: NodeConfig) -> LiveCapture:
        camera = config.camera
        realtime = camera.realtime if camera.realtime is not None else True
        return LiveCapture(
            camera.source,
            loop=camera.loop and is_file_source(camera.source),
            realtime=realtime,
            reconnect_max_s=camera.reconnect_max_s,
            lost_after_s=camera.lost_after_s,
            width=camera.width,
            height=camera.height,
        )

    def _ids(self) -> tuple[list[str], list[str]]:
        return [line.id for line in self.config.lines], [z.id for z in self.config.zones]

    def _today(self) -> str:
        return local_day(self.clock(), self.config.timezone)

    def _load_counters(self) -> DailyCounters:
        lines, zones = self._ids()
        stored = self.outbox.load_counters()
        counters = (
            DailyCounters.from_storage(stored)
            if stored
            else DailyCounters.fresh(self._today(), lines, zones)
        )
        if counters.roll_over(self._today(), lines, zones):
            self.outbox.save_counters(counters.to_storage())
        return counters

    # --- messages ---------------------------------------------------------------------------

    def description(self) -> dict[str, Any]:
        config = self.config
        info = self.pipeline.detector.info
        return messages.description(
            node_id=config.node_id,
            name=config.display_name,
            ts=self.clock(),
            model=messages.Model(
                info.name, info.sha256, f"{info.input_size[0]}x{info.input_size[1]}"
            ),
            hw_version=hardware_model(),
            timezone=config.timezone,
            capacity=config.capacity,
            zones=config.zones,
            lines=config.lines,
            displays=config.displays,
            shelves=[
                messages.Shelf(
                    shelf.id, shelf.name, shelf.polygon, [(p.id, p.name) for p in shelf.products]
                )
                for shelf in config.shelves
            ],
            features=messages.Features(
                snapshot=config.privacy.snapshots,
                personas=config.personas.enabled,
                attention=config.features.attention,
                mood=config.features.mood,
            ),
        )

    def state(self) -> dict[str, Any]:
        occupancy = self._occupancy
        return messages.state(
            self.clock(),
            self.counters,
            occupancy["total"],
            occupancy["zones"],
            self._stock_levels(),
            staff=occupancy.get("staff"),
            live=self._live if self.config.personas.enabled else None,
            mood_min=self.config.audience.mood_min_impressions,
            stream=self.outbox.stream,
            replay_from=self.outbox.replay_from(),
        )

    def _stock_levels(self) -> dict[str, messages.StockLevel]:
        """Per shelf: its level and status, and each product's level."""
        products: dict[str, dict[str, tuple[float, str]]] = {}
        for level in self._stock:
            if level.product is not None:
                products.setdefault(level.shelf, {})[level.product] = (level.level, level.status)
        return {
            level.shelf: messages.StockLevel(
                level.level, level.status, products.get(level.shelf, {})
            )
            for level in self._stock
            if level.product is None
        }

    def health(self) -> dict[str, Any]:
        fps, inference_ms = self.rates.snapshot_and_reset()
        stats = self.outbox.stats()
        status = self.capture.status
        problems = []
        if status is not CameraStatus.OK:
            problems.append(f"camera {status.value}: {self.capture.last_error or 'no frames'}")
        if stats.dropped:
            problems.append(f"{stats.dropped} events dropped by the outbox bounds")
        if self.link.last_error:
            problems.append(self.link.last_error[:200])
        if self.link.last_restart:
            restarts = f"MQTT link restarted {self.link.restarts} times, last after "
            problems.append(f"{restarts}{self.link.last_restart}"[:200])
        return messages.health(
            ts=self.clock(),
            uptime_s=time.monotonic() - self.started,
            fps=fps,
            inference_ms=inference_ms,
            skipped_frames=self.skipped_total,
            camera=status.value,
            queue=stats,
            cpu_temp_c=cpu_temperature(),
            rss_mb=rss_mb(),
            model=self.pipeline.detector.info.name,
            threads=self.config.detection.threads,
            problems=problems,
            link_restarts=self.link.restarts,
            rejected_commands=self.link.rejected_commands,
        )

    # --- the loop ---------------------------------------------------------------------------

    def record(self, result: FrameResult) -> None:
        """Turn one frame's analytics into events, counters and state."""
        update = result.analytics
        for crossing in update.crossings:
            if crossing.track_id in update.staff:
                continue  # staff are counted apart, never as footfall (docs/personas.md)
            self.counters.add_crossing(crossing.line_id, crossing.direction)
            self._append(
                "crossing",
                messages.crossing(crossing.line_id, crossing.direction, crossing.track_id),
            )
        for visit in update.visits:
            self._record_visit(visit)
        self._record_audience(result)
        for event in result.shelves.events:
            self._record_shelf(event)
        if result.shelves.stock:
            self._stock = list(result.shelves.stock)
            self._state_dirty = True
        occupancy: dict[str, Any] = {"total": update.total, "zones": dict(update.occupancy)}
        if update.mix is not None:
            self._live = update.mix.to_contract()
            self._staff_now = update.mix.staff
        if self.config.personas.enabled:
            occupancy["staff"] = self._staff_now
        if occupancy != self._occupancy:
            self._occupancy = occupancy
            self._state_dirty = True

    def _record_visit(self, visit: VisitSummary) -> None:
        dwell = {zone: round(seconds, 1) for zone, seconds in visit.zones.items()}
        if visit.staff:
            self.counters.staff_visits += 1
        else:
            entrances = {line.id for line in self.config.lines if line.entrance}
            self.counters.add_visit(dwell, visitor=is_visitor(visit, entrances))
            if visit.persona is not None:
                self.counters.add_persona(
                    visit.persona, new_unit=visit.new_unit, group_size=visit.group_size
                )
        self._append(
            "visit",
            messages.visit(
                track=visit.track_id,
                started=self.clock() - visit.duration_s,
                duration_s=visit.duration_s,
                zones=dwell,
                path=visit.path,
                crossings=[(c.line_id, c.direction) for c in visit.crossings],
                group_size=min(visit.group_size, 50),
                persona=visit.persona,
                cart=(visit.cart.get("taken", ()), visit.cart.get("returned", ()))
                if self.config.shelves
                else None,  # a cart only where the node watches shelves
            ),
        )

    def _record_audience(self, result: FrameResult) -> None:
        audience = result.audience
        for display_id in audience.passers:
            self.counters.add_passer(display_id)
        if audience.passers and not audience.impressions:
            self.outbox.save_counters(self.counters.to_storage())
            self._state_dirty = True
        for impression in audience.impressions:
            self.counters.add_impression(impression.display_id, impression_figures(impression))
            self._append(
                "impression",
                messages.impression(
                    display=impression.display_id,
                    track=impression.track_id,
                    duration_s=impression.duration_s,
                    looked=impression.looked,
                    offer=impression.offer,
                    attention_s=impression.attention_s if self.config.features.attention else None,
                ),
            )

    def _record_shelf(self, event: ShelfEvent) -> None:
        self.counters.add_shelf_move(event.shelf, event.change, event.count)
        self._append(
            "shelf",
            messages.shelf(
                event.shelf,
                event.change,
                event.level,
                event.product,
                event.track,
                magnitude=event.magnitude,
                count=event.count,
            ),
        )

    def _append(self, event_type: str, fields: dict[str, Any]) -> None:
        def counters_with(seq: int) -> dict[str, Any]:
            self.counters.last_seq = seq
            return self.counters.to_storage()

        self.outbox.append(event_type, fields, counters=counters_with)
        self._state_dirty = True
        self.link.wake()

    def tick(self, now: float) -> None:
        """Periodic work: midnight, state on change (rate-limited) or by interval, health."""
        mqtt = self.config.mqtt
        assert mqtt is not None
        lines, zones = self._ids()
        if self.counters.roll_over(self._today(), lines, zones):
            self.outbox.save_counters(self.counters.to_storage())
            self._state_dirty = True
        due = now - self._last_state >= mqtt.state_interval_s
        if due or (self._state_dirty and now - self._last_state >= STATE_MIN_INTERVAL_S):
            self.link.set_retained("state", self.state())
            self._last_state, self._state_dirty = now, False
        if now - self._last_health >= mqtt.health_interval_s:
            self.link.set_retained("health", self.health())
            self._last_health = now

    def run(self) -> None:
        self.link.set_retained("description", self.description())
        self.link.set_retained("state", self.state())
        self.link.start()
        self.capture.start()
        # First health after a few seconds, when frame rate and inference time mean something.
        assert self.config.mqtt is not None
        self._last_health = time.monotonic() - self.config.mqtt.health_interval_s + 5.0
        LOG.info("node %s running on %s", self.config.node_id, self.config.camera.source)
        try:
            while not self._stop.is_set():
                frame = self.capture.read(timeout=0.5)
                if frame is not None:
                    self._last_frame = frame
                    if self.config.privacy.snapshots:
                        self.privacy_mask.learn(frame.image)
                    result = self.pipeline.process(frame)
                    self.rates.add(result)
                    if not result.detected:
                        self.skipped_total += 1
                    self.record(result)
                self._handle_commands()
                self.tick(time.monotonic())
        finally:
            self.capture.stop()
            self.link.set_retained("state", self.state())
            self.link.stop()
            self.outbox.close()

    def stop(self) -> None:
        self._stop.set()

    # --- commands ---------------------------------------------------------------------------

    def _handle_commands(self) -> None:
        while True:
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return
            name = command["command"]
            try:
                error = getattr(self, f"_command_{name}")(command)
            except Exception as err:  # a command must never take the node down
                LOG.exception("command %s failed", name)
                error = f"{type(err).__name__}: {err}"
            self.link.publish("reply", messages.reply(command["id"], name, error, self.clock()))

    def _command_snapshot(self, command: dict[str, Any]) -> str | None:
        if not self.config.privacy.snapshots:
            return "snapshots are disabled on this node (privacy.snapshots: false)"
        frame = self._last_frame
        if frame is None:
            return "no camera frame yet"
        detector = self.pipeline.detector
        people = [d.box for d in detector.detect(frame.image) if d.score >= PRIVACY_MIN_SCORE]
        people += [t.box for t in self.pipeline.tracks]
        people += self.privacy_mask.regions(frame.image)
        snapshot = make_snapshot(frame.image, people, self.config)
        self.link.publish("snapshot", snapshot.to_contract(command["id"], self.clock()))
        return None

    def _command_now_showing(self, command: dict[str, Any]) -> str | None:
        args = command.get("args") or {}
        display_id, offer = args.get("display"), args.get("offer")
        if not isinstance(display_id, str) or display_id not in self.pipeline.audience.showing:
            known = ", ".join(self.pipeline.audience.showing) or "none configured"
            return f"args.display: {display_id!r} is not a display of this node ({known})"
        if offer is not None and not (isinstance(offer, str) and ID.match(offer)):
            return "args.offer: give an offer id (1-32 of a-z, 0-9, _ and -) or null"
        self.pipeline.audience.show(display_id, offer)
        return None

    def _command_reset_counters(self, _command: dict[str, Any]) -> str | None:
        lines, zones = self._ids()
        fresh = DailyCounters.fresh(self._today(), lines, zones)
        fresh.last_seq = self.counters.last_seq
        self.counters = fresh
        self.outbox.save_counters(self.counters.to_storage())
        self._state_dirty = True
        return None

    def _command_recalibrate_shelf(self, command: dict[str, Any]) -> str | None:
        args = command.get("args") or {}
        shelf = args.get("shelf")
        if shelf is not None and not isinstance(shelf, str):
            return "args.shelf: give a shelf id, or leave it out to recalibrate every shelf"
        return self.pipeline.shelves.recalibrate(shelf)

    def _command_replay(self, command: dict[str, Any]) -> str | None:
        return self.link.replay(command.get("args") or {})

    def _command_reload_config(self, _command: dict[str, Any]) -> str | None:
        if self.config_path is None:
            return "this node was not started from a configuration file"
        try:
            new = load_config(self.config_path)
        except ConfigError as err:
            LOG.warning("reload refused, keeping the running configuration: %s", err)
            return str(err)
        if new.node_id != self.config.node_id or new.mqtt != self.config.mqtt:
            return "node_id and mqtt cannot change on reload; restart the node instead"
        if new.camera != self.config.camera or new.detection != self.config.detection:
            return "camera and detection changes need a restart of the node"
        self._adopt(new)
        LOG.info("configuration reloaded from %s", self.config_path)
        return None

    def _command_set_layout(self, command: dict[str, Any]) -> str | None:
        if self.config_path is None:
            return "this node was not started from a configuration file, so it cannot save a layout"
        args = command.get("args")
        try:
            new = apply_layout(self.config, args.get("layout") if isinstance(args, dict) else None)
        except ConfigError as err:
            LOG.warning("layout refused, keeping the running one: %s", err)
            return str(err)
        path = Path(new.layout_file)
        try:
            write_layout(path, new)
        except OSError as err:
            return (
                f"cannot save the layout to {path} ({err.strerror}); the old layout keeps running"
            )
        self._adopt(new)
        LOG.info("new layout saved to %s", path)
        return None

    def _adopt(self, new: NodeConfig) -> None:
        """Run with `new` from the next frame on: analytics, counters and description follow it."""
        self.config = new
        self.pipeline.reconfigure(new)
        lines, zones = self._ids()
        self.counters.ensure(lines, zones)
        self._occupancy = {"total": self._occupancy["total"], "zones": dict.fromkeys(zones, 0)}
        self.link.set_retained("description", self.description())
        self._state_dirty = True


def impression_figures(impression: Impression) -> ImpressionFigures:
    return ImpressionFigures(
        looked=impression.looked,
        attention_s=impression.attention_s,
        dwell_s=impression.duration_s,
        mood=impression.mood,
        offer=impression.offer,
    )


def run_node(config_path: str | Path) -> int:
    path = Path(config_path)
    node = Node(load_config(path), config_path=path)

    def _stop(_signum: int, _frame: object) -> None:
        node.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    node.run()
    return 0
