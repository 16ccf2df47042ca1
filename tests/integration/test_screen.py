"""The shop screen: a signed URL per display opens its page without a login (and nothing else
does), and the page in a real Chromium follows the display's select within a second or so. An
offer's image from the media folder (a media source) is shown on the page without a login too;
one that cannot be resolved leaves the offer without image, logged once."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront import screen
from storefront_dev.browser import chromium
from tests.integration.conftest import NodePublisher, add_store_entry, wait_for
from tests.integration.test_display_offers import _entry, _has, _state
from tests.integration.test_entities import entity_id, publish_node

ROOT = Path(__file__).resolve().parents[2]
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


async def _store_with_display(
    hass: HomeAssistant, node: NodePublisher, entry: MockConfigEntry | None = None
) -> MockConfigEntry:
    entry = entry or _entry(hass)
    publish_node(node)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: _has(hass, entry, KEY))
    select = entity_id(hass, entry, f"{KEY}_offer", "select")
    options = {s.title for s in entry.subentries.values()}
    await wait_for(hass, lambda: _state(hass, select).state in options)
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


PICTURE = ROOT / "custom_components" / "storefront" / "brand" / "icon.png"  # a real PNG, 256 px
PICTURED = "media-source://media_source/local/offers/winter coats.png"
UNRESOLVABLE = [
    "media-source://media_source/local/offers/missing.png",  # no such file
    "media-source://media_source/elsewhere/coats.png",  # no such media folder
    "media-source://nowhere/coats.png",  # no such media source
    "media-source://media_source/local/offers/price list.txt",  # a file, but not an image
]
MEDIA_OFFERS = [
    {"offer_id": "coats", "title": "Winter coats", "image": PICTURED},
    *(
        {"offer_id": f"broken_{i}", "title": f"Broken image {i}", "image": image}
        for i, image in enumerate(UNRESOLVABLE)
    ),
]


@pytest.fixture
def media_folder(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The media folder `local` (a config's media/), holding the picture of one offer; set
    before the integration (and with it the media source) is set up."""
    folder = tmp_path / "media"
    (folder / "offers").mkdir(parents=True)
    shutil.copyfile(PICTURE, folder / "offers" / "winter coats.png")
    (folder / "offers" / "price list.txt").write_text("Coats 30 % off\n")
    hass.config.media_dirs = {"local": str(folder)}
    return folder


async def _media_store(hass: HomeAssistant, node: NodePublisher) -> str:
    """The store with the media offers and the display: its offer select."""
    entry = add_store_entry(
        hass,
        subentries_data=[
            {"data": o, "subentry_type": "offer", "title": o["title"], "unique_id": o["offer_id"]}
            for o in MEDIA_OFFERS
        ],
    )
    await _store_with_display(hass, node, entry)
    return entity_id(hass, entry, f"{KEY}_offer", "select")


async def _pin(hass: HomeAssistant, select: str, title: str) -> None:
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": title}, blocking=True
    )


async def test_a_media_source_image_is_signed_for_the_page_and_a_bad_one_left_out(
    hass: HomeAssistant,
    node: NodePublisher,
    media_folder: Path,
    hass_client_no_auth: Callable[[], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    select = await _media_store(hass, node)
    await _pin(hass, select, "Winter coats")
    # The select shows what the owner gave; only the page gets a link it can load.
    assert _state(hass, select).attributes["image"] == PICTURED
    client: TestClient = await hass_client_no_auth()
    path, query = _state(hass, select).attributes["screen_url"].split("?")
    content = await (await client.get(f"{path}/content?{query}")).json()
    assert content["title"] == "Winter coats"
    link = content["image"]
    assert link.startswith("/media/local/offers/winter%20coats.png?authSig=")
    picture = await client.get(link)
    assert picture.status == 200
    assert picture.content_type == "image/png"
    assert await picture.read() == PICTURE.read_bytes()
    assert (await client.get(link.split("?")[0])).status == 401  # the signature lets it in
    again = await (await client.get(f"{path}/content?{query}")).json()
    assert again["image"] == link  # the same link until it is signed anew: no reload each poll

    caplog.set_level(logging.WARNING, logger="custom_components.storefront.screen")
    for offer in MEDIA_OFFERS[1:]:
        await _pin(hass, select, offer["title"])
        for _ in range(3):  # the page polls twice a second
            answer = await client.get(f"{path}/content?{query}")
            assert answer.status == 200
            content = await answer.json()
            assert (content["title"], content["image"]) == (offer["title"], None)
    for image in UNRESOLVABLE:
        logged = [r for r in caplog.records if image in r.getMessage()]
        assert len(logged) == 1, image
        assert "shown without it" in logged[0].getMessage()


def _picture_in_browser(url: str, pin: Callable[[str], None]) -> dict[str, Any]:
    """Open the page in a fresh browser (no Home Assistant login), wait for the offer's
    picture to be loaded and shown, then pin an offer whose image is broken."""
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function(
            "() => { const i = document.getElementById('image');"
            " return !i.hidden && i.complete && i.naturalWidth > 0; }",
            timeout=15_000,
        )
        shown = page.evaluate(
            "() => { const i = document.getElementById('image');"
            " return {title: document.getElementById('title').textContent,"
            " width: i.naturalWidth, src: i.getAttribute('src'),"
            " cookies: document.cookie, tokens: localStorage.getItem('hassTokens')}; }"
        )
        pin(MEDIA_OFFERS[1]["title"])
        page.wait_for_function(
            "t => document.getElementById('title').textContent === t",
            arg=MEDIA_OFFERS[1]["title"],
            timeout=15_000,
        )
        shown["hidden_after"] = page.evaluate("() => document.getElementById('image').hidden")
    return dict(shown)


async def test_the_page_in_chromium_shows_a_media_source_image_without_a_login(
    hass: HomeAssistant,
    node: NodePublisher,
    media_folder: Path,
    hass_client_no_auth: Callable[[], Any],
    socket_enabled: None,
) -> None:
    select = await _media_store(hass, node)
    await _pin(hass, select, "Winter coats")
    client: TestClient = await hass_client_no_auth()
    url = str(client.make_url(_state(hass, select).attributes["screen_url"]))
    loop = hass.loop

    def pin(title: str) -> None:
        asyncio.run_coroutine_threadsafe(_pin(hass, select, title), loop).result(10)

    shown = await hass.async_add_executor_job(_picture_in_browser, url, pin)
    assert shown["title"] == "Winter coats"
    assert shown["width"] == 256  # the brand icon, decoded
    assert shown["src"].startswith("/media/local/offers/")
    assert (shown["cookies"], shown["tokens"]) == ("", None)  # no login of any kind
    assert shown["hidden_after"] is True
