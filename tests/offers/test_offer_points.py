"""The points an offer on screen writes: one when it is shown, and per credited impression one
for the offer and one per tag of it (the tag report's rows)."""

from __future__ import annotations

from custom_components.storefront.points import PointMaker


def test_shown_and_impression_points() -> None:
    maker = PointMaker("Main Street")
    shown = maker.offer_shown("entrance", "window", "winter_sale", propensity=0.25, ts=100.0)
    assert shown == [
        "offer_shown,display=window,node=entrance,offer=winter_sale,store=Main\\ Street "
        "count=1i,propensity=0.25 100000000000"
    ]
    pinned = maker.offer_shown("entrance", "window", "winter_sale", propensity=None, ts=100.0)
    assert "propensity" not in pinned[0]
    event = {"ts": 200.0, "seq": 7, "display": "window"}
    lines = maker.offer_impression(
        "entrance", event, "winter_sale", frozenset({"evening", "coats"}),
        persona="browser", part_of_day="evening", engaged=True,
    )  # fmt: skip
    assert [x.split(",")[0] for x in lines] == ["offer_impression", "offer_tag", "offer_tag"]
    assert "offer=winter_sale" in lines[0]
    assert ",tag=coats" in lines[1]
    assert ",tag=evening" in lines[2]
    assert all(",part_of_day=evening,persona=browser," in x for x in lines)
    assert all(" count=1i,engaged=1i " in x for x in lines)
