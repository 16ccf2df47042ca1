"""Shelves: stock levels over time and what was taken or returned, when nodes watch shelves."""

from __future__ import annotations

import altair as alt
import streamlit as st

from streamlit_app import queries, ui

shelves: queries.shelves.Shelves
context, shelves = ui.page(
    "Shelves",
    "shelves",
    "The selected nodes don't produce shelf data yet",
    "Stock levels (measurement `stock`) and shelf changes (`shelf`) come from nodes that "
    "watch shelves; none did in this range.",
)

if not shelves.latest.empty:
    st.subheader("Latest stock level")
    st.dataframe(
        shelves.latest,
        hide_index=True,
        column_config={"level": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0)},
    )
if not shelves.levels.empty:
    st.subheader("Stock level over time")
    levels = shelves.levels.assign(
        shelf=queries.base.label(shelves.levels, ["store", "node", "shelf"])
    )
    st.altair_chart(
        alt.Chart(ui.wall_clock(levels))
        .mark_line()
        .encode(
            x=ui.time_axis(),
            y=alt.Y(
                "level:Q", title="Level", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
            color=alt.Color("shelf:N", legend=ui.legend()),
            tooltip=["shelf", alt.Tooltip("level:Q", format=".0%")],
        ),
        width="stretch",
    )
if not shelves.changes.empty:
    st.subheader("Shelf changes per product")
    st.dataframe(shelves.changes, hide_index=True)
    ui.download(shelves.changes, "shelf-changes", context, "changes CSV")
if not shelves.latest.empty:
    ui.download(shelves.latest, "stock", context, "stock CSV")
