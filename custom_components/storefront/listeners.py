"""Listener lists by key: how the hub tells one node's entities (key: the node id) or everyone
(key: None) that something moved, without each of twenty nodes' entities looking at every
message."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE


class Listeners[*Args]:
    """Callbacks taking `Args`, registered under a key; `fire(key, ...)` calls that key's."""

    def __init__(self) -> None:
        self._by_key: dict[str | None, list[Callable[[*Args], None]]] = {}

    def add(self, key: str | None, listener: Callable[[*Args], None]) -> CALLBACK_TYPE:
        """Register `listener` under `key`; returns its remover."""
        self._by_key.setdefault(key, []).append(listener)

        def remove() -> None:
            listeners = self._by_key.get(key, [])
            listeners.remove(listener)
            if not listeners:
                self._by_key.pop(key, None)

        return remove

    def fire(self, key: str | None, *args: *Args) -> None:
        # A copy: a listener may remove itself (an entity going away) while we iterate.
        for listener in list(self._by_key.get(key, ())):
            listener(*args)
