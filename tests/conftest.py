"""Shared fixtures: real servers for the whole session, sockets for tests that talk to them."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from storefront_dev.servers import Influxd, Mosquitto, Server, VictoriaMetrics

# The edge node's tests also run in .venv-edge (the node's Python 3.11, no Home Assistant):
# there, Home Assistant's test plugin and its socket guard are absent.
HAS_HOME_ASSISTANT = importlib.util.find_spec("pytest_homeassistant_custom_component") is not None
pytest_plugins = ["pytest_homeassistant_custom_component"] if HAS_HOME_ASSISTANT else []

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".assets"
# A TypeVar, not the 3.12 syntax: these fixtures also serve the node's Python 3.11 tests.
S = TypeVar("S", bound=Server)


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Home Assistant's plugin forbids sockets in every test; only its own tests need that.

    Tests under tests/integration keep the guard (they opt in with `socket_enabled`); the rest
    of the suite talks to real local servers.
    """
    if HAS_HOME_ASSISTANT and "integration" not in item.path.parts:
        import pytest_socket

        pytest_socket.enable_socket()


class _FrameReports(logging.Handler):
    """Collects what Home Assistant's frame helper reports about the Storefront integration."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "custom integration 'storefront'" in message:
            self.reports.append(message)


@pytest.fixture(autouse=True)
def no_deprecated_home_assistant_calls() -> Iterator[None]:
    """Home Assistant reports a custom integration's deprecated calls through its frame helper
    (a logged warning, or an error for some): any such report fails the test, so the integration
    keeps using no API deprecated in the Home Assistant it is tested on."""
    logger = logging.getLogger("homeassistant.helpers.frame")
    handler = _FrameReports()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.reports:
        pytest.fail("Home Assistant reported deprecated calls:\n" + "\n".join(handler.reports))


def _serving(server: S) -> Iterator[S]:
    """Start a test server, hand it to the session's tests, stop it afterwards."""
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    yield from _serving(Mosquitto(workdir=tmp_path_factory.mktemp("mosquitto")))


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    yield from _serving(Influxd(workdir=tmp_path_factory.mktemp("influxd")))


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    yield from _serving(VictoriaMetrics(workdir=tmp_path_factory.mktemp("victoria")))


@pytest.fixture(scope="session")
def vtest_video() -> Path:
    path = ASSETS / "vtest.avi"
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/fetch_assets.sh (part of make test)")
    return path
