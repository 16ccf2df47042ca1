"""The offer catalogue: an offer as the owner writes it (a config subentry's data), checked once
into a typed value, when it may be shown, and its pitch filled in for the audience now.

Pure Python, no Home Assistant imports, so the form, the policy and the screen share one
definition of an offer.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from .policy import Arm, Audience, context_tokens

ID_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
MEDIA_SOURCE = "media-source://"
# media-source://<source>/<item>, e.g. media-source://media_source/local/offer.png
MEDIA_SOURCE_RE = re.compile(r"^media-source://[a-z0-9]+(?:_[a-z0-9]+)*/[^/\s].*$")
TITLE_MAX = 80
PITCH_MAX = 300
TAGS_MAX = 16
# What a pitch may say about the audience: coarse words only, never a person.
PLACEHOLDERS = frozenset({"part_of_day", "audience", "people"})
AUDIENCE_WORDS = {
    "empty": "everyone",
    "one": "you",
    "few": "all of you",
    "crowd": "everyone here",
}


class OfferError(ValueError):
    """A field of an offer is wrong; `field` names it and `key` is its translation key."""

    def __init__(self, field: str, key: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.key = key


@dataclass(frozen=True)
class Offer:
    """One offer of the catalogue, checked."""

    offer_id: str
    title: str
    pitch: str = ""
    tags: frozenset[str] = frozenset()
    personas: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_to: date | None = None
    hour_from: time | None = None
    hour_to: time | None = None
    image: str = ""
    products: frozenset[str] = frozenset()

    @property
    def arm(self) -> Arm:
        """The offer as the policy sees it."""
        return Arm(self.offer_id, self.tags, self.personas, self.products)

    def is_live(self, now: datetime) -> bool:
        """Inside its dates and its hours (hours may run past midnight)."""
        today = now.date()
        if self.valid_from and today < self.valid_from:
            return False
        if self.valid_to and today > self.valid_to:
            return False
        if self.hour_from is None or self.hour_to is None:
            return True
        clock = now.time()
        if self.hour_from <= self.hour_to:
            return self.hour_from <= clock < self.hour_to
        return clock >= self.hour_from or clock < self.hour_to

    def pitch_for(self, audience: Audience) -> str:
        """The pitch with its placeholders filled from the audience's coarse words."""
        size, _, grouping, part = context_tokens(audience)
        words = AUDIENCE_WORDS[size] if grouping == "solo" else "your group"
        return self.pitch.format(part_of_day=part, audience=words, people=audience.people)


def _words(field: str, value: Any, allowed: frozenset[str] | None = None) -> frozenset[str]:
    items = value if isinstance(value, Sequence) and not isinstance(value, str) else []
    if isinstance(value, str):
        items = [w.strip() for w in value.split(",")]
    words = frozenset(str(w).strip().lower() for w in items if str(w).strip())
    bad = sorted(w for w in words if not ID_RE.match(w) or (allowed and w not in allowed))
    if bad or len(words) > TAGS_MAX:
        raise OfferError(
            field,
            f"invalid_{field}",
            f"{', '.join(bad) or 'too many'}: use up to {TAGS_MAX} words of a-z, 0-9, _ and -"
            + (f" from {', '.join(sorted(allowed))}" if allowed else ""),
        )
    return words


def _pitch(value: Any) -> str:
    pitch = str(value or "").strip()
    if len(pitch) > PITCH_MAX:
        raise OfferError("pitch", "invalid_pitch", f"at most {PITCH_MAX} characters")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pitch) if name is not None}
    except ValueError as err:
        raise OfferError("pitch", "invalid_pitch", f"unbalanced braces ({err})") from err
    unknown = names - PLACEHOLDERS
    if unknown:
        raise OfferError(
            "pitch",
            "invalid_pitch",
            f"unknown placeholder {{{sorted(unknown)[0]}}}; use "
            + ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS)),
        )
    return pitch


def _date(field: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise OfferError(field, "invalid_dates", "a date such as 2026-12-24") from err


def _time(field: str, value: Any) -> time | None:
    if value in (None, ""):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError as err:
        raise OfferError(field, "invalid_hours", "a time of day such as 09:30") from err


def _image(value: Any) -> str:
    """A media source with its item, an http(s) URL with a host, or a path on Home Assistant."""
    image = str(value or "").strip()
    if not image:
        return image
    if image.startswith(MEDIA_SOURCE):
        valid = MEDIA_SOURCE_RE.match(image) is not None
    elif image.startswith(("https://", "http://")):
        valid = bool(urlsplit(image).hostname)
    else:
        valid = image.startswith("/") and not image.startswith("//")
    if not valid:
        raise OfferError(
            "image",
            "invalid_image",
            f"{image!r} is not a media source such as media-source://media_source/local/"
            "offer.png, an http(s) URL or a path such as /local/offer.png",
        )
    return image


def parse_offer(offer_id: str, data: Mapping[str, Any], personas: frozenset[str]) -> Offer:
    """Check an offer's fields (a subentry's data); the first wrong field raises OfferError."""
    title = str(data.get("title", "")).strip()
    if not 1 <= len(title) <= TITLE_MAX:
        raise OfferError("title", "invalid_title", f"1 to {TITLE_MAX} characters")
    offer = Offer(
        offer_id=offer_id,
        title=title,
        pitch=_pitch(data.get("pitch")),
        tags=_words("tags", data.get("tags", [])),
        personas=_words("personas", data.get("personas", []), personas),
        valid_from=_date("valid_from", data.get("valid_from")),
        valid_to=_date("valid_to", data.get("valid_to")),
        hour_from=_time("hour_from", data.get("hour_from")),
        hour_to=_time("hour_to", data.get("hour_to")),
        image=_image(data.get("image")),
        products=_words("products", data.get("products", [])),
    )
    if offer.valid_from and offer.valid_to and offer.valid_from > offer.valid_to:
        raise OfferError("valid_to", "invalid_dates", "the last day is before the first")
    if (offer.hour_from is None) != (offer.hour_to is None) or (
        offer.hour_from is not None and offer.hour_from == offer.hour_to
    ):
        raise OfferError("hour_to", "invalid_hours", "give both hours, and different ones")
    return offer
