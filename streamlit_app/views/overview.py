"""Overview: the day's visitors, exits, peak occupancy and visit length against the same
weekday a week earlier."""

from __future__ import annotations

from datetime import date

import altair as alt
import streamlit as st

from streamlit_app import formatting as fmt
from streamlit_app import queries, ui

DAY_KEY = "overview_day"


def _initial_day(context: ui.Context) -> date:
    """`?day=YYYY-MM-DD` in the address opens that day (links can be shared)."""
    text = st.query_params.get("day")
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            st.warning(f"Ignoring day={text!r} in the address: expected YYYY-MM-DD.")
    return context.last


context = ui.context()
st.title("Overview")
if DAY_KEY not in st.session_state:
    st.session_state[DAY_KEY] = _initial_day(context)
day = st.date_input("Day", key=DAY_KEY, format="YYYY-MM-DD")
overview: queries.overview.Overview = ui.load("overview", context, day)
if overview.empty:
    ui.empty_state(
        context,
        f"No visitors, visits or occupancy on {fmt.day(day)} nor a week earlier",
        "Pick another day, or clear the filters in the sidebar. Entries and exits come from "
        "counting lines (measurement `crossing`), occupancy from `node_occupancy`.",
    )

now, before = overview.current, overview.previous
until = f", both until {overview.window.end:%H:%M}" if overview.partial else ""
week_before = day - queries.overview.WEEK
st.caption(f"{fmt.day(day)} compared with {fmt.day(week_before)} (same weekday last week{until}).")
columns = st.columns(5)
columns[0].metric(
    "Visitors",
    fmt.count(now.visitors),
    fmt.change(now.visitors, before.visitors),
    help="People who walked in: crossings of the counting lines in the 'in' direction.",
)
columns[1].metric("Exits", fmt.count(now.exits), fmt.change(now.exits, before.exits))
columns[2].metric(
    "Peak occupancy",
    fmt.count(now.peak_occupancy),
    fmt.change(now.peak_occupancy, before.peak_occupancy),
    help="Most people in view at once (all selected nodes together, minute resolution).",
)
columns[3].metric(
    "Average visit",
    fmt.duration(now.visit_mean_s),
    fmt.duration_change(now.visit_mean_s, before.visit_mean_s),
    delta_color="off",
)
columns[4].metric(
    "Median visit",
    fmt.duration(now.visit_median_s),
    fmt.duration_change(now.visit_median_s, before.visit_median_s),
    delta_color="off",
    help=f"Half of the {fmt.count(now.visits)} visits were shorter than this.",
)

labels = {"last_week": fmt.day(week_before), "selected": fmt.day(day)}
colors = alt.Scale(domain=list(labels.values()), range=["#b4c7dc", "#1c62b9"])
legend = alt.Legend(orient="top", title=None)

st.subheader("Entries by hour")
hourly = overview.hourly.rename(columns=labels).melt("hour", var_name="day", value_name="entries")
st.altair_chart(
    alt.Chart(hourly)
    .mark_bar()
    .encode(
        x=alt.X("hour:O", title="Hour of day"),
        xOffset=alt.XOffset("day:N", sort=list(labels.values())),
        y=alt.Y("entries:Q", title="Entries"),
        color=alt.Color("day:N", scale=colors, legend=legend),
        tooltip=["day", "hour", "entries"],
    ),
    width="stretch",
)

if not overview.occupancy.empty:
    st.subheader("People in view")
    curve = overview.occupancy.rename(columns=labels).melt(
        "time_of_day", var_name="day", value_name="people"
    )
    st.altair_chart(
        alt.Chart(curve.dropna())
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("time_of_day:O", title="Time of day", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("people:Q", title="People (peak per 5 min)"),
            color=alt.Color("day:N", scale=colors, legend=legend),
            tooltip=["day", "time_of_day", "people"],
        ),
        width="stretch",
    )

st.subheader("Figures")
table = overview.table()
st.dataframe(table, hide_index=True)
ui.download(table, "overview", context)
