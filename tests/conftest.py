"""Shared fixtures: real servers for the whole session, sockets for tests that talk to them."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Influxd, Mosquitto, VictoriaMetrics

# The edge node's tests also run in .venv-edge (the node's Python 3.11, no Home Assistant):
# there, Home Assistant's test plugin and its socket guard are absent.
HAS_HOME_ASSISTANT = importlib.util.find_spec("pytest_homeassistant_custom_component") is not None
pytest_plugins = ["pytest_homeassistant_custom_component"] if HAS_HOME_ASSISTANT else []

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".assets"


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Home Assistant's plugin forbids sockets in every test; only its own tests need that.

    Tests under tests/integration keep the guard (they opt in with `socket_enabled`); the rest
    of the suite talks to real local servers.
    """
    if HAS_HOME_ASSISTANT and "integration" not in item.path.parts:
        import pytest_socket

        pytest_socket.enable_socket()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    server = Mosquitto(workdir=tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    server = Influxd(workdir=tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(workdir=tmp_path_factory.mktemp("victoria"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def vtest_video() -> Path:
    path = ASSETS / "vtest.avi"
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/fetch_assets.sh (part of make test)")
    return path
