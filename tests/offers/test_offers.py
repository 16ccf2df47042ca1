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


@pytest.mark.parametrize(
    "image",
    [
        "media-source://media_source/local/winter sale.png",  # as the media browser names it
        "media-source://image/image.front_door",
        "https://cdn.example.com/offer.png",
        "/local/offer.png",
    ],
)
def test_an_image_is_a_media_source_item_a_url_or_a_path(image: str) -> None:
    assert parse_offer("x", {"title": "X", "image": f" {image} "}, PERSONAS).image == image


@pytest.mark.parametrize(
    "image",
    [
        "offer.png",
        "ftp://x/y.png",
        "http://",
        "//cdn.example.com/offer.png",
        "media-source://",
        "media-source://media_source",
        "media-source://media_source/",
        "media-source://Media Source/local/x.png",
    ],
)
def test_a_malformed_image_is_refused_with_an_example_of_each_kind(image: str) -> None:
    with pytest.raises(OfferError) as err:
        parse_offer("x", {"title": "X", "image": image}, PERSONAS)
    assert err.value.key == "invalid_image"
    message = str(err.value)
    assert message.startswith(f"image: {image!r} is not")
    assert "media-source://media_source/local/offer.png" in message
    assert "/local/offer.png" in message
