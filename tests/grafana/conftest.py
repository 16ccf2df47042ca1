"""A real influxd holding a day of two stores' data, written through the integration's writer."""

from __future__ import annotations

import time

import pytest
import pytest_socket

from storefront_dev.servers import Influxd
from tests.grafana import store_day
from tests.streamlit.dataset import Dataset

DATABASE = "grafana_dashboards"
EMPTY_DATABASE = "grafana_empty"


@pytest.fixture(scope="module")
def day(influxd: Influxd) -> Dataset:
    """24 hours up to now in DATABASE (recreated for each test module)."""
    # Fixtures are set up before tests/conftest.py lifts Home Assistant's socket guard.
    pytest_socket.enable_socket()
    data = store_day.build(time.time())
    store_day.write(influxd.url, DATABASE, data.lines)
    return data


@pytest.fixture(scope="module")
def empty_database(influxd: Influxd) -> str:
    pytest_socket.enable_socket()
    store_day.write(influxd.url, EMPTY_DATABASE, [])
    return EMPTY_DATABASE
