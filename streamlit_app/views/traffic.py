"""Traffic: entries and exits by hour, by weekday and hour, and per counting line."""

from __future__ import annotations

import altair as alt
import streamlit as st

from streamlit_app import formatting as fmt
from streamlit_app import queries, ui

traffic: queries.traffic.Traffic
context, traffic = ui.page(
    "Traffic",
    "traffic",
    "No line crossings in this selection",
    "Entries and exits come from the nodes' counting lines (measurement `crossing`): "
    "check that the nodes have lines configured and were online, or widen the range.",
)

lines = traffic.lines
columns = st.columns(3)
columns[0].metric("Entries", fmt.count(int(lines["entries"].sum())))
columns[1].metric("Exits", fmt.count(int(lines["exits"].sum())))
daily = traffic.daily()
columns[2].metric(
    "Entries per day",
    fmt.count(round(daily["entries"].mean())),
    help="Average over the days of the range (days without crossings count as zero).",
)

st.subheader("By hour of day")
by_hour = traffic.by_hour_of_day().melt("hour", var_name="direction", value_name="people")
st.altair_chart(
    alt.Chart(by_hour)
    .mark_bar()
    .encode(
        x=alt.X("hour:O", title="Hour of day"),
        xOffset="direction:N",
        y=alt.Y("people:Q", title="People per day (average)"),
        color=alt.Color("direction:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["hour", "direction", alt.Tooltip("people:Q", format=".1f")],
    ),
    width="stretch",
)

st.subheader("By weekday and hour")
st.altair_chart(
    alt.Chart(traffic.heatmap())
    .mark_rect()
    .encode(
        x=alt.X("hour:O", title="Hour of day"),
        y=alt.Y("weekday:N", sort=list(queries.traffic.WEEKDAYS), title=None),
        color=alt.Color("entries:Q", title="Entries (average)", scale=alt.Scale(scheme="blues")),
        tooltip=["weekday", "hour", alt.Tooltip("entries:Q", format=".1f")],
    ),
    width="stretch",
)

st.subheader("Per day")
per_day, day_x = ui.day_axis(daily.melt("day", var_name="direction", value_name="people"))
st.altair_chart(
    alt.Chart(per_day)
    .mark_bar()
    .encode(
        x=day_x,
        xOffset="direction:N",
        y=alt.Y("people:Q", title="People"),
        color=alt.Color("direction:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["day", "direction", "people"],
    ),
    width="stretch",
)

st.subheader("Per entrance")
st.dataframe(lines, hide_index=True)
ui.download(lines, "traffic-lines", context, "per-line CSV")
hourly = traffic.hourly.assign(time=traffic.hourly["time"].dt.strftime("%Y-%m-%d %H:%M"))
ui.download(hourly, "traffic-hourly", context, "hourly CSV")
