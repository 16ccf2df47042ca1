"""Storefront camera node."""
