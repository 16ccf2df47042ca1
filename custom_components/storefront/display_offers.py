"""What each display of the store shows: the catalogue (the store's offer subentries), the
policy's choice for the audience in front of it, the owner's pin, the rewards from the node's
impressions and shelf takes, and the learning state in Home Assistant's storage."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import devices, screen
from .const import DOMAIN
from .listeners import Listeners
from .models import Message
from .offer_flow import PERSONAS, SUBENTRY_OFFER
from .offers import Offer, OfferError, parse_offer
from .points import PointMaker
from .policy import (
    Audience,
    Decision,
    RewardLedger,
    Showing,
    ThompsonPolicy,
    bucket_tokens,
    context_bucket,
    eligible,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .hub import StoreHub

_LOGGER = logging.getLogger(__name__)
STORAGE_VERSION = 1
SAVE_DELAY_S = 10.0
# The policy chooses again after this long on screen, or sooner (but not before MIN_SWITCH_S)
# when the audience changed, so a screen does not flicker as people come and go.
MIN_SHOW_S = 30.0
MIN_SWITCH_S = 10.0


def display_key(node_id: str, display_id: str) -> str:
    """One display of one node, as the board keys it."""
    return f"{node_id}/{display_id}"


@dataclass
class DisplaySlot:
    """One display: what it shows, whether the policy chooses, and its figures per offer."""

    node_id: str
    display_id: str
    auto: bool = True
    on_screen: str | None = None
    since: float = 0.0
    decision: Decision | None = None
    audience: Audience = field(default_factory=lambda: Audience(0))
    figures: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, offer_id: str, what: str) -> None:
        """Add one to an offer's `shown`, `impressions` or `watchers`."""
        self.figures.setdefault(offer_id, Counter())[what] += 1


class DisplayOffers:
    """The store's displays and their offers; entities read it and listen to it."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], hub: StoreHub) -> None:
        self.hass = hass
        self.entry = entry
        self.hub = hub
        self.policy = ThompsonPolicy()
        self.ledger = RewardLedger(self.policy)
        self.slots: dict[str, DisplaySlot] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.offers"
        )
        self._listeners: Listeners[()] = Listeners()
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._registered: set[str] = set()  # displays whose device is registered
        self.secret = ""  # signs the screen URLs; loaded or made in async_start
        self._skipped: set[str] = set()  # subentries whose bad offer was logged

    async def async_start(self) -> None:
        """Restore what was learnt, then follow the hub's nodes and events."""
        stored = await self._store.async_load() or {}
        self.secret = str(stored.get("secret") or secrets.token_hex(32))
        self.policy = ThompsonPolicy.from_dict(stored.get("policy", {}))
        self.ledger = RewardLedger(self.policy)
        for key, saved in stored.get("displays", {}).items():
            node_id, _, display_id = key.partition("/")
            slot = DisplaySlot(node_id, display_id, bool(saved.get("auto", True)))
            slot.on_screen = saved.get("on_screen")
            slot.figures = {o: Counter(f) for o, f in saved.get("figures", {}).items()}
            self.slots[key] = slot
        self._unsubscribe = [
            self.hub.async_add_store_listener(self.refresh),
            self.hub.async_add_event_listener(self._on_event),
        ]
        self.refresh()

    async def async_stop(self) -> None:
        """Stop following the hub and write the state now."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self._store.async_save(self._data())

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener()` whenever a display's offer or figures changed."""
        return self._listeners.add(None, listener)

    def catalogue(self) -> dict[str, Offer]:
        """The store's offers by id; an offer the forms would refuse is skipped with a log."""
        offers: dict[str, Offer] = {}
        for sub in self.entry.subentries.values():
            if sub.subentry_type != SUBENTRY_OFFER:
                continue
            try:
                offer = parse_offer(str(sub.data.get("offer_id")), sub.data, PERSONAS)
            except OfferError as err:
                if sub.subentry_id not in self._skipped:  # once, not at every state write
                    self._skipped.add(sub.subentry_id)
                    _LOGGER.warning("Offer %s skipped: %s", sub.title, err)
                continue
            offers[offer.offer_id] = offer
        return offers

    def candidates(self, now: datetime) -> list[Offer]:
        """Offers live now whose promoted products are in stock."""
        empty = {
            product
            for node in self.hub.nodes.values()
            if node.state is not None
            for product, stock in node.state.get("stock", {}).items()
            if stock.get("status") == "empty"
        }
        live = {o.offer_id: o for o in self.catalogue().values() if o.is_live(now)}
        return [live[arm.offer_id] for arm in eligible((o.arm for o in live.values()), empty)]

    def audience(self, node_id: str, display_id: str, now: datetime) -> Audience:
        """The audience of a display from its node's retained state (aggregates only): people
        and the provisional personas of those in view now."""
        node = self.hub.nodes.get(node_id)
        state = node.state if node is not None else None
        if state is None:
            return Audience(0, hour=now.hour)
        # The display's own zone where the node has one of that id, else the whole view.
        occupancy = state.get("occupancy", {})
        people = occupancy.get("zones", {}).get(display_id, occupancy.get("total", 0))
        live = state.get("live", {})
        personas = live.get("zones", {}).get(display_id, live.get("total", {}))
        return Audience(int(people), dict(personas), int(personas.get("group", 0)), now.hour)

    @callback
    def refresh(self) -> None:
        """Follow the nodes' displays, and let the policy choose where it is due."""
        now = dt_util.now()
        for node_id, node in self.hub.nodes.items():
            if node.info is None:
                continue
            for display in node.info.message.get("displays", []):
                key = display_key(node_id, display["id"])
                if key not in self._registered:
                    name = display.get("name", display["id"])
                    devices.async_register_display(
                        self.hass, self.entry.entry_id, node_id, display["id"], name
                    )
                    self._registered.add(key)
                slot = self.slots.setdefault(key, DisplaySlot(node_id, display["id"]))
                if slot.on_screen is not None and key not in self.ledger.on_screen:
                    self._resume(key, slot, now)
                self._maybe_choose(key, slot, now)

    def _resume(self, key: str, slot: DisplaySlot, now: datetime) -> None:
        """After a restart (or a reload) the offer kept as on screen is on screen still: the
        ledger credits it again, and the node is told, without counting it as shown anew."""
        offer = self.catalogue().get(slot.on_screen or "")
        if offer is None:
            return
        slot.audience = self.audience(slot.node_id, slot.display_id, now)
        ts = now.timestamp()
        self.ledger.show(Showing(key, offer.offer_id, self._bucket(slot), ts, offer.products))
        slot.since = ts
        self.entry.async_create_background_task(
            self.hass, self._tell_node(slot, offer.offer_id), f"{DOMAIN} now showing"
        )

    def _maybe_choose(self, key: str, slot: DisplaySlot, now: datetime) -> None:
        offers = {o.offer_id: o for o in self.candidates(now)}
        slot.audience = self.audience(slot.node_id, slot.display_id, now)
        if not offers or not slot.auto:
            return
        showing = self.ledger.on_screen.get(key)
        ts = now.timestamp()
        due = (
            showing is None
            or showing.offer_id not in offers
            or ts - showing.since >= MIN_SHOW_S
            or (
                ts - showing.since >= MIN_SWITCH_S
                and slot.decision is not None
                and slot.decision.bucket != self._bucket(slot)
            )
        )
        if not due:
            return
        arms = [o.arm for o in offers.values()]
        slot.decision = self.policy.choose(arms, slot.audience, (), ts)
        if slot.decision.offer_id != slot.on_screen:
            self._show(key, slot, offers[slot.decision.offer_id], ts)

    def _bucket(self, slot: DisplaySlot) -> str:
        return context_bucket(slot.audience)

    def pin(self, node_id: str, display_id: str, offer_id: str) -> None:
        """The owner puts an offer on screen; automatic choice stops until switched back on."""
        offer = self.catalogue().get(offer_id)
        if offer is None:
            raise HomeAssistantError(f"offer: no offer with id {offer_id}; add it first")
        key = display_key(node_id, display_id)
        slot = self.slots.setdefault(key, DisplaySlot(node_id, display_id))
        slot.auto = False
        self._show(key, slot, offer, dt_util.now().timestamp())

    def set_auto(self, node_id: str, display_id: str, auto: bool) -> None:
        """Switch the policy's choice on or off for a display."""
        key = display_key(node_id, display_id)
        slot = self.slots.setdefault(key, DisplaySlot(node_id, display_id))
        slot.auto = auto
        if auto:
            self.ledger.on_screen.pop(key, None)  # choose now, not in MIN_SHOW_S
            self._maybe_choose(key, slot, dt_util.now())
        self._changed()

    def _show(self, key: str, slot: DisplaySlot, offer: Offer, ts: float) -> None:
        bucket = self._bucket(slot)
        propensity = slot.decision.propensity if slot.auto and slot.decision else None
        self._export(
            lambda maker: maker.offer_shown(
                slot.node_id, slot.display_id, offer.offer_id, propensity=propensity, ts=ts
            )
        )
        self.ledger.show(Showing(key, offer.offer_id, bucket, ts, offer.products))
        slot.on_screen, slot.since = offer.offer_id, ts
        slot.count(offer.offer_id, "shown")
        self.entry.async_create_background_task(
            self.hass, self._tell_node(slot, offer.offer_id), f"{DOMAIN} now showing"
        )
        self._changed()

    async def _tell_node(self, slot: DisplaySlot, offer_id: str) -> None:
        """The node credits its impressions to the offer on screen."""
        try:
            await self.hub.async_send_command(
                slot.node_id,
                "now_showing",
                args={"display": slot.display_id, "offer": offer_id},
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Could not tell %s what is on screen: %s", slot.node_id, err)

    @callback
    def _on_event(self, node_id: str, event: Message) -> None:
        if event["type"] == "impression":
            key = display_key(node_id, event["display"])
            showing = self.ledger.impression(key, event["duration_s"], event["looked"])
            slot = self.slots.get(key)
            if showing is not None and slot is not None:
                self._export_impression(node_id, event, showing, slot)
                slot.count(showing.offer_id, "impressions")
                if event["looked"]:
                    slot.count(showing.offer_id, "watchers")
                self._changed()
        elif (
            event["type"] == "shelf"
            and event["change"] == "taken"
            and event.get("product")
            and self.ledger.product_taken(event["product"], event["ts"])
        ):
            self._changed()

    def _export(self, make: Callable[[PointMaker], list[str]]) -> None:
        """Points for InfluxDB, when the store exports."""
        export = self.hub.export
        if export is not None and export.writer is not None:
            export.writer.add(make(export.maker))

    def _export_impression(
        self, node_id: str, event: Message, showing: Showing, slot: DisplaySlot
    ) -> None:
        offer = self.catalogue().get(showing.offer_id)
        _, persona, _, part = bucket_tokens(showing.bucket)
        engaged = event["looked"] or event["duration_s"] >= self.ledger.engaged_dwell_s
        self._export(
            lambda maker: maker.offer_impression(
                node_id,
                event,
                showing.offer_id,
                offer.tags if offer is not None else (),
                persona=persona,
                part_of_day=part,
                engaged=engaged,
            )
        )

    def _changed(self) -> None:
        self._store.async_delay_save(self._data, SAVE_DELAY_S)
        self._listeners.fire(None)

    def content(self, node_id: str, display_id: str) -> dict[str, Any]:
        """What a display shows now: the screen page and the select's attributes read this."""
        slot = self.slots.get(display_key(node_id, display_id))
        offer = self.catalogue().get(slot.on_screen or "") if slot is not None else None
        if slot is None or offer is None:
            return {"offer_id": None, "title": None, "pitch": None, "image": None}
        return {
            "offer_id": offer.offer_id,
            "title": offer.title,
            "pitch": offer.pitch_for(slot.audience),
            "image": offer.image or None,
        }

    def screen_url(self, node_id: str, display_id: str) -> str:
        """The display's signed screen page (path and query), valid for a year from now."""
        return screen.signed_path(
            self.secret, self.entry.entry_id, node_id, display_id, now=dt_util.now().timestamp()
        )

    def diagnostics(self) -> dict[str, Any]:
        """What is kept in storage, for diagnostics: the displays and what the policy learnt
        (its decision log only counted), never the secret that signs the screen URLs."""
        policy = self.policy.to_dict()
        return {
            "policy": {**policy, "decisions": len(policy["decisions"])},
            "displays": self._displays(),
        }

    def _data(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "policy": self.policy.to_dict(),
            "displays": self._displays(),
        }

    def _displays(self) -> dict[str, Any]:
        return {
            key: {
                "auto": slot.auto,
                "on_screen": slot.on_screen,
                "figures": {o: dict(f) for o, f in slot.figures.items()},
            }
            for key, slot in self.slots.items()
        }
