"""The sidebar's choices: stores, nodes, zones and lines from the tag index."""

from __future__ import annotations

from dataclasses import dataclass

from streamlit_app.influxql import InfluxClient, quote_literal, tag_values


@dataclass(frozen=True)
class Options:
    """What the sidebar offers, from the tag index (SHOW TAG VALUES)."""

    stores: tuple[str, ...] = ()
    nodes: tuple[tuple[str, str], ...] = ()
    zones: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    has_synthetic: bool = False

    @property
    def empty(self) -> bool:
        return not self.stores


def load(client: InfluxClient) -> Options:
    m = client.measurement
    stores, zones, lines, synthetic = client.query_many(
        [
            'SHOW TAG VALUES WITH KEY = "store"',
            f'SHOW TAG VALUES FROM {m("occupancy")}, {m("dwell")} WITH KEY = "zone"',
            f'SHOW TAG VALUES FROM {m("crossing")} WITH KEY = "line"',
            'SHOW TAG VALUES WITH KEY = "synthetic"',
        ]
    )
    store_names = tag_values(stores)
    per_store = client.query_many(
        [
            f'SHOW TAG VALUES WITH KEY = "node" WHERE "store" = {quote_literal(store)}'
            for store in store_names
        ]
    )
    nodes = tuple(
        (store, node)
        for store, found in zip(store_names, per_store, strict=True)
        for node in tag_values(found)
    )
    return Options(
        stores=tuple(store_names),
        nodes=nodes,
        zones=tuple(tag_values(zones)),
        lines=tuple(tag_values(lines)),
        has_synthetic="true" in tag_values(synthetic),
    )
