"""Displays: people passing a shop window or screen, how many looked, and per offer."""

from __future__ import annotations

import altair as alt
import streamlit as st

from streamlit_app import formatting as fmt
from streamlit_app import queries, ui

displays: queries.displays.Displays
context, displays = ui.page(
    "Displays",
    "displays",
    "The selected nodes don't produce display impressions yet",
    "Impressions (measurement `impression`) come from nodes with a display zone in front "
    "of a shop window or screen; none reported one in this range.",
)

summary = displays.summary
passers, looked = int(summary["passers"].sum()), int(summary["looked"].sum())
columns = st.columns(3)
# One impression per person who stopped at a display (the node's audience.dwell_s); people who
# only walked past are in the node's state, not in the impression events read here.
columns[0].metric("Impressions", fmt.count(passers), help="People who stopped at a display")
columns[1].metric("Watchers", fmt.count(looked), help="Of them, people who looked at it")
columns[2].metric("Watch rate", f"{looked / passers:.0%}" if passers else fmt.NONE)

st.subheader("Per display and offer")
st.dataframe(
    summary,
    hide_index=True,
    column_config={
        "look_rate": st.column_config.NumberColumn("look rate", format="percent"),
        "attention_s": st.column_config.NumberColumn("attention", format="%.1f s"),
        "duration_s": st.column_config.NumberColumn("time in front", format="%.1f s"),
    },
)
ui.download(summary, "displays", context, "display CSV")
if not displays.daily.empty:
    st.subheader("Per day")
    daily, day_x = ui.day_axis(
        displays.daily.melt(["day", "display"], var_name="kind", value_name="people")
    )
    chart = alt.Chart(daily).mark_line(point=True)
    encoding = {
        "x": day_x,
        "y": alt.Y("people:Q", title="People"),
        "color": alt.Color("kind:N", title=None, legend=alt.Legend(orient="top")),
        "tooltip": ["day", "display", "kind", "people"],
    }
    if daily["display"].nunique() > 1:
        encoding["strokeDash"] = alt.StrokeDash("display:N", title="Display")
    st.altair_chart(chart.encode(**encoding), width="stretch")

rate = {"engagement_rate": st.column_config.NumberColumn("engagement rate", format="percent")}
for title, frame in (
    ("Tags hit and missed", displays.by_tag),
    ("Engagement by persona", displays.by_persona),
    ("Engagement by part of day", displays.by_part_of_day),
):
    if not frame.empty:
        st.subheader(title)
        st.dataframe(frame, hide_index=True, column_config=rate)
