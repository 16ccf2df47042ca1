"""Personas: one behavioural label per visit, by rules an owner can read (docs/personas.md).

The rules look at behaviour only — time, path, stops, zones, entrance, shelf interactions.
They are tried in order and the first that fits wins:

1. `staff_like`: long in staff zones, or in view longer than anyone shops;
2. `focused_buyer`: took a product from or put one back on a shelf;
3. `passer_by`: never came in through an entrance line (where the node has one), or walked
   straight through without stopping, briefly;
4. `lingerer`: stood still a long time;
5. `browser`: everyone else who came in — looked around, stopped, turned back.
"""

from __future__ import annotations

from typing import Literal

from ..config import PersonaConfig, StaffConfig
from .behaviour import VisitFeatures

Persona = Literal["passer_by", "browser", "focused_buyer", "lingerer", "group", "staff_like"]


def staff_seconds(zones: dict[str, float], staff: StaffConfig) -> float:
    return sum(seconds for zone, seconds in zones.items() if zone in staff.zones)


def is_staff(features: VisitFeatures, staff: StaffConfig) -> bool:
    """Staff by where and how long, never by who: staff zones or a very long presence."""
    if staff.zones and staff_seconds(features.zones, staff) >= staff.zone_min_s:
        return True
    return features.duration_s >= staff.presence_min_s


def classify(features: VisitFeatures, rules: PersonaConfig, has_entrances: bool) -> Persona:
    """The visit's persona by the rules above."""
    if is_staff(features, rules.staff):
        return "staff_like"
    if features.interactions:
        return "focused_buyer"
    if has_entrances and not features.entered:
        return "passer_by"
    walked_through = (
        features.duration_s <= rules.passer_max_s
        and features.straightness >= rules.passer_min_straightness
        and features.stops == 0
    )
    if walked_through:
        return "passer_by"
    if features.stop_s >= rules.lingerer_min_stop_s and len(set(features.path)) <= 1:
        return "lingerer"
    return "browser"
