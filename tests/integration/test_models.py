"""The typed node models and the identifier module, on the contract's own examples."""

from __future__ import annotations

import base64
import copy

import pytest

from custom_components.storefront import identifiers
from custom_components.storefront.const import DOMAIN
from custom_components.storefront.contract import ContractError, validate
from custom_components.storefront.models import (
    NodeCounts,
    NodeData,
    NodeInfo,
    NodeVitals,
    Snapshot,
)
from tests.node_contract import EXAMPLES


def test_models_read_the_contract_examples() -> None:
    info = NodeInfo.from_message(EXAMPLES["description"])
    assert (info.name, info.model, info.capacity) == (
        "Entrance camera",
        "ssdlite_mobilenet_v2_person",
        25,
    )
    assert [(z.id, z.name) for z in info.zones] == [("window", "Window"), ("counter", "Counter")]
    assert [(x.id, x.entrance) for x in info.lines] == [("door", True)]
    assert info.snapshots is True
    assert info.synthetic is False

    counts = NodeCounts.from_message(EXAMPLES["state"])
    assert (counts.people, counts.visits) == (3, 40)
    assert counts.zone_people == {"window": 1, "counter": 2}
    assert (counts.lines["door"].of("in"), counts.lines["door"].of("out")) == (42, 39)
    assert counts.dwell_mean_s == {"window": 18.4, "counter": 64.0}
    assert info.personas is True
    assert info.shopper_personas == ("passer_by", "browser", "focused_buyer", "lingerer")
    personas = counts.personas
    assert personas is not None
    assert (personas.units, personas.groups, personas.staff_visits, personas.staff_now) == (
        34,
        5,
        3,
        1,
    )
    assert (personas.of("browser"), personas.share("browser"), personas.of("lingerer")) == (
        20,
        50.0,
        0,
    )
    assert counts.live is not None
    assert (counts.live.main(), counts.live.main("window"), counts.live.main("gone")) == (
        "browser",
        "lingerer",
        "none",
    )

    vitals = NodeVitals.from_message(EXAMPLES["health"])
    assert (vitals.fps, vitals.camera, vitals.queue_depth, vitals.queue_dropped) == (
        9.8,
        "ok",
        0,
        0,
    )


def test_optional_fields_take_their_documented_defaults() -> None:
    description = copy.deepcopy(EXAMPLES["description"])
    for key in ("features", "capacity", "hw_version"):
        del description[key]
    del description["lines"][0]["entrance"]
    state = copy.deepcopy(EXAMPLES["state"])
    del state["counters"]["dwell"]
    validate("description", description)
    validate("state", state)

    info = NodeInfo.from_message(description)
    assert (info.snapshots, info.capacity, info.hw_version) == (True, None, None)
    assert info.lines[0].entrance is False
    assert NodeCounts.from_message(state).dwell_mean_s == {}
    assert (info.personas, info.shopper_personas) == (False, ())
    for key in ("personas", "units", "groups", "staff_visits"):
        del state["counters"][key]
    del state["live"]
    assert NodeCounts.from_message(validate("state", state)).personas is None


def test_node_data_hands_on_the_messages_unchanged() -> None:
    node = NodeData(
        "entrance",
        info=NodeInfo.from_message(EXAMPLES["description"]),
        counts=NodeCounts.from_message(EXAMPLES["state"]),
    )
    assert node.description is EXAMPLES["description"]
    assert node.state is EXAMPLES["state"]
    assert node.health is None
    assert node.snapshot_jpeg is None


def test_a_snapshot_must_carry_a_jpeg() -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(16)
    good = {**EXAMPLES["snapshot"], "image": base64.b64encode(jpeg).decode()}
    assert Snapshot.from_message(good).jpeg == jpeg
    for image, reason in (("not base64!", "base64"), (base64.b64encode(b"GIF89a"), "JPEG")):
        bad = {**good, "image": image if isinstance(image, str) else image.decode()}
        with pytest.raises(ContractError, match=reason) as caught:
            Snapshot.from_message(bad)
        assert caught.value.field == "image"


def test_identifiers_parse_back_what_they_build() -> None:
    entry = "01JABCDEF"
    assert identifiers.node_of_device({identifiers.node_device(entry, "back_door")}) == (
        entry,
        "back_door",
    )
    assert identifiers.node_of_device({identifiers.store_device(entry)}) is None
    assert identifiers.node_of_device({("other", f"{entry}_lamp")}) is None
    assert identifiers.store_device(entry) == (DOMAIN, entry)

    unique_ids = [
        identifiers.node_unique_id(entry, "cam", identifiers.zone_key("shop_floor", "people")),
        identifiers.node_unique_id(entry, "cam", identifiers.zone_key("window", "people")),
        identifiers.node_unique_id(entry, "cam", identifiers.zone_key("window", "dwell")),
        identifiers.node_unique_id(entry, "cam", identifiers.line_key("door", "crossing")),
        identifiers.node_unique_id(entry, "other", identifiers.zone_key("till", "people")),
        identifiers.store_unique_id(entry, "people"),
    ]
    assert identifiers.ids_in_keys(entry, "cam", unique_ids, "zone", "people") == [
        "shop_floor",
        "window",
    ]
    assert identifiers.ids_in_keys(entry, "cam", unique_ids, "line", "crossing") == ["door"]


def test_simulated_nodes_also_have_the_group_persona() -> None:
    """The store simulator labels whole groups `group`; a real node never does."""
    description = {**EXAMPLES["description"], "synthetic": True}
    info = NodeInfo.from_message(validate("description", description))
    assert info.shopper_personas == ("passer_by", "browser", "focused_buyer", "lingerer", "group")
