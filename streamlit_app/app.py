"""Storefront analytics: the analyst app. Run `streamlit run streamlit_app/app.py`.

Settings come from the environment or a TOML file (docs/analyst-app.md). Every page reads
InfluxDB through its module in `streamlit_app/queries/`; this file only wires the pages together.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# The pages import the app as the installed package `streamlit_app` (pyproject.toml packages
# it), as the tests and the benchmark do, whatever folder `streamlit run` starts from.
from streamlit_app import ui

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(
    page_title="Storefront analytics", page_icon=":material/storefront:", layout="wide"
)
page = st.navigation(
    {
        "Footfall": [
            st.Page(
                VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
            st.Page(VIEWS / "traffic.py", title="Traffic", icon=":material/directions_walk:"),
            st.Page(VIEWS / "zones.py", title="Zones & dwell", icon=":material/timer:"),
        ],
        "When the nodes produce it": [
            st.Page(VIEWS / "personas.py", title="Personas", icon=":material/groups:"),
            st.Page(VIEWS / "shelves.py", title="Shelves", icon=":material/shelves:"),
            st.Page(VIEWS / "displays.py", title="Displays", icon=":material/tv:"),
        ],
    }
)
ui.setup()
page.run()
