"""What each page of the analyst app shows, as plain functions over InfluxQL: one module per
page of `views/` (each with a `load` function), plus `base` for what they share.

No Streamlit here: the pages cache and draw what these functions return, the tests and the
benchmark call them directly. Aggregation happens in InfluxDB (`GROUP BY time(...)`, sums,
counts, means), so a page asks for thousands of rows, not for months of raw points; the one
place that reads raw values, dwell distributions, reads at most a fixed sample per zone, and
over long ranges the export's hourly rollups instead.
pandas only reshapes what comes back. The schema is docs/data-model.md.
"""

from streamlit_app.queries import (
    base,
    coverage,
    displays,
    overview,
    personas,
    shelves,
    sidebar,
    traffic,
    zone_dwell,
    zone_occupancy,
    zones,
)

__all__ = [
    "base",
    "coverage",
    "displays",
    "overview",
    "personas",
    "shelves",
    "sidebar",
    "traffic",
    "zone_dwell",
    "zone_occupancy",
    "zones",
]
