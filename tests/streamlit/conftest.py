"""Fixtures for the analyst app: a database per test module filled through the integration's
writer, and AppTest runs of the real app against it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_socket
import streamlit as st
from streamlit.testing.v1 import AppTest

from storefront_dev.servers import Influxd
from tests.streamlit import dataset

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
APP_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def store_data(influxd: Influxd, request: pytest.FixtureRequest) -> dataset.Dataset:
    """Two weeks of traffic up to now in the module's own database (`DATABASE`)."""
    # Fixtures are set up before tests/conftest.py lifts Home Assistant's socket guard.
    pytest_socket.enable_socket()
    data = dataset.build(datetime.now(ZoneInfo(dataset.TZ)))
    dataset.write(influxd.url, request.module.DATABASE, data.lines)
    return data


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point the app at a database (no outside STOREFRONT_* settings leak in); empty caches."""

    def configure(url: str, database: str, **more: str) -> None:
        for name in list(os.environ):
            if name.startswith("STOREFRONT_"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("STOREFRONT_INFLUX_URL", url)
        monkeypatch.setenv("STOREFRONT_INFLUX_DB", database)
        monkeypatch.setenv("STOREFRONT_TIMEZONE", dataset.TZ)
        for name, value in more.items():
            monkeypatch.setenv(name, value)
        st.cache_data.clear()

    return configure


@pytest.fixture
def app() -> Iterator[Callable[[], AppTest]]:
    """A fresh AppTest of streamlit_app/app.py (not yet run)."""
    yield lambda: AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_S)
    st.cache_data.clear()
