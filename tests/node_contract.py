"""The MQTT contract module for the edge node's tests, which run without Home Assistant, and the
contract's example messages every test starts from.

`custom_components/storefront/contract.py` needs nothing but fastjsonschema, but importing it as
`custom_components.storefront.contract` first runs the integration package's `__init__`, which
imports Home Assistant. The edge node's tests also run in .venv-edge (the node's Python 3.11,
no Home Assistant), so they load the same file by its path.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_MODULE = ROOT / "custom_components" / "storefront" / "contract.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storefront_contract", CONTRACT_MODULE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {CONTRACT_MODULE}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


contract = sys.modules.get("storefront_contract") or _load()

# The contract's first example of each message kind that has one: what tests start from.
EXAMPLES: dict[str, Any] = {
    kind: definition["examples"][0]
    for kind, definition in contract.CONTRACT["definitions"].items()
    if definition.get("examples")
}


def example(kind: str) -> dict[str, Any]:
    """A copy of the contract's example of `kind`, free to change."""
    return dict(copy.deepcopy(EXAMPLES[kind]))


def impression(seq: int, *, looked: bool, stream: str = "0ff18a0ff18a0ff1") -> dict[str, Any]:
    """A display impression of one second at the `window_display` display (track = seq)."""
    return {
        "schema": 1,
        "stream": stream,
        "seq": seq,
        "ts": 1795380001.0 + seq,
        "type": "impression",
        "display": "window_display",
        "track": seq,
        "duration_s": 1.0,
        "looked": looked,
    }
