"""The MQTT contract as the node reads it: version, topics, limits and schemas.

`contract.json` beside this module is a symlink to the integration's
`custom_components/storefront/contract.json`: one file, read by both sides, and copied into the
node's wheel as package data (setuptools follows the link). The node therefore never imports
Home Assistant code and cannot drift from the schema the integration enforces.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import fastjsonschema

CONTRACT_PATH: Final = Path(__file__).with_name("contract.json")
CONTRACT: Final[dict[str, Any]] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
VERSION: Final[int] = CONTRACT["x-version"]
TOPICS: Final[dict[str, str]] = CONTRACT["x-topics"]
MAX_PAYLOAD_BYTES: Final[int] = CONTRACT["x-limits"]["max_payload_bytes"]
MAX_DEPTH: Final[int] = CONTRACT["x-limits"]["max_depth"]
_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
AVAILABILITY: Final[tuple[str, ...]] = tuple(CONTRACT["definitions"]["availability"]["enum"])
COMMANDS: Final[tuple[str, ...]] = tuple(
    CONTRACT["definitions"]["command"]["properties"]["command"]["enum"]
)


@functools.cache
def _validator(kind: str) -> Callable[[Any], Any]:
    # Compiled on first use: a node only ever checks commands at run time.
    compiled: Callable[[Any], Any] = fastjsonschema.compile(
        {**CONTRACT, "$ref": f"#/definitions/{kind}"}
    )
    return compiled


def problem(kind: str, value: Any) -> str | None:
    """Why `value` is not a valid message of `kind` (a key of the contract's definitions)."""
    try:
        _validator(kind)(value)
    except fastjsonschema.JsonSchemaValueException as err:
        field = (err.name or "data").removeprefix("data").lstrip(".")
        rule = err.definition.get(err.rule) if isinstance(err.definition, dict) else None
        if err.rule == "enum" and isinstance(rule, list):
            reason = f"{err.value!r} is not one of {', '.join(map(str, rule))}"
        else:
            reason = err.message.removeprefix(err.name or "").strip()
        return f"{field}: {reason}" if field else reason
    return None


def _depth(payload: bytes) -> int:
    """How deeply arrays and objects nest, brackets inside strings not counted."""
    depth = deepest = 0
    for char in _STRING.sub(b"", payload):
        if char in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in b"]}":
            depth -= 1
    return deepest


def parse_command(payload: bytes) -> dict[str, Any] | str:
    """A command from Home Assistant as a dict, or the reason it is not a valid one."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return f"payload of {len(payload)} bytes is too large"
    # Measuring the nesting before decoding keeps a depth bomb away from the JSON decoder's
    # recursion (the same rule as the receiver's, from the contract's limits).
    if _depth(payload) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    try:
        command = json.loads(payload)
    except RecursionError:
        return "nested too deeply"
    except (ValueError, UnicodeDecodeError) as err:
        return f"not valid JSON ({err})"
    if not isinstance(command, dict):
        return "not a JSON object"
    if command.get("schema") != VERSION:
        return f"unknown contract version {command.get('schema')!r}; this node speaks {VERSION}"
    return problem("command", command) or command
