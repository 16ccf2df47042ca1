"""Names that moved between the Home Assistant releases this integration runs on.

Home Assistant 2026.x validates with `probatio` (voluptuous-compatible, typed) and keeps the
binary sensor device classes in `binary_sensor.const`; 2025.x has voluptuous and the package
itself. Everything else imports these names from here; drop a fallback once the oldest supported
release has the new name.
"""

try:
    import probatio as vol  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # Home Assistant 2025.x
    import voluptuous as vol  # type: ignore[no-redef, unused-ignore]

try:
    from homeassistant.components.binary_sensor.const import (  # type: ignore[import-not-found, unused-ignore]
        BinarySensorDeviceClass,
    )
except ImportError:  # Home Assistant 2025.x
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined, no-redef, unused-ignore]
        BinarySensorDeviceClass,
    )

__all__ = ["BinarySensorDeviceClass", "vol"]
