"""Hostile payloads against the contract parser: depth bombs, huge numbers, unicode junk.

Whatever arrives, `parse` either returns a value the schema accepts or raises ContractError with
a short reason; nothing else escapes, and every number it lets through fits JSON's exact
integer range (so Home Assistant's JSON encoder and InfluxDB can carry it)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.storefront import contract
from tests.hostile import bomb, junk, mutations
from tests.node_contract import EXAMPLES

DEFINITIONS = contract.CONTRACT["definitions"]
KINDS = (*contract.JSON_KINDS, "availability")


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def _outcome(kind: str, payload: bytes) -> Any:
    """Parse; a refusal is fine, any other exception fails the test."""
    try:
        value = contract.parse(kind, payload)
    except contract.ContractError as err:
        refusal = str(err)
    else:
        refusal = ""
    if refusal:
        assert len(refusal) <= contract.MAX_REASON_CHARS + 100
        return None
    assert contract.validate(kind, value) == value
    assert all(abs(n) <= contract.MAX_INTEGER for n in _numbers(value))
    return value


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "payload",
    [
        bomb(32_000),
        bomb(30_000, "{", "}"),
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"[" * 60_000,  # never closed
        b'{"schema": 1, "args": ' + bomb(20) + b"}",
    ],
    ids=["array-bomb", "brace-bomb", "object-bomb", "unclosed", "bomb-in-field"],
)
def test_depth_bombs_are_refused_before_decoding(kind: str, payload: bytes) -> None:
    with pytest.raises(contract.ContractError, match="nested deeper"):
        contract.parse(kind if kind != "availability" else "state", payload)


def test_brackets_inside_strings_do_not_count() -> None:
    assert contract.nesting_depth(b'{"name": "[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1
    assert contract.nesting_depth(b'{"name": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[\\""}') == 1
    # The deepest message the contract knows (a zone's polygon point) is well within the limit.
    assert contract.nesting_depth(json.dumps(EXAMPLES["description"]).encode()) == 5


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("event_crossing", ("track",), 10**31),
        ("event_crossing", ("track",), 2**53),
        ("event_crossing", ("seq",), 2**63),
        ("event_shelf", ("track",), 10**20),
        ("state", ("last_seq",), 2**64),
        ("health", ("uptime_s",), 1e300),
        ("health", ("rss_mb",), 1e20),
        ("health", ("queue", "oldest_age_s"), 1e30),
        ("command", ("args",), {"from_seq": 10**15 * 10**5}),
    ],
)
def test_numbers_beyond_what_every_reader_carries_are_refused(
    kind: str, path: tuple[str, ...], value: Any
) -> None:
    message = copy.deepcopy(EXAMPLES[kind])
    target = message
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(contract.ContractError):
        contract.parse(kind, json.dumps(message))


def test_a_long_unknown_field_is_reported_short() -> None:
    message = {**EXAMPLES["state"], "x" * 50_000: 1}
    with pytest.raises(contract.ContractError) as caught:
        contract.parse("state", json.dumps(message))
    assert len(str(caught.value)) < 400


mutated = st.sampled_from(contract.JSON_KINDS).flatmap(
    lambda kind: st.tuples(st.just(kind), mutations(kind))
)
anything = st.tuples(st.sampled_from(KINDS), junk(max_bytes=400, max_depth=5000))


@settings(max_examples=600, deadline=None)
@given(case=st.one_of(mutated, anything))
def test_nothing_but_contract_errors_escape(case: tuple[str, bytes]) -> None:
    kind, payload = case
    _outcome(kind, payload)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(contract.JSON_KINDS), repeat=st.integers(1, 5))
def test_a_replayed_payload_parses_the_same_every_time(kind: str, repeat: int) -> None:
    payload = json.dumps(EXAMPLES[kind]).encode()
    assert all(contract.parse(kind, payload) == EXAMPLES[kind] for _ in range(repeat))
