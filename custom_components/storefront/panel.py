"""The Storefront panel in Home Assistant's sidebar (`/storefront`, administrators only).

The panel is one plain web component (`frontend/storefront-panel.js`, no build step) served by
the integration; it talks to the commands in `websocket.py`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components import panel_custom
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant

PANEL_URL_PATH: Final = "storefront"
PANEL_ELEMENT: Final = "storefront-panel"
STATIC_URL: Final = "/storefront_static"
PANEL_FILE: Final = Path(__file__).parent / "frontend" / "storefront-panel.js"


async def async_register_panel(hass: HomeAssistant) -> None:
    """Serve the panel's script and add the panel to the sidebar of administrators."""
    content = await hass.async_add_executor_job(PANEL_FILE.read_bytes)
    # A new version of the script gets a new address, so browsers never run a stale copy.
    version = hashlib.sha256(content).hexdigest()[:12]
    await hass.http.async_register_static_paths(
        [StaticPathConfig(f"{STATIC_URL}/{PANEL_FILE.name}", str(PANEL_FILE), cache_headers=True)]
    )
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title="Storefront",
        sidebar_icon="mdi:storefront-outline",
        module_url=f"{STATIC_URL}/{PANEL_FILE.name}?v={version}",
        require_admin=True,
    )
