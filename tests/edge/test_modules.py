"""Every module of the node imports on the Python the test runs on.

`make test` runs the edge node's tests twice: in .venv (Python 3.14) and in .venv-edge on
Python 3.11, the version of Raspberry Pi OS bookworm, where a construct newer than the node's
oldest Python (syntax or standard library) fails here even in a module no other test imports.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import edge_node

# __main__ would run the command line on import.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(edge_node.__path__, prefix="edge_node.")
    if info.name != "edge_node.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name: str) -> None:
    importlib.import_module(name)
