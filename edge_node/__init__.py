"""Storefront camera node: people analytics on video, published over MQTT."""

# The project's version, in this one place: pyproject.toml reads it, and a test checks that the
# integration's manifest.json (which Home Assistant needs as a literal) and CHANGELOG.md agree.
__version__ = "0.1.0"
