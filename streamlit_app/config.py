"""Where the analyst app reads its data from: environment variables or a TOML file.

Precedence, lowest first: built-in defaults, the file named by `STOREFRONT_APP_CONFIG`,
then the individual `STOREFRONT_*` environment variables. Everything is checked once here;
the rest of the app gets a frozen `Settings` value. See docs/analyst-app.md.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_ENV: Final = "STOREFRONT_APP_CONFIG"

# Environment variable -> Settings field.
ENV_FIELDS: Final = {
    "STOREFRONT_INFLUX_URL": "url",
    "STOREFRONT_INFLUX_DB": "database",
    "STOREFRONT_INFLUX_RP": "retention_policy",
    "STOREFRONT_INFLUX_USER": "username",
    "STOREFRONT_INFLUX_PASSWORD": "password",
    "STOREFRONT_TIMEZONE": "timezone",
    "STOREFRONT_APP_CACHE_TTL": "cache_ttl_s",
    "STOREFRONT_INCLUDE_SYNTHETIC": "include_synthetic",
}

# TOML table -> the Settings fields it may hold.
FILE_TABLES: Final = {
    "influxdb": (
        "url",
        "database",
        "retention_policy",
        "username",
        "password",
        "timeout_s",
        "verify_ssl",
    ),
    "app": ("timezone", "cache_ttl_s", "include_synthetic"),
}


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    """How to reach InfluxDB and how to present time."""

    url: str = "http://127.0.0.1:8086"
    database: str = "storefront"
    retention_policy: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 10.0
    verify_ssl: bool = True
    timezone: str = "UTC"
    cache_ttl_s: int = 300
    include_synthetic: bool = False  # the "Include simulated nodes" box starts ticked
    source: str = "defaults"  # where the values came from, for error messages

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the config file (if `STOREFRONT_APP_CONFIG` names one) and the environment."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: list[str] = []
    if path := env.get(CONFIG_ENV, "").strip():
        values.update(_read_file(Path(path)))
        sources.append(f"{CONFIG_ENV}={path}")
    for name, key in ENV_FIELDS.items():
        if name in env:
            values[key] = env[name]
            sources.append(name)
    settings = replace(Settings(), **_coerce(values), source=", ".join(sources) or "defaults")
    _validate(settings)
    return settings


def _read_file(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{CONFIG_ENV}: cannot read {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{CONFIG_ENV}: {path} is not valid TOML: {err}") from err
    values: dict[str, Any] = {}
    for table, content in document.items():
        allowed = FILE_TABLES.get(table)
        if allowed is None or not isinstance(content, dict):
            raise ConfigError(
                f"{path}: unknown table [{table}]; use [influxdb] and [app] "
                "(see docs/analyst-app.md)"
            )
        for key, value in content.items():
            if key not in allowed:
                raise ConfigError(
                    f"{path}: unknown key '{key}' in [{table}]; allowed: {', '.join(allowed)}"
                )
            values[key] = value
    return values


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Environment variables are strings; the file may hold numbers and booleans."""
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = types[key]
        try:
            if kind == "bool" and isinstance(value, str):
                out[key] = value.strip().lower() in ("1", "true", "yes", "on")
            elif kind == "bool":
                out[key] = bool(value)
            elif kind == "int":
                out[key] = int(value)
            elif kind == "float":
                out[key] = float(value)
            else:
                out[key] = str(value).strip()
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{key}: expected a number, got {value!r}") from err
    return out


def _validate(settings: Settings) -> None:
    parsed = urlparse(settings.url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"url ({settings.source}): {settings.url!r} is not an http(s) address; "
            "e.g. http://127.0.0.1:8086"
        )
    if not settings.database:
        raise ConfigError(f"database ({settings.source}): must not be empty, e.g. storefront")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(
            f"timezone ({settings.source}): unknown time zone {settings.timezone!r}; "
            "use an IANA name such as Europe/Berlin"
        ) from err
    if settings.timeout_s <= 0:
        raise ConfigError(f"timeout_s ({settings.source}): must be positive")
    if settings.cache_ttl_s < 0:
        raise ConfigError(f"cache_ttl_s ({settings.source}): must be 0 or more seconds")
