"""Personas: the mix of behavioural personas among visitors, when the nodes classify them."""

from __future__ import annotations

import altair as alt
import streamlit as st

from streamlit_app import queries, ui

context = ui.context()
st.title("Personas")
st.caption(context.describe())
personas: queries.personas.Personas = ui.load("personas", context)
if personas.empty:
    ui.empty_state(
        context,
        "The selected nodes don't produce persona data yet",
        "Personas are classified on a node from behaviour (dwell, path, group size, shelf "
        "interaction), never from faces. Nothing in this range is in the `personas` "
        "measurement or carries a `persona` tag on `visit`.",
    )

mix = personas.mix
if not mix.empty:
    st.subheader("Persona mix of finished visits")
    st.altair_chart(
        alt.Chart(mix)
        .mark_bar()
        .encode(
            x=alt.X("visits:Q", title="Visits"),
            y=alt.Y("persona:N", sort="-x", title=None),
            tooltip=["persona", "visits", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(height=alt.Step(32)),
        width="stretch",
    )
    st.dataframe(
        mix,
        hide_index=True,
        column_config={
            "share": st.column_config.NumberColumn(format="percent"),
            "mean_duration_s": st.column_config.NumberColumn("mean visit", format="%.0f s"),
            "group_size": st.column_config.NumberColumn("mean group size", format="%.1f"),
        },
    )
    ui.download(mix, "personas", context, "persona CSV")
if not personas.daily.empty:
    st.subheader("Visitors per persona and day")
    daily, day_x = ui.day_axis(personas.daily)
    st.altair_chart(
        alt.Chart(daily)
        .mark_bar()
        .encode(
            x=day_x,
            y=alt.Y("visitors:Q", title="Visitors"),
            color=alt.Color("persona:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["day", "persona", "visitors"],
        ),
        width="stretch",
    )
    st.caption("From the nodes' own counters since their local midnight (measurement `personas`).")
    ui.download(personas.daily, "personas-daily", context, "daily CSV")
