"""The classification labeller: a Streamlit v2 component (inline HTML/JS/CSS, no iframe).

Python receives one ``sync`` trigger carrying the labeller's outbox of numbered entries (drafts,
accepts, skips, back, forward) with ``"categories": [...]`` (see ner_labeller and
ui/label_view.py).
"""
from __future__ import annotations

from collections.abc import Callable

from ui.components import labeller_component

_COMPONENT = labeller_component("cat")


def cat_labeller(data: dict, *, key: str, on_sync: Callable[[], None]) -> dict | None:
    """Mount the labeller. ``data`` as for ner_labeller, with ``multilabel`` and each task's
    ``categories``."""
    return _COMPONENT(key=key, data=data, on_sync_change=on_sync).sync
