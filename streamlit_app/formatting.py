"""How numbers read on the pages: counts with thousands separators, durations in s/min/h."""

from __future__ import annotations

from datetime import date

NONE = "—"


def count(value: int | None) -> str:
    return NONE if value is None else f"{value:,}"


def signed(value: int | None) -> str | None:
    """A change for st.metric; None hides the delta."""
    return None if value is None else f"{value:+,}"


def duration(seconds: float | None) -> str:
    """42 s, 1 min 34 s, 1 h 02 min: rounded to the second."""
    if seconds is None:
        return NONE
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def duration_change(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    change = round(now) - round(before)
    return ("+" if change >= 0 else "-") + duration(abs(change))


def change(now: int | None, before: int | None) -> str | None:
    if now is None or before is None:
        return None
    return signed(now - before)


def day(value: date) -> str:
    """Sat 15 Nov 2026."""
    return value.strftime("%a %d %b %Y")
