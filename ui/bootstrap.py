"""Once per server: upgrade the database, seed the demo projects on first start, start the worker
and its supervisor (which restarts it when it dies; see core/runs/supervisor.py)."""
from __future__ import annotations

import streamlit as st

from core.base import settings
from core.base.store import sessions
from core.data.demo import seed_demo_projects
from core.runs.supervisor import supervisor


@st.cache_resource(show_spinner="Preparing Tagtune…")
def _boot(url: str) -> dict:
    sessions()  # runs the Alembic upgrade
    seeded = seed_demo_projects()
    return {"url": url, "seed_demo_projects": seeded, "worker": supervisor().start().status().pid}


def start() -> None:
    st.set_page_config(page_title="Tagtune", page_icon="assets/logo.svg", layout="wide")
    _boot(settings.db_url())
