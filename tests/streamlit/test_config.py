"""Settings: defaults, environment variables, the TOML file, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamlit_app import formatting as fmt
from streamlit_app.config import ConfigError, Settings, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings == Settings(source="defaults")
    assert (settings.url, settings.database) == ("http://127.0.0.1:8086", "storefront")


def test_environment() -> None:
    settings = load_settings(
        {
            "STOREFRONT_INFLUX_URL": "https://influx.example:8086",
            "STOREFRONT_INFLUX_DB": "chain",
            "STOREFRONT_INFLUX_USER": "analyst",
            "STOREFRONT_INFLUX_PASSWORD": "s3cret",
            "STOREFRONT_TIMEZONE": "Europe/Berlin",
            "STOREFRONT_APP_CACHE_TTL": "60",
            "STOREFRONT_INCLUDE_SYNTHETIC": "yes",
        }
    )
    assert settings.url == "https://influx.example:8086"
    assert (settings.database, settings.username, settings.password) == (
        "chain",
        "analyst",
        "s3cret",
    )
    assert (settings.timezone, settings.cache_ttl_s) == ("Europe/Berlin", 60)
    assert settings.include_synthetic is True
    assert load_settings({}).include_synthetic is False
    assert "s3cret" not in repr(settings)


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text(
        '[influxdb]\nurl = "http://db:8086"\ndatabase = "from_file"\ntimeout_s = 3\n'
        'verify_ssl = false\n[app]\ntimezone = "Europe/Lisbon"\n'
    )
    settings = load_settings({"STOREFRONT_APP_CONFIG": str(path)})
    assert (settings.url, settings.database, settings.timeout_s) == (
        "http://db:8086",
        "from_file",
        3.0,
    )
    assert settings.verify_ssl is False
    assert settings.timezone == "Europe/Lisbon"
    both = load_settings({"STOREFRONT_APP_CONFIG": str(path), "STOREFRONT_INFLUX_DB": "env"})
    assert (both.url, both.database) == ("http://db:8086", "env")


@pytest.mark.parametrize(
    ("content", "environ", "words"),
    [
        ('[influxdb]\nhost = "x"\n', {}, ["unknown key 'host'", "[influxdb]"]),
        ('[grafana]\nurl = "x"\n', {}, ["unknown table [grafana]"]),
        ("[influxdb\n", {}, ["not valid TOML"]),
        ("", {"STOREFRONT_TIMEZONE": "Mars/Olympus"}, ["timezone", "Mars/Olympus"]),
        ("", {"STOREFRONT_INFLUX_URL": "influx:8086"}, ["url", "http(s)"]),
        ("", {"STOREFRONT_APP_CACHE_TTL": "soon"}, ["cache_ttl_s", "number"]),
        ("", {"STOREFRONT_INFLUX_DB": ""}, ["database", "must not be empty"]),
    ],
)
def test_errors_name_the_setting(
    tmp_path: Path, content: str, environ: dict[str, str], words: list[str]
) -> None:
    path = tmp_path / "app.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as error:
        load_settings({"STOREFRONT_APP_CONFIG": str(path), **environ})
    for word in words:
        assert word in str(error.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STOREFRONT_APP_CONFIG: cannot read"):
        load_settings({"STOREFRONT_APP_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0.4, "0 s"), (42.0, "42 s"), (94.0, "1 min 34 s"), (3725.0, "1 h 02 min")],
)
def test_durations_read_naturally(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_changes_carry_a_sign() -> None:
    assert fmt.change(12, 9) == "+3"
    assert fmt.change(1200, 2400) == "-1,200"
    assert fmt.change(None, 3) is None
    assert fmt.duration_change(94.0, 100.0) == "-6 s"
    assert fmt.duration_change(160.0, 94.0) == "+1 min 06 s"
