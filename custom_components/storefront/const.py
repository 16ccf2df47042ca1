"""Constants of the Storefront integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "storefront"
LOGGER: Final = logging.getLogger(__package__)

CONF_STORE_NAME: Final = "store_name"
CONF_TOPIC_ROOT: Final = "topic_root"
DEFAULT_TOPIC_ROOT: Final = "storefront"
# Same rule as the contract's ids; the root may have several levels ("shops/berlin").
TOPIC_ROOT_PATTERN: Final = r"^[a-z0-9_-]{1,32}(/[a-z0-9_-]{1,32}){0,3}$"

# Options: how long a node may be offline before a repair issue asks the owner to look.
CONF_OFFLINE_MINUTES: Final = "offline_minutes"
DEFAULT_OFFLINE_MINUTES: Final = 15
