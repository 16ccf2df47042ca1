"""The offer catalogue in the store's own settings: add, edit and remove offers as subentries,
and a clear error on the field that is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.storefront.offer_flow import SUBENTRY_OFFER

WINTER = {
    "title": "Winter sale",
    "pitch": "Good {part_of_day}! Warm coats for {audience}.",
    "tags": ["evening", "coats"],
    "personas": ["browser", "focused_buyer"],
    "valid_from": "2026-12-01",
    "valid_to": "2027-01-31",
    "hour_from": "16:00:00",
    "hour_to": "20:00:00",
    "image": "/local/winter.png",
    "products": ["coat_rack"],
}


async def _add(hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_OFFER), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


async def test_an_offer_is_added_with_an_id_from_its_title(
    hass: HomeAssistant, store_entry: MockConfigEntry
) -> None:
    result = await _add(hass, store_entry, WINTER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    second = await _add(hass, store_entry, {"title": "Winter sale!"})
    assert second["type"] is FlowResultType.CREATE_ENTRY
    offers = {s.unique_id: s for s in store_entry.subentries.values()}
    assert set(offers) == {"winter_sale", "winter_sale_2"}
    assert offers["winter_sale"].title == "Winter sale"
    assert offers["winter_sale"].data == {"offer_id": "winter_sale", **WINTER}
    assert offers["winter_sale_2"].data == {"offer_id": "winter_sale_2", "title": "Winter sale!"}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"title": "   "}, {"title": "invalid_title"}),
        ({"pitch": "Hello {name}"}, {"pitch": "invalid_pitch"}),
        ({"pitch": "Hello {audience"}, {"pitch": "invalid_pitch"}),
        ({"tags": ["Winter Coats"]}, {"tags": "invalid_tags"}),
        ({"tags": [f"t{i}" for i in range(17)]}, {"tags": "invalid_tags"}),
        ({"valid_to": "2026-11-30"}, {"valid_to": "invalid_dates"}),
        ({"hour_to": "16:00:00"}, {"hour_to": "invalid_hours"}),
        ({"hour_to": None}, {"hour_to": "invalid_hours"}),
        ({"image": "ftp://x/y.png"}, {"image": "invalid_image"}),
        ({"image": "media-source://media_source"}, {"image": "invalid_image"}),
        ({"image": "http://"}, {"image": "invalid_image"}),
        ({"products": ["coat rack"]}, {"products": "invalid_products"}),
    ],
)
async def test_bad_input_names_the_field(
    hass: HomeAssistant,
    store_entry: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    data = {k: v for k, v in {**WINTER, **changes}.items() if v is not None}
    result = await _add(hass, store_entry, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert not store_entry.subentries
    fixed = await hass.config_entries.subentries.async_configure(result["flow_id"], WINTER)
    assert fixed["type"] is FlowResultType.CREATE_ENTRY


async def test_an_offer_is_edited_keeping_its_id_and_removed(
    hass: HomeAssistant, store_entry: MockConfigEntry
) -> None:
    await _add(hass, store_entry, WINTER)
    subentry = next(iter(store_entry.subentries.values()))
    result = await hass.config_entries.subentries.async_init(
        (store_entry.entry_id, SUBENTRY_OFFER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    bad = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**WINTER, "image": "file.png"}
    )
    assert bad["errors"] == {"image": "invalid_image"}
    done = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"title": "Winter sale: last days", "tags": ["evening"]}
    )
    assert done["type"] is FlowResultType.ABORT
    assert done["reason"] == "reconfigure_successful"
    edited = store_entry.subentries[subentry.subentry_id]
    assert edited.title == "Winter sale: last days"
    assert edited.data == {
        "offer_id": "winter_sale",
        "title": "Winter sale: last days",
        "tags": ["evening"],
    }
    assert hass.config_entries.async_remove_subentry(store_entry, subentry.subentry_id)
    assert not store_entry.subentries
