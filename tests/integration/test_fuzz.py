"""Random payloads on every topic the store hub subscribes to: nothing escapes, nothing invalid
is kept, and a valid value already held is never replaced by a bad one."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.core import HomeAssistant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.storefront import contract
from custom_components.storefront.hub import StoreHub
from tests.hostile import bomb, junk, mutations
from tests.node_contract import EXAMPLES

SUFFIXES = [
    "availability",
    "description",
    "state",
    "health",
    "snapshot",
    "reply",
    "command",
    *(f"event/{t}" for t in contract.EVENT_TYPES),
    "unknown",
    "event/unknown",
]
NODES = ["entrance", "Bad.Node", "x" * 40, ""]
GOOD = {k: EXAMPLES[k] for k in ("state", "health")}

payloads = st.one_of(junk(max_bytes=300, max_depth=30_000), mutations("state"), mutations("health"))


def _deliver(hub: StoreHub, topic: str, payload: bytes) -> None:
    hub._on_message(ReceiveMessage(topic, payload, 1, False, "storefront/#", 0.0))


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(suffix=st.sampled_from(SUFFIXES), node_id=st.sampled_from(NODES), payload=payloads)
def test_random_payloads_never_break_the_hub(
    hass: HomeAssistant, suffix: str, node_id: str, payload: bytes
) -> None:
    hub = StoreHub(hass, "storefront", "fuzz")
    _deliver(hub, "storefront/entrance/state", json.dumps(GOOD["state"]).encode())
    _deliver(hub, "storefront/entrance/health", json.dumps(GOOD["health"]).encode())

    for _ in range(2):  # the same payload again, as a replay would bring it
        _deliver(hub, f"storefront/{node_id}/{suffix}", payload)  # must not raise

    for nid, node in hub.nodes.items():
        contract.validate_node_id(nid)
        for kind in ("description", "state", "health"):
            value = getattr(node, kind)
            if value is not None:
                assert contract.validate(kind, value) == value
                assert _finite(value)
    entrance = hub.nodes["entrance"]
    if payload:  # an empty payload legitimately withdraws a retained value
        for kind in ("state", "health"):
            held = getattr(entrance, kind)
            assert held is not None
            assert held == GOOD[kind] or contract.validate(kind, held) == held


async def test_depth_bombs_are_counted_and_logged_short(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    hub = StoreHub(hass, "storefront", "fuzz")
    kinds = [s for s in SUFFIXES if s not in ("command", "unknown", "event/unknown")]
    for suffix in kinds:
        _deliver(hub, f"storefront/entrance/{suffix}", bomb(30_000))
    assert hub.rejects.total == len(kinds)
    assert "nested deeper" in (hub.rejects.last_error or "")
    assert all(len(r.getMessage()) < 500 for r in caplog.records)
