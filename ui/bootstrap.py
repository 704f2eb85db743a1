"""Once per server: upgrade the database, seed the demo projects on first start, start the worker."""
from __future__ import annotations

import importlib

import streamlit as st

from core.base import settings
from core.base.store import sessions


@st.cache_resource(show_spinner="Preparing Tagtune…")
def _boot(url: str) -> dict:
    sessions()  # runs the Alembic upgrade
    state = {"url": url}
    for module, fn in (("core.data.demo", "seed_demo_projects"), ("core.runs.worker", "ensure_worker")):
        try:
            target = getattr(importlib.import_module(module), fn)
        except (ModuleNotFoundError, AttributeError):
            continue
        state[fn] = target()
    return state


def start() -> None:
    st.set_page_config(page_title="Tagtune", page_icon="assets/logo.svg", layout="wide")
    _boot(settings.db_url())
