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

# Options: the InfluxDB export (absent: off). Holds `api` ("v1"/"v2") and the InfluxTarget fields.
CONF_EXPORT: Final = "export"
# A repair issue appears when the database stays unreachable this long (the points are kept).
EXPORT_UNREACHABLE_MINUTES: Final = 10
# The on-disk buffer's bound: about 150 bytes a point, so ≈ 75 MB.
EXPORT_BUFFER_POINTS: Final = 500_000

# Options: weight sensors fused with shelves, `<node id>/<shelf id>` -> entity and unit weight.
CONF_SHELF_SCALES: Final = "shelf_scales"
