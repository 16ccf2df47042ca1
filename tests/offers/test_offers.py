"""Offers as the owner writes them: checked once, live in their dates and hours, and a pitch
filled from the audience's coarse words only."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.storefront.offers import OfferError, parse_offer
from custom_components.storefront.policy import Audience

PERSONAS = frozenset({"browser", "group"})


def test_hours_may_run_past_midnight_inside_the_dates() -> None:
    offer = parse_offer(
        "late",
        {"title": "Late", "valid_to": "2026-12-31", "hour_from": "22:00", "hour_to": "02:00"},
        PERSONAS,
    )
    assert offer.is_live(datetime(2026, 12, 2, 23, 30))
    assert offer.is_live(datetime(2026, 12, 3, 1, 59))
    assert not offer.is_live(datetime(2026, 12, 3, 12, 0))
    assert not offer.is_live(datetime(2027, 1, 1, 23, 0))


def test_the_pitch_speaks_of_the_audience_in_coarse_words() -> None:
    offer = parse_offer("x", {"title": "X", "pitch": "Good {part_of_day}, {audience}!"}, PERSONAS)
    assert offer.pitch_for(Audience(people=1, hour=9)) == "Good morning, you!"
    assert offer.pitch_for(Audience(people=3, groups=1, hour=19)) == "Good evening, your group!"


def test_a_persona_outside_the_contract_is_refused_by_name() -> None:
    with pytest.raises(OfferError, match="personas: vip") as err:
        parse_offer("x", {"title": "X", "personas": ["browser", "vip"]}, PERSONAS)
    assert err.value.key == "invalid_personas"
    assert parse_offer("x", {"title": "X", "tags": "Coats, evening"}, PERSONAS).tags == {
        "coats",
        "evening",
    }
