"""Zones & dwell: occupancy through the day per zone, and how long visits stay in each zone
(distributions: percentiles, box and histogram, not only the mean)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_app import formatting as fmt
from streamlit_app import queries, ui

zones: queries.zones.Zones
context, zones = ui.page(
    "Zones & dwell",
    "zones",
    "No zone occupancy or dwell times in this selection",
    "Zones come from the nodes' configuration (measurements `occupancy` and `dwell`): "
    "check that the selected nodes have zones, or clear the zone filter.",
)

KEYS = ["store", "node", "zone"]

st.subheader("Occupancy through the day")
if zones.occupancy.empty:
    st.info("No occupancy readings for these zones in the range.")
else:
    st.altair_chart(
        alt.Chart(zones.profile())
        .mark_line()
        .encode(
            x=alt.X("time_of_day:O", title="Time of day", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("people:Q", title="People (average)"),
            color=alt.Color("zone:N", legend=ui.legend()),
            tooltip=["zone", "time_of_day", alt.Tooltip("people:Q", format=".2f")],
        ),
        width="stretch",
    )
    st.caption(f"Average head count per {zones.interval} of the day, over the days of the range.")
    series = zones.occupancy.assign(zone=queries.base.label(zones.occupancy, KEYS))
    long_range = context.window.span > pd.Timedelta(days=8)
    if context.window.span > pd.Timedelta(days=2):
        # Hourly averages; beyond a week one point a day: the day's busiest hour.
        series = (
            # Floored in UTC: a local hour repeated at the end of summer time stays two hours.
            series.assign(
                time=series["time"]
                .dt.tz_convert("UTC")
                .dt.floor("h")
                .dt.tz_convert(context.settings.tz)
            )
            .groupby(["time", "zone"], as_index=False)[["people"]]
            .mean()
        )
    if long_range:
        series = (
            series.assign(time=series["time"].dt.normalize())
            .groupby(["time", "zone"], as_index=False)[["people"]]
            .max()
        )
    st.altair_chart(
        alt.Chart(ui.wall_clock(series))
        .mark_line(interpolate="step-after")
        .encode(
            x=ui.time_axis(),
            y=alt.Y(
                "people:Q",
                title="People (busiest hour of the day)" if long_range else "People (average)",
            ),
            color=alt.Color("zone:N", legend=ui.legend()),
            tooltip=["zone", alt.Tooltip("people:Q", format=".2f")],
        ),
        width="stretch",
    )

st.subheader("Dwell time per zone")
dwell = zones.dwell
if dwell.empty:
    st.info("No finished visits in these zones in the range (measurement `dwell`).")
else:
    dwell = dwell.assign(label=queries.base.label(dwell, KEYS))
    base = alt.Chart(dwell).encode(y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=300)))
    box = (
        base.mark_rule().encode(x=alt.X("p10:Q", title="Seconds in the zone"), x2="p90:Q")
        + base.mark_bar(size=14).encode(x="p25:Q", x2="p75:Q", color=alt.value("#4c78a8"))
        + base.mark_tick(color="white", size=14, thickness=2).encode(x="p50:Q")
    ).properties(height=alt.Step(28))
    st.altair_chart(box, width="stretch")
    caption = (
        "Line: 10th to 90th percentile; box: 25th to 75th; white tick: median "
        "(nearest-rank percentiles, as InfluxDB computes them)."
    )
    if zones.binned:
        caption += (
            " Over more than 8 days percentiles come from the hourly dwell rollup (column "
            "*binned*): each lies in the same bin as the exact percentile (bins at most a "
            "third of their lower edge wide from 6 s to 12½ min), placed within it by "
            "interpolation; visits and mean are exact, and so is the histogram where not "
            "*sampled*."
        )
    if zones.sampled:
        sample = fmt.count(queries.zone_dwell.DWELL_SAMPLE)
        caption += (
            f" Zones with more than {sample} visits in the range: "
            f"percentiles and histogram are estimated from a random sample of "
            f"{sample} of them (column *sampled*); visits and mean are "
            "exact."
        )
    st.caption(caption)
    histogram = zones.histogram.assign(label=queries.base.label(zones.histogram, KEYS))
    order = list(dict.fromkeys(histogram.sort_values("lower_s")["bin"]))
    st.altair_chart(
        alt.Chart(histogram)
        .mark_bar()
        .encode(
            x=alt.X("bin:N", sort=order, title="Time in the zone", axis=alt.Axis(labelAngle=0)),
            xOffset="label:N",
            y=alt.Y("share:Q", title="Share of visits", axis=alt.Axis(format="%")),
            color=alt.Color("label:N", legend=ui.legend()),
            tooltip=["label", "bin", alt.Tooltip("share:Q", format=".1%")],
        ),
        width="stretch",
    )
    st.dataframe(
        zones.dwell,
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="%.0f s")
            for c in ["mean_s", *(f"p{p}" for p in queries.zone_dwell.PERCENTILES)]
        },
    )
    ui.download(zones.dwell, "dwell", context, "dwell CSV")
if not zones.occupancy.empty:
    occupancy = zones.occupancy.assign(time=zones.occupancy["time"].dt.strftime("%Y-%m-%d %H:%M"))
    ui.download(occupancy, "zone-occupancy", context, "occupancy CSV")
