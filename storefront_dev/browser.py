"""Debian's chromium under playwright, as the browser tests drive it: headless and quiet."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM: Final = "/usr/bin/chromium"
# No sandbox (tests may run as root), no GPU, and none of chromium's own network traffic.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A launched chromium for the `with` block, closed when the block ends or fails."""
    from playwright.sync_api import sync_playwright  # only the browser tests install it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()
