"""Zones, counting lines and visits on hand-built tracks, including flicker and U-turns."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_node.analytics import Analytics, Crossing, VisitSummary, is_visitor
from edge_node.analytics.geometry import inside, segments_cross, side_value
from edge_node.analytics.lines import CountingLine, LineCounter
from edge_node.analytics.visits import VisitBook
from edge_node.analytics.zones import Zone, ZoneOccupancy
from edge_node.config import parse_config
from edge_node.types import Track

SQUARE = Zone("window", "Window", ((0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)))
VERTICAL = CountingLine("door", "Door", (0.5, 0.0), (0.5, 1.0))  # in = right → left


def at(x: float, y: float, track_id: int = 1) -> Track:
    """A track whose feet (bottom centre) are at (x, y)."""
    return Track(track_id=track_id, box=(x - 0.02, y - 0.1, x + 0.02, y), score=0.9)


def walk(counter: LineCounter, xs: list[float], y: float = 0.5, track_id: int = 1) -> list[str]:
    out = []
    for i, x in enumerate(xs):
        out += [c.direction for c in counter.update([at(x, y, track_id)], [], i / 10, i)]
    return out


# --- geometry ------------------------------------------------------------------------------


def test_geometry_helpers() -> None:
    assert inside((0.4, 0.4), SQUARE.polygon)
    assert not inside((0.7, 0.4), SQUARE.polygon)
    assert side_value((0.4, 0.5), (0.5, 0.0), (0.5, 1.0)) > 0  # left of a top→bottom line
    assert math.isclose(side_value((0.4, 0.5), (0.5, 0.0), (0.5, 1.0)), 0.1)
    assert segments_cross((0.4, 0.5), (0.6, 0.5), (0.5, 0.0), (0.5, 1.0))
    assert not segments_cross((0.4, 0.5), (0.45, 0.5), (0.5, 0.0), (0.5, 1.0))


# --- lines ---------------------------------------------------------------------------------


def test_direction_follows_the_sign_convention() -> None:
    counter = LineCounter([VERTICAL], margin=0.02)
    assert walk(counter, [0.7, 0.6, 0.5, 0.4, 0.3]) == ["in"]  # s: negative → positive
    assert walk(LineCounter([VERTICAL]), [0.3, 0.4, 0.5, 0.6, 0.7]) == ["out"]


def test_horizontal_line_and_inverted_line() -> None:
    floor = CountingLine("gate", "Gate", (0.0, 0.5), (1.0, 0.5))
    # s = 1*(y-0.5): walking down (y grows) takes s from negative to positive = in.
    counter = LineCounter([floor])
    downs = []
    for i, y in enumerate([0.3, 0.4, 0.5, 0.6, 0.7]):
        downs += [c.direction for c in counter.update([at(0.5, y)], [], i / 10, i)]
    assert downs == ["in"]
    inverted = LineCounter([CountingLine("door", "Door", (0.5, 0.0), (0.5, 1.0), invert=True)])
    assert walk(inverted, [0.7, 0.5, 0.3]) == ["out"]


def test_jitter_on_the_line_counts_once() -> None:
    counter = LineCounter([VERTICAL], margin=0.02)
    jitter = [0.7, 0.6, 0.51, 0.49, 0.51, 0.49, 0.505, 0.495, 0.4, 0.39, 0.41, 0.4]
    assert walk(counter, jitter) == ["in"]


def test_u_turn_within_the_band_is_not_counted() -> None:
    counter = LineCounter([VERTICAL], margin=0.03)
    assert walk(counter, [0.7, 0.6, 0.52, 0.49, 0.48, 0.52, 0.6, 0.7]) == []


def test_real_crossing_back_counts_in_then_out() -> None:
    counter = LineCounter([VERTICAL], margin=0.02)
    assert walk(counter, [0.7, 0.5, 0.3, 0.3, 0.5, 0.7]) == ["in", "out"]


def test_passing_beyond_the_segment_end_is_not_a_crossing() -> None:
    short = CountingLine("door", "Door", (0.5, 0.0), (0.5, 0.4))
    counter = LineCounter([short], margin=0.02)
    assert walk(counter, [0.7, 0.5, 0.3], y=0.8) == []
    assert walk(LineCounter([short]), [0.7, 0.5, 0.3], y=0.3) == ["in"]


def test_someone_first_seen_on_the_line_counts_when_they_leave_across_it() -> None:
    counter = LineCounter([VERTICAL], margin=0.03)
    # Standing just left of the line (inside the band), then walking off to the right.
    assert walk(counter, [0.49, 0.49, 0.48, 0.49, 0.6, 0.7]) == ["out"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=60))
def test_crossings_alternate_and_match_the_net_change(xs: list[float]) -> None:
    margin = 0.05
    counter = LineCounter([VERTICAL], margin=margin)
    directions = walk(counter, xs)
    # Never two counts the same way in a row, and never more counts than real side changes.
    assert all(a != b for a, b in itertools.pairwise(directions))
    established = [1 if x < 0.5 else -1 for x in xs if abs(x - 0.5) > margin]
    changes = sum(1 for a, b in itertools.pairwise(established) if a != b)
    assert len(directions) <= changes + 1  # +1: the side first seen inside the band
    if directions and established:
        net = directions.count("in") - directions.count("out")
        assert net in (-1, 0, 1)
        final_left = established[-1] == 1
        assert (directions[-1] == "in") == final_left


# --- zones ---------------------------------------------------------------------------------


def zone_run(
    positions: list[tuple[float, float]], enter_s: float = 0.3, exit_s: float = 0.5
) -> tuple[list[tuple[str, float]], list[int]]:
    zones = ZoneOccupancy([SQUARE], enter_s=enter_s, exit_s=exit_s)
    events, occupancy = [], []
    for i, (x, y) in enumerate(positions):
        events += [(e.kind, round(e.timestamp, 2)) for e in zones.update([at(x, y)], [], i / 10)]
        occupancy.append(zones.occupancy()["window"])
    return events, occupancy


def test_enter_and_exit_with_inertia_report_the_real_times() -> None:
    path = [(0.1, 0.4)] * 3 + [(0.4, 0.4)] * 10 + [(0.8, 0.4)] * 10
    events, occupancy = zone_run(path)
    assert events == [("enter", 0.3), ("exit", 1.3)]
    assert occupancy[:6] == [0, 0, 0, 0, 0, 0]  # needs 0.3 s inside first
    assert occupancy[6] == 1


def test_flicker_at_the_edge_does_not_flap() -> None:
    flicker = [(0.4, 0.4)] * 6 + [(0.61, 0.4), (0.59, 0.4)] * 8
    events, occupancy = zone_run(flicker)
    assert events == [("enter", 0.0)]
    assert occupancy[-1] == 1


def test_zone_occupancy_never_exceeds_people_in_view() -> None:
    zones = ZoneOccupancy([SQUARE], enter_s=0.0, exit_s=1.0)
    zones.update([at(0.4, 0.4, 1), at(0.45, 0.45, 2)], [], 0.0)
    assert zones.occupancy() == {"window": 2}
    # Track 2 is out of view (occluded, not ended yet): it is in no zone until it comes back.
    zones.update([at(0.4, 0.4, 1)], [], 0.1)
    assert zones.occupancy() == {"window": 1}
    zones.update([at(0.4, 0.4, 1), at(0.45, 0.45, 2)], [], 0.2)
    assert zones.occupancy() == {"window": 2}


def test_track_end_leaves_every_zone() -> None:
    zones = ZoneOccupancy([SQUARE], enter_s=0.0, exit_s=1.0)
    zones.update([at(0.4, 0.4)], [], 0.0)
    events = zones.update([], [1], 2.0)
    assert [(e.kind, e.timestamp) for e in events] == [("exit", 2.0)]
    assert zones.occupancy() == {"window": 0}


# --- visits and the facade ------------------------------------------------------------------


def test_visit_summary_has_dwell_per_zone_and_path() -> None:
    config = parse_config(
        {
            "node_id": "n",
            "camera": {"source": "x.avi"},
            "analytics": {"zone_enter_s": 0, "zone_exit_s": 0, "min_visit_s": 1.0},
            "zones": [
                {"id": "a", "name": "A", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]},
                {"id": "b", "name": "B", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]},
            ],
            "lines": [{"id": "mid", "name": "Mid", "start": [0.5, 0], "end": [0.5, 1]}],
        }
    )
    analytics = Analytics.from_config(config)
    xs = [0.2] * 20 + [0.8] * 30  # 2 s in a, then 3 s in b
    for i, x in enumerate(xs):
        update = analytics.update([at(x, 0.5)], [], i / 10, i)
    assert update.occupancy == {"a": 0, "b": 1}
    assert update.total == 1
    final = analytics.update([], [1], 5.0, 50)
    (visit,) = final.visits
    assert visit.path == ("a", "b")
    assert math.isclose(visit.zones["a"], 2.0)
    assert math.isclose(visit.zones["b"], 3.0)
    assert math.isclose(visit.duration_s, 4.9)
    assert [(c.line_id, c.direction) for c in visit.crossings] == [("mid", "out")]


def test_short_visits_are_not_reported() -> None:
    book = VisitBook(min_visit_s=2.0)
    book.update([at(0.4, 0.4)], [], [], [], 0.0)
    book.update([at(0.4, 0.4)], [], [], [], 1.0)
    assert book.update([], [1], [], [], 1.5) == []


def test_who_counts_as_a_visitor() -> None:
    def visit(*crossings: tuple[str, str], staff: bool = False) -> VisitSummary:
        lines = tuple(Crossing(line, 1, direction, 0.0, 0) for line, direction in crossings)  # type: ignore[arg-type]
        return VisitSummary(1, 0.0, 5.0, {}, (), lines, staff=staff)

    # A camera inside the shop (no entrance line): every reported visit of a shopper.
    assert is_visitor(visit(), set())
    assert not is_visitor(visit(staff=True), set())
    # With an entrance: only who came in through it, never staff.
    assert is_visitor(visit(("door", "in")), {"door"})
    assert is_visitor(visit(("door", "out"), ("door", "in")), {"door"})
    assert not is_visitor(visit(("door", "out")), {"door"})
    assert not is_visitor(visit(("aisle", "in")), {"door"})
    assert not is_visitor(visit(), {"door"})
    assert not is_visitor(visit(("door", "in"), staff=True), {"door"})
