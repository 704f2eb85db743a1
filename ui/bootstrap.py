"""Once per server: upgrade the database, seed the demo projects on first start, start the worker."""
from __future__ import annotations

import streamlit as st

from core.base import settings
from core.base.store import sessions
from core.data.demo import seed_demo_projects
from core.runs.worker import ensure_worker


@st.cache_resource(show_spinner="Preparing Tagtune…")
def _boot(url: str) -> dict:
    sessions()  # runs the Alembic upgrade
    return {"url": url, "seed_demo_projects": seed_demo_projects(), "ensure_worker": ensure_worker()}


def start() -> None:
    st.set_page_config(page_title="Tagtune", page_icon="assets/logo.svg", layout="wide")
    _boot(settings.db_url())
