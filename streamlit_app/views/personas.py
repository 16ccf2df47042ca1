"""Personas: the mix of behavioural personas among visitors, through the day and the week, per
zone and per day, when the nodes classify them."""

from __future__ import annotations

import altair as alt
import pandas as pd
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


def mix_chart(
    frame: pd.DataFrame, column: str, kind: str, title: str, order: list[str] | None = None
) -> None:
    """Each bar one hour or weekday, split into the share of its visits per persona."""
    st.altair_chart(
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{column}:{kind}", title=title, sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("visits:Q", stack="normalize", title="Share of visits"),
            color=alt.Color("persona:N", title=None, legend=ui.legend()),
            tooltip=[column, "persona", "visits"],
        ),
        width="stretch",
    )


mix = personas.mix
if not mix.empty:
    st.subheader("Persona mix of finished visits")
    simulated = int(mix["simulated"].sum())
    if simulated:
        st.warning(
            f"{simulated:,} of these {int(mix['visits'].sum()):,} visits come from **simulated "
            "nodes**: the store simulator makes their personas up. Untick *Include simulated "
            "nodes* in the sidebar to see only what cameras saw.",
            icon=":material/science:",
        )
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
        mix if simulated else mix.drop(columns=["simulated"]),
        hide_index=True,
        column_config={
            "share": st.column_config.NumberColumn(format="percent"),
            "mean_duration_s": st.column_config.NumberColumn("mean visit", format="%.0f s"),
            "group_size": st.column_config.NumberColumn("mean group size", format="%.1f"),
            "simulated": st.column_config.NumberColumn("from simulated nodes"),
        },
    )
    ui.download(mix, "personas", context, "persona CSV")

if not personas.by_hour.empty:
    st.subheader("Persona mix by hour of day and by weekday")
    st.caption("Finished visits over the whole range, by the shop's local time.")
    mix_chart(personas.by_hour, "hour", "O", "Hour of day")
    weekdays = [d for d in queries.personas.WEEKDAYS if d in set(personas.by_weekday["weekday"])]
    mix_chart(personas.by_weekday, "weekday", "N", "Weekday", weekdays)

by_zone = personas.by_zone
if not by_zone.empty:
    st.subheader("Personas by zone")
    st.altair_chart(
        alt.Chart(by_zone)
        .mark_bar()
        .encode(
            x=alt.X("mean_dwell_s:Q", title="Mean dwell in the zone (s)"),
            y=alt.Y("zone:N", title=None),
            yOffset="persona:N",
            color=alt.Color("persona:N", title=None, legend=ui.legend()),
            tooltip=["zone", "persona", "visits", alt.Tooltip("mean_dwell_s:Q", format=".0f")],
        ),
        width="stretch",
    )
    st.dataframe(
        by_zone,
        hide_index=True,
        column_config={
            "mean_dwell_s": st.column_config.NumberColumn("mean dwell", format="%.0f s"),
        },
    )
    ui.download(by_zone, "personas-zones", context, "zone CSV")

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
