"""The shop screen: a page the integration serves for one display, opened full-screen by a kiosk
browser without a Home Assistant login. Access is by a signed URL (HMAC-SHA256 over the store,
node, display and expiry with a secret kept in the store's storage), so a URL opens its own
display only, and only until it expires. The page polls its display's content twice a second.

An offer's image given as a media source (`media-source://...`) is resolved to Home Assistant's
own URL for it and, where that URL needs a login, signed for Home Assistant's read-only content
user: the page polls its content, so the signed link it holds is always a current one."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.components import media_source
from homeassistant.components.http.auth import SIGN_QUERY_PARAM, async_sign_path
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from yarl import URL

from .const import DOMAIN
from .offers import MEDIA_SOURCE

if TYPE_CHECKING:
    from .display_offers import DisplayOffers

_LOGGER = logging.getLogger(__name__)
URL_BASE = f"/api/{DOMAIN}/screen"
VALID_S = 365 * 24 * 3600  # a year: a kiosk is set up once; rotating the secret revokes all
# A media-source image's signed link is valid for an hour and signed anew after half of it: the
# page, polling twice a second, always holds a link valid for half an hour or more, and loads
# the image again (the link changed) only twice an hour. Home Assistant's signing key lasts
# until it restarts; the links are then signed again at the next poll.
IMAGE_VALID_S = 3600
IMAGE_RENEW_S = IMAGE_VALID_S // 2
# An image that could not be resolved is tried again this often (logged the first time only).
IMAGE_RETRY_S = 60
# Served without a login by Home Assistant itself (www/): no signature needed.
UNSIGNED_PREFIXES = ("/local/",)


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
const image = document.getElementById("image");
image.onload = () => { image.hidden = !image.getAttribute("src"); };
image.onerror = () => { image.hidden = true; };
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
        if (!c.image) {
          image.hidden = true;
          image.removeAttribute("src");
        } else if (c.image !== image.getAttribute("src")) {
          image.src = c.image;  // shown once loaded; one that fails stays hidden
        }
        document.body.dataset.offer = c.offer_id || "";
      }
    }
  } catch (e) {}
  setTimeout(poll, 500);
}
poll();
</script></body></html>
"""


class ScreenImages:
    """Offer images as links the screen page loads without a login. A plain URL or path is
    used as it is; a media source is resolved and, when it points into Home Assistant, signed.
    A media source that cannot be shown is left out (the offer is shown without its image)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self._links: dict[str, tuple[str | None, float]] = {}  # id: (link, sign anew at)
        self._logged: set[str] = set()

    async def link(self, image: str, now: float) -> str | None:
        """The link the page shows for an offer's `image`; None when it cannot be shown."""
        if not image.startswith(MEDIA_SOURCE):
            return image
        cached = self._links.get(image)
        if cached is not None and now < cached[1]:
            return cached[0]
        link = await self._resolve(image)
        self._links = {k: v for k, v in self._links.items() if now < v[1]}
        self._links[image] = (link, now + (IMAGE_RENEW_S if link else IMAGE_RETRY_S))
        return link

    async def _resolve(self, image: str) -> str | None:
        try:
            media = await media_source.async_resolve_media(self.hass, image, None)
            if not media.mime_type.startswith("image/"):
                raise ValueError(f"{media.mime_type} is not an image")
            if media.path is not None and not await self.hass.async_add_executor_job(
                media.path.is_file
            ):
                raise FileNotFoundError("no such file")
        except Exception as err:  # any media source's failure: the offer goes without image
            if image not in self._logged:
                self._logged.add(image)
                _LOGGER.warning(
                    "The offer image %s cannot be shown on the screen (%s); "
                    "the offer is shown without it",
                    image,
                    str(err) or type(err).__name__,
                )
            return None
        self._logged.discard(image)
        url = URL(media.url)
        if url.is_absolute() or url.path.startswith(UNSIGNED_PREFIXES):
            return media.url
        # Signed as Home Assistant's read-only content user (the page has no user of its own);
        # the signature covers the decoded path and the query, and is added to the link as is.
        signed = async_sign_path(
            self.hass, str(url), timedelta(seconds=IMAGE_VALID_S), use_content_user=True
        )
        signature = signed.rpartition(f"{SIGN_QUERY_PARAM}=")[2]
        return str(url.update_query({SIGN_QUERY_PARAM: signature}))


class ScreenView(HomeAssistantView):
    """The page and its content for every display of every store; signed, no login."""

    url = URL_BASE + "/{entry_id}/{node_id}/{display_id}/{what}"
    name = f"api:{DOMAIN}:screen"
    requires_auth = False

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.extra_urls = [URL_BASE + "/{entry_id}/{node_id}/{display_id}"]
        self.images = ScreenImages(hass)

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
            content = board.content(node_id, display_id)
            if content["image"]:
                content["image"] = await self.images.link(content["image"], time.time())
            return self.json(content)
        if what != "page":
            return web.Response(status=HTTPStatus.NOT_FOUND, text="no such page")
        return web.Response(text=PAGE, content_type="text/html")

    def _board(self, entry_id: str) -> DisplayOffers | None:
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return None
        board: DisplayOffers = entry.runtime_data.offers
        return board
