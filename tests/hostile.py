"""Hostile payloads for the contract's readers, as Hypothesis strategies: any JSON value (NaN,
infinities and integers beyond every reader's range included), depth bombs, junk bytes and text,
and the contract's examples with one field replaced by any JSON value. The contract parser's
tests (tests/contract) and the store hub's (tests/integration) draw from the same ones."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.node_contract import EXAMPLES

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


def bomb(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    """Brackets nested `depth` deep, closed again."""
    return (opener * depth + closer * depth).encode()


def junk(max_bytes: int, max_depth: int) -> st.SearchStrategy[bytes]:
    """Any bytes, any text, any JSON value as text, or a depth bomb."""
    return st.one_of(
        st.binary(max_size=max_bytes),
        st.text(max_size=max_bytes // 2).map(lambda t: t.encode("utf-8", "surrogatepass")),
        json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
        st.integers(1, max_depth).map(bomb),
    )


def mutations(kind: str) -> st.SearchStrategy[bytes]:
    """The contract's example of `kind` with one field replaced by any JSON value, as text."""
    example = EXAMPLES[kind]

    def mutate(key: str, value: Any) -> bytes:
        changed = copy.deepcopy(example)
        changed[key] = value
        return json.dumps(changed, allow_nan=True).encode()

    return st.builds(mutate, st.sampled_from(sorted(example)), json_values)
