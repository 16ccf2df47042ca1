"""The offer catalogue's forms: add and edit an offer as a config subentry of the store (HA
removes subentries itself). Fields are checked by `offers.parse_offer`, errors shown per field."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import probatio
from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    DateSelector,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)

from . import contract
from .offers import OfferError, parse_offer

SUBENTRY_OFFER = "offer"
PERSONAS = frozenset(contract.CONTRACT["definitions"]["persona"]["enum"])
FIELDS = (
    "title",
    "pitch",
    "tags",
    "personas",
    "valid_from",
    "valid_to",
    "hour_from",
    "hour_to",
    "image",
    "products",
)


def offer_schema() -> probatio.Schema:
    """The offer form; a field left empty is left out of the offer."""
    words = TextSelector(TextSelectorConfig(multiple=True))
    return probatio.Schema(
        {
            probatio.Required("title"): TextSelector(),
            probatio.Optional("pitch"): TextSelector(TextSelectorConfig(multiline=True)),
            probatio.Optional("tags"): words,
            probatio.Optional("personas"): SelectSelector(
                SelectSelectorConfig(
                    options=sorted(PERSONAS), multiple=True, translation_key="persona"
                )
            ),
            probatio.Optional("valid_from"): DateSelector(),
            probatio.Optional("valid_to"): DateSelector(),
            probatio.Optional("hour_from"): TimeSelector(),
            probatio.Optional("hour_to"): TimeSelector(),
            probatio.Optional("image"): TextSelector(),
            probatio.Optional("products"): words,
        }
    )


def slug(title: str, taken: set[str]) -> str:
    """An offer id (the contract's id pattern) from its title, unique within the store."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_title.lower()).strip("_")[:28] or "offer"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    return {k: user_input[k] for k in FIELDS if user_input.get(k) not in (None, "", [])}


class OfferSubentryFlow(ConfigSubentryFlow):
    """Add or edit one offer of the store's catalogue."""

    def _check(self, offer_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        try:
            parse_offer(offer_id, _clean(user_input), PERSONAS)
        except OfferError as err:
            return {err.field: err.key}
        return {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """A new offer; its id is made from the title once and then kept."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self._get_entry()
            taken = {str(s.unique_id) for s in entry.subentries.values()}
            offer_id = slug(str(user_input.get("title", "")), taken)
            errors = self._check(offer_id, user_input)
            if not errors:
                data = {"offer_id": offer_id, **_clean(user_input)}
                return self.async_create_entry(
                    title=str(user_input["title"]).strip(), data=data, unique_id=offer_id
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(offer_schema(), user_input or {}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit an offer; its id stays, so what was learnt about it stays too."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            offer_id = str(subentry.data["offer_id"])
            errors = self._check(offer_id, user_input)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=str(user_input["title"]).strip(),
                    data={"offer_id": offer_id, **_clean(user_input)},
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                offer_schema(), user_input or dict(subentry.data)
            ),
            errors=errors,
        )
