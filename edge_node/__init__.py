"""Storefront camera node: people analytics on video, published over MQTT."""

__version__ = "0.1.0"
