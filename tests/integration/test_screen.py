"""The shop screen: a signed URL per display opens its page without a login (and nothing else
does), and the page in a real Chromium follows the display's select within a second or so."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront import screen
from storefront_dev.browser import chromium
from tests.integration.conftest import NodePublisher, wait_for
from tests.integration.test_display_offers import _entry, _has, _state
from tests.integration.test_entities import entity_id, publish_node

SECRET = "s3cret"
KEY = "entrance_display_window_display"


def test_a_signature_opens_its_own_display_only_until_it_expires() -> None:
    path = screen.signed_path(SECRET, "e1", "entrance", "window", now=1000.0, valid_s=60)
    query = dict(part.split("=") for part in path.split("?")[1].split("&"))
    assert screen.check(SECRET, "e1", "entrance", "window", query=query, now=1059.0) is None
    expired = screen.check(SECRET, "e1", "entrance", "window", query=query, now=1061.0)
    assert (expired or "").startswith("expires:")
    other = screen.check(SECRET, "e1", "entrance", "door", query=query, now=1000.0)
    assert (other or "").startswith("sig:")
    assert screen.check("other", "e1", "entrance", "window", query=query, now=1000.0)
    assert screen.check(SECRET, "e1", "entrance", "window", query={"sig": "x"}, now=0.0)


async def _store_with_display(hass: HomeAssistant, node: NodePublisher) -> MockConfigEntry:
    entry = _entry(hass)
    publish_node(node)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: _has(hass, entry, KEY))
    select = entity_id(hass, entry, f"{KEY}_offer", "select")
    await wait_for(hass, lambda: _state(hass, select).state in {"Hot coffee", "Winter sale"})
    return entry


async def test_the_signed_url_answers_without_a_login(
    hass: HomeAssistant,
    node: NodePublisher,
    hass_client_no_auth: Callable[[], Any],
) -> None:
    entry = await _store_with_display(hass, node)
    select = entity_id(hass, entry, f"{KEY}_offer", "select")
    url = _state(hass, select).attributes["screen_url"]
    client: TestClient = await hass_client_no_auth()
    page = await client.get(url)
    assert page.status == 200
    assert "<title>Storefront screen</title>" in await page.text()
    path, query = url.split("?")
    content = await client.get(f"{path}/content?{query}")
    body = await content.json()
    assert body["title"] == _state(hass, select).state
    assert body == {k: _state(hass, select).attributes[k] for k in body}

    wrong = await client.get(url.replace("/window_display?", "/other_display?"))
    assert wrong.status == 403
    board = entry.runtime_data.offers
    old = screen.signed_path(
        board.secret,
        entry.entry_id,
        "entrance",
        "window_display",
        now=time.time() - 100,
        valid_s=10,
    )
    expired = await client.get(old)
    assert expired.status == 403
    assert "expired" in await expired.text()
    unsigned = await client.get(path)
    assert unsigned.status == 403


def _title_in_browser(url: str, wanted: list[str], change: Callable[[], None]) -> list[str]:
    """Open the page, wait for the first title, make the change, wait for the second."""
    seen = []
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        for i, title in enumerate(wanted):
            page.wait_for_function(
                "t => document.getElementById('title').textContent === t",
                arg=title,
                timeout=15_000,
            )
            seen.append(page.inner_text("#title"))
            if i == 0:
                change()
    return seen


async def test_the_page_in_chromium_follows_the_select(
    hass: HomeAssistant,
    node: NodePublisher,
    hass_client_no_auth: Callable[[], Any],
    socket_enabled: None,
) -> None:
    entry = await _store_with_display(hass, node)
    select = entity_id(hass, entry, f"{KEY}_offer", "select")
    first = _state(hass, select).state
    second = "Winter sale" if first == "Hot coffee" else "Hot coffee"
    client: TestClient = await hass_client_no_auth()
    url = str(client.make_url(_state(hass, select).attributes["screen_url"]))
    loop = hass.loop

    def pick() -> None:
        loop.call_soon_threadsafe(
            lambda: hass.async_create_task(
                hass.services.async_call(
                    "select", "select_option", {"entity_id": select, "option": second}
                )
            )
        )

    seen = await hass.async_add_executor_job(_title_in_browser, url, [first, second], pick)
    assert seen == [first, second]
    assert _state(hass, select).state == second
