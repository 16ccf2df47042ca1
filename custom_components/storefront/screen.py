"""The shop screen: a page the integration serves for one display, opened full-screen by a kiosk
browser without a Home Assistant login. Access is by a signed URL (HMAC-SHA256 over the store,
node, display and expiry with a secret kept in the store's storage), so a URL opens its own
display only, and only until it expires. The page polls its display's content twice a second."""

from __future__ import annotations

import hashlib
import hmac
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .const import DOMAIN

if TYPE_CHECKING:
    from .display_offers import DisplayOffers

URL_BASE = f"/api/{DOMAIN}/screen"
VALID_S = 365 * 24 * 3600  # a year: a kiosk is set up once; rotating the secret revokes all


def _signature(secret: str, entry_id: str, node_id: str, display_id: str, expires: int) -> str:
    message = f"{entry_id}/{node_id}/{display_id}/{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_path(
    secret: str, entry_id: str, node_id: str, display_id: str, *, now: float, valid_s: int = VALID_S
) -> str:
    """The screen page's path and query for one display, valid for `valid_s` from `now`."""
    expires = int(now) + valid_s
    sig = _signature(secret, entry_id, node_id, display_id, expires)
    return f"{URL_BASE}/{entry_id}/{node_id}/{display_id}?expires={expires}&sig={sig}"


def check(
    secret: str, entry_id: str, node_id: str, display_id: str, *, query: Any, now: float
) -> str | None:
    """None when the query signs this display and has not expired; else why not."""
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        return "expires: missing or not a number"
    expected = _signature(secret, entry_id, node_id, display_id, expires)
    if not hmac.compare_digest(expected, str(query.get("sig", ""))):
        return "sig: not a signature of this display"
    if expires < now:
        return "expires: this screen URL has expired; copy the current one from the device"
    return None


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Storefront screen</title>
<style>
html,body{margin:0;height:100%;background:#111;color:#fff;font-family:sans-serif}
main{display:flex;flex-direction:column;align-items:center;justify-content:center;height:100%}
img{max-width:90vw;max-height:60vh}
h1{font-size:7vw;margin:.3em}
p{font-size:3.5vw;margin:0 1em;text-align:center}
</style></head>
<body><main><img id="image" alt="" hidden><h1 id="title"></h1><p id="pitch"></p></main>
<script>
const source = location.pathname + "/content" + location.search;
let last = null;
async function poll() {
  try {
    const answer = await fetch(source, {cache: "no-store"});
    if (answer.ok) {
      const text = await answer.text();
      if (text !== last) {
        last = text;
        const c = JSON.parse(text);
        document.getElementById("title").textContent = c.title || "";
        document.getElementById("pitch").textContent = c.pitch || "";
        const image = document.getElementById("image");
        image.hidden = !c.image;
        if (c.image) image.src = c.image;
        document.body.dataset.offer = c.offer_id || "";
      }
    }
  } catch (e) {}
  setTimeout(poll, 500);
}
poll();
</script></body></html>
"""


class ScreenView(HomeAssistantView):
    """The page and its content for every display of every store; signed, no login."""

    url = URL_BASE + "/{entry_id}/{node_id}/{display_id}/{what}"
    name = f"api:{DOMAIN}:screen"
    requires_auth = False

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.extra_urls = [URL_BASE + "/{entry_id}/{node_id}/{display_id}"]

    async def get(
        self,
        request: web.Request,
        entry_id: str,
        node_id: str,
        display_id: str,
        what: str = "page",
    ) -> web.Response:
        """The page, or (`content`) what it shows now as JSON."""
        board = self._board(entry_id)
        if board is None:
            return web.Response(status=HTTPStatus.NOT_FOUND, text="no such store")
        why = check(
            board.secret, entry_id, node_id, display_id, query=request.query, now=time.time()
        )
        if why is not None:
            return web.Response(status=HTTPStatus.FORBIDDEN, text=why)
        if what == "content":
            return self.json(board.content(node_id, display_id))
        if what != "page":
            return web.Response(status=HTTPStatus.NOT_FOUND, text="no such page")
        return web.Response(text=PAGE, content_type="text/html")

    def _board(self, entry_id: str) -> DisplayOffers | None:
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return None
        board: DisplayOffers = entry.runtime_data.offers
        return board
