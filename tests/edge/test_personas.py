"""Personas, groups and staff on hand-built tracks: every rule and its edges.

People are made by hand: feet positions over time at 10 updates a second, boxes 0.2 frame
heights tall, seen through the real analytics stage with a real configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from edge_node.analytics import Analytics, AnalyticsUpdate, VisitSummary
from edge_node.config import ConfigError, parse_config
from edge_node.types import Track

HEIGHT = 0.2  # box height, in frame heights
ASPECT = 4 / 3
RATE = 10.0  # updates per second
WALK = 0.7 * HEIGHT / ASPECT  # a brisk walk across the frame: normalized x per second

Path = Callable[[float], tuple[float, float] | None]  # time → feet, None when out of view


def box_at(x: float, y: float, track_id: int) -> Track:
    half = HEIGHT / 6 / ASPECT
    return Track(track_id=track_id, box=(x - half, y - HEIGHT, x + half, y), score=0.9)


def analytics(**extra: Any) -> Analytics:
    config = parse_config({"node_id": "t", "camera": {"source": "x.avi"}, **extra})
    stage = Analytics.from_config(config)
    stage.set_frame_size(768, 576)
    return stage


def replay(
    stage: Analytics, people: dict[int, Path], seconds: float
) -> tuple[list[VisitSummary], list[AnalyticsUpdate]]:
    """Feed the people through the stage; a person out of view ends their track."""
    visits: list[VisitSummary] = []
    updates: list[AnalyticsUpdate] = []
    in_view: set[int] = set()
    steps = int(seconds * RATE) + 1
    for step in range(steps):
        t = step / RATE
        tracks = []
        for track_id, path in people.items():
            feet = path(t)
            if feet is not None:
                tracks.append(box_at(*feet, track_id))
        now = {track.track_id for track in tracks}
        ended = sorted(in_view - now) if step < steps - 1 else sorted(in_view | now)
        if step == steps - 1:
            tracks = []
        in_view = now
        update = stage.update(tracks, ended, t, step)
        updates.append(update)
        visits += update.visits
    return visits, updates


def walk(
    start: tuple[float, float], velocity: tuple[float, float], t0: float = 0.0, t1: float = 1e9
) -> Path:
    def at(t: float) -> tuple[float, float] | None:
        if not t0 <= t <= t1:
            return None
        return (start[0] + velocity[0] * (t - t0), start[1] + velocity[1] * (t - t0))

    return at


def legs(*pieces: tuple[float, tuple[float, float]], start: tuple[float, float]) -> Path:
    """A path made of (duration, velocity) legs from `start`; out of view after the last."""

    def at(t: float) -> tuple[float, float] | None:
        x, y = start
        for duration, (vx, vy) in pieces:
            if t <= duration:
                return (x + vx * t, y + vy * t)
            x, y, t = x + vx * duration, y + vy * duration, t - duration
        return None

    return at


def by_track(visits: Iterable[VisitSummary]) -> dict[int, VisitSummary]:
    return {visit.track_id: visit for visit in visits}


# --- behaviour and persona rules ----------------------------------------------------------


def test_someone_walking_straight_through_is_a_passer_by() -> None:
    visits, _ = replay(analytics(), {1: walk((0.95, 0.5), (-WALK, 0))}, 8)
    (visit,) = visits
    assert visit.persona == "passer_by"
    assert visit.features is not None
    assert visit.features.straightness > 0.95
    assert visit.features.stops == 0
    assert 0.6 < visit.features.speed < 0.8  # body heights per second, as walked


def test_someone_who_stands_still_for_long_is_a_lingerer() -> None:
    path = legs((3, (-WALK, 0)), (15, (0, 0)), (3, (-WALK, 0)), start=(0.8, 0.5))
    visits, _ = replay(analytics(), {1: path}, 21)
    (visit,) = visits
    assert visit.features is not None
    assert visit.features.stops == 1
    assert 13 < visit.features.stop_s < 17
    assert visit.persona == "lingerer"


def test_a_short_stop_is_not_lingering_and_turning_back_is_browsing() -> None:
    path = legs((4, (-WALK, 0)), (3, (0, 0)), (4, (WALK, 0)), start=(0.8, 0.5))
    visits, _ = replay(analytics(), {1: path}, 11)
    (visit,) = visits
    assert visit.features is not None
    assert visit.features.stops == 1
    assert visit.features.straightness < 0.2  # came back to where they started
    assert visit.persona == "browser"


def test_jitter_while_standing_is_not_walking() -> None:
    def jittery(t: float) -> tuple[float, float]:
        wobble = 0.004 if int(t * RATE) % 2 else -0.004
        return (0.5 + wobble, 0.5 - wobble)

    visits, _ = replay(analytics(), {1: jittery}, 20)
    (visit,) = visits
    assert visit.persona == "lingerer"
    assert visit.features is not None
    assert visit.features.straightness < 0.1


def test_a_shelf_interaction_makes_a_focused_buyer() -> None:
    stage = analytics()
    assert stage.personas is not None
    stage.personas.shelf_interactions = lambda track_id: 1 if track_id == 2 else 0
    people = {1: walk((0.95, 0.5), (-WALK, 0)), 2: walk((0.95, 0.8), (-WALK, 0))}
    visits = by_track(replay(stage, people, 8)[0])
    assert visits[1].persona == "passer_by"
    assert visits[2].persona == "focused_buyer"


DOOR = {"id": "door", "name": "Door", "start": [0.5, 0.0], "end": [0.5, 1.0]}  # in = ← walk


def test_with_an_entrance_only_those_who_came_in_are_shoppers() -> None:
    stage = analytics(lines=[DOOR])
    path_in = legs((4, (-WALK, 0)), (15, (0, 0)), start=(0.75, 0.5))  # comes in, lingers
    path_by = legs((4, (0, -WALK)), (15, (0, 0)), start=(0.8, 0.9))  # stays outside
    visits = by_track(replay(stage, {1: path_in, 2: path_by}, 19)[0])
    assert visits[1].features is not None
    assert visits[1].features.entered
    assert visits[1].persona == "lingerer"
    assert visits[2].persona == "passer_by"  # never came in, however long they stood


def test_a_fragment_shorter_than_min_visit_is_no_visit() -> None:
    stage = analytics(analytics={"min_visit_s": 2.0})
    people = {1: walk((0.5, 0.5), (WALK, 0), 0, 1.2), 2: walk((0.2, 0.5), (WALK, 0), 0, 5)}
    visits = replay(stage, people, 6)[0]
    assert [v.track_id for v in visits] == [2]


def test_personas_can_be_switched_off() -> None:
    visits, _ = replay(analytics(personas={"enabled": False}), {1: walk((0.9, 0.5), (-WALK, 0))}, 6)
    (visit,) = visits
    assert (visit.persona, visit.group_size, visit.staff) == (None, 1, False)


# --- staff --------------------------------------------------------------------------------

COUNTER = {"id": "counter", "name": "Counter", "polygon": [[0, 0], [0.3, 0], [0.3, 0.4], [0, 0.4]]}


def test_time_in_a_staff_zone_marks_staff_and_the_live_mix_leaves_them_out() -> None:
    stage = analytics(zones=[COUNTER], personas={"staff": {"zones": ["counter"], "zone_min_s": 5}})
    behind = legs((12, (0, 0)), start=(0.15, 0.3))
    shopper = legs((12, (0, 0)), start=(0.7, 0.6))
    visits, updates = replay(stage, {1: behind, 2: shopper}, 12)
    mix = [u.mix for u in updates if u.mix is not None][-2]  # the last one with people in view
    assert mix.staff == 1
    assert sum(mix.total.values()) == 1  # the shopper alone
    visit = by_track(visits)
    assert visit[1].persona == "staff_like"
    assert visit[1].staff
    assert not visit[2].staff


def test_staff_walking_out_through_the_entrance_is_not_footfall() -> None:
    stage = analytics(
        zones=[COUNTER],
        lines=[{**DOOR, "start": [0.5, 0.0], "end": [0.5, 1.0], "invert": True}],
        personas={"staff": {"zones": ["counter"], "zone_min_s": 5}},
    )
    # Stands behind the counter for 8 s, then walks right through the door (here: 'in').
    staff = legs((8, (0, 0)), (6, (WALK, 0)), start=(0.15, 0.3))
    shopper = legs((8, (0, 0)), (6, (WALK, 0)), start=(0.35, 0.7))
    _, updates = replay(stage, {1: staff, 2: shopper}, 14)
    crossings = [(c.track_id, u.staff) for u in updates for c in u.crossings]
    assert len(crossings) == 2
    assert [track for track, staff_now in crossings if track in staff_now] == [1]


def test_a_very_long_presence_marks_staff_without_any_zone() -> None:
    stage = analytics(personas={"staff": {"presence_min_s": 30}})
    visits, _ = replay(stage, {1: legs((40, (0, 0)), start=(0.5, 0.5))}, 40)
    assert visits[0].persona == "staff_like"


def test_an_unknown_staff_zone_is_refused_with_its_field() -> None:
    with pytest.raises(ConfigError, match=r"personas.staff.zones\[0\]: no zone has id 'till'"):
        parse_config(
            {"node_id": "t", "camera": {"source": "x"}, "personas": {"staff": {"zones": ["till"]}}}
        )


# --- groups -------------------------------------------------------------------------------

GAP = 0.5 * HEIGHT / ASPECT  # half a body height apart, side by side


def test_two_people_walking_together_are_one_group_counted_once() -> None:
    people = {1: walk((0.95, 0.5), (-WALK, 0), 0, 8), 2: walk((0.95 + GAP, 0.5), (-WALK, 0), 0, 9)}
    visits = by_track(replay(analytics(), people, 10)[0])
    assert visits[1].group_size == visits[2].group_size == 2
    assert visits[1].new_unit
    assert not visits[2].new_unit


def test_a_person_alone_next_to_a_group_is_not_in_it() -> None:
    together = {1: walk((0.95, 0.45), (-WALK, 0)), 2: walk((0.95 + GAP, 0.45), (-WALK, 0))}
    # Walking the same way at the same speed, but two body heights below them.
    alone = {3: walk((0.95, 0.45 + 2 * HEIGHT), (-WALK, 0))}
    # Walking past them the other way, brushing close.
    opposite = {4: walk((0.05, 0.47), (WALK, 0))}
    visits = by_track(replay(analytics(), together | alone | opposite, 8)[0])
    assert visits[1].group_size == visits[2].group_size == 2
    assert visits[3].group_size == 1
    assert visits[3].new_unit
    assert visits[4].group_size == 1


def test_a_group_that_splits_early_was_never_a_group_one_that_splits_late_was() -> None:
    # Together 2 s, then one turns back: not long enough together.
    early = {
        1: walk((0.9, 0.5), (-WALK, 0), 0, 12),
        2: legs((2, (-WALK, 0)), (10, (WALK, 0)), start=(0.9 + GAP, 0.5)),
    }
    visits = by_track(replay(analytics(), early, 12)[0])
    assert visits[1].group_size == visits[2].group_size == 1
    # Together 10 s, then apart for 5 s: most of their shared time together, still one unit.
    late = {
        1: walk((0.95, 0.5), (-WALK, 0), 0, 15),
        2: legs((10, (-WALK, 0)), (5, (0, 0)), start=(0.95 + GAP, 0.5)),
    }
    visits = by_track(replay(analytics(), late, 15)[0])
    assert visits[1].group_size == visits[2].group_size == 2


def test_standing_together_is_a_group_and_three_friends_are_one_group_of_three() -> None:
    still = {i: legs((12, (0, 0)), start=(0.5 + i * GAP, 0.5)) for i in (1, 2, 3)}
    visits = replay(analytics(), still, 12)[0]
    assert sorted(v.group_size for v in visits) == [3, 3, 3]
    assert sum(v.new_unit for v in visits) == 1


# --- live mix -----------------------------------------------------------------------------

WINDOW = {
    "id": "window",
    "name": "Window",
    "polygon": [[0.4, 0.3], [0.7, 0.3], [0.7, 0.7], [0.4, 0.7]],
}


def test_the_live_mix_has_provisional_personas_per_zone() -> None:
    stage = analytics(zones=[WINDOW])
    people = {1: legs((20, (0, 0)), start=(0.55, 0.5)), 2: walk((0.1, 0.9), (WALK, 0))}
    _, updates = replay(stage, people, 15)
    mix = [u.mix for u in updates if u.mix is not None][-2]
    assert mix.zones["window"] == {"lingerer": 1}
    assert mix.total == {"lingerer": 1, "passer_by": 1}
    assert mix.to_contract() == {"total": mix.total, "zones": {"window": {"lingerer": 1}}}


# --- counters: people, units, groups, staff -------------------------------------------------


def test_counters_count_a_group_once_keep_staff_apart_and_survive_storage() -> None:
    from edge_node.counters import DailyCounters

    counters = DailyCounters.fresh("2026-12-01", ["door"], ["window"])
    counters.add_visit({"window": 4.0}, visitor=True)
    counters.add_persona("browser", new_unit=True, group_size=2)
    counters.add_visit({"window": 6.0}, visitor=True)
    counters.add_persona("browser", new_unit=False, group_size=2)  # the group's second member
    counters.add_visit({}, visitor=False)  # walked past, never came in
    counters.add_persona("passer_by", new_unit=True, group_size=1)
    counters.staff_visits += 1
    contract_view = counters.to_contract()
    assert contract_view["visits"] == 2
    assert contract_view["personas"] == {"browser": 2, "passer_by": 1}
    assert (contract_view["units"], contract_view["groups"]) == (2, 1)
    assert contract_view["staff_visits"] == 1
    assert DailyCounters.from_storage(counters.to_storage()) == counters
    # Storage written before personas existed still loads.
    old = {
        k: v for k, v in counters.to_storage().items() if k in ("day", "lines", "visits", "dwell")
    }
    assert DailyCounters.from_storage(old).units == 0
    assert counters.roll_over("2026-12-02", ["door"], ["window"])
    # A new day keeps the personas seen so far at zero, so their sensors read 0, not unknown.
    assert (counters.personas, counters.units, counters.groups, counters.staff_visits) == (
        {"browser": 0, "passer_by": 0},
        0,
        0,
        0,
    )
