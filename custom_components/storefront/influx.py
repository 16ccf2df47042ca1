"""Writing line protocol to InfluxDB over HTTP: the v1 API (`/write`: database, retention policy,
user/password) and the v2 API (`/api/v2/write`: org, bucket, token). No Home Assistant imports:
the integration passes its shared aiohttp session; tests and benchmarks pass their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import aiohttp

API_V1: Final = "v1"
API_V2: Final = "v2"
TIMEOUT: Final = aiohttp.ClientTimeout(total=30, connect=5)


class InfluxError(Exception):
    """A write or a check failed; `retry` is False when repeating it cannot help (bad request,
    wrong credentials, unknown database): the message says what to fix."""

    def __init__(self, message: str, *, retry: bool, reason: str = "cannot_connect") -> None:
        super().__init__(message)
        self.retry = retry
        self.reason = reason


@dataclass(frozen=True)
class InfluxTarget:
    """Where points go. `database`/`retention_policy`/`username`/`password` for v1;
    `org`/`bucket`/`token` for v2."""

    url: str
    api: Literal["v1", "v2"] = API_V1
    database: str = "storefront"
    retention_policy: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    org: str = ""
    bucket: str = ""
    token: str = field(default="", repr=False)
    verify_ssl: bool = True

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> InfluxTarget:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in options.items() if k in known})

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    def write_request(self) -> tuple[str, dict[str, str], dict[str, str]]:
        """(url, query parameters, headers) of a write."""
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.api == API_V2:
            params = {"org": self.org, "bucket": self.bucket, "precision": "ns"}
            if self.token:
                headers["Authorization"] = f"Token {self.token}"
            return f"{self.base}/api/v2/write", params, headers
        params = {"db": self.database, "precision": "ns"}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        if self.username:
            params["u"], params["p"] = self.username, self.password
        return f"{self.base}/write", params, headers

    def describe(self) -> str:
        where = f"bucket {self.bucket}" if self.api == API_V2 else f"database {self.database}"
        return f"{self.base} ({self.api}, {where})"


async def write_lines(
    session: aiohttp.ClientSession, target: InfluxTarget, lines: list[str]
) -> None:
    """One batched write; raises InfluxError (retry=True while the server is away or busy)."""
    url, params, headers = target.write_request()
    body = "\n".join(lines).encode()
    try:
        async with session.post(
            url,
            params=params,
            headers=headers,
            data=body,
            timeout=TIMEOUT,
            ssl=target.verify_ssl,
        ) as response:
            if response.status in (200, 204):
                return
            text = (await response.text())[:300]
    except (aiohttp.ClientError, TimeoutError) as err:
        raise InfluxError(f"{target.describe()} is unreachable: {err}", retry=True) from err
    raise _refusal(target, response.status, text)


def _refusal(target: InfluxTarget, status: int, text: str) -> InfluxError:
    if status in (401, 403):
        return InfluxError(
            f"{target.describe()} refused the credentials ({status}): {text}",
            retry=False,
            reason="invalid_auth",
        )
    if status == 404:
        return InfluxError(
            f"{target.describe()}: database or bucket not found ({text})",
            retry=False,
            reason="not_found",
        )
    if status in (400, 413, 422):
        return InfluxError(
            f"{target.describe()} refused the points ({status}): {text}",
            retry=False,
            reason="bad_request",
        )
    return InfluxError(f"{target.describe()} answered {status}: {text}", retry=True)


async def check(session: aiohttp.ClientSession, target: InfluxTarget) -> None:
    """What the options flow runs before it saves a connection: an empty write, which proves
    reachability, credentials and that the database or bucket exists, and writes nothing."""
    await write_lines(session, target, [])  # no lines: an empty body
