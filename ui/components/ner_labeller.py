"""The NER span labeller: a Streamlit v2 component (inline HTML/JS/CSS, no iframe).

Edits (select, label, remove, undo) happen in the browser. Python receives one ``sync`` trigger
carrying the labeller's outbox: numbered entries ``{"seq", "project_id", "type": "draft" |
"accept" | "skip" | "back" | "forward", "sample_id", "version", "spans": [[start, end, label],
...], "seconds", "next"}`` that Python has not acknowledged yet (ui/label_view.py).
"""
from __future__ import annotations

from collections.abc import Callable

from ui.components import labeller_component

_COMPONENT = labeller_component("ner")


def ner_labeller(data: dict, *, key: str, on_sync: Callable[[], None]) -> dict | None:
    """Mount the labeller. ``data``: reset, acked, project_id, labels [{name, colour, hotkey}],
    tasks [{sample_id, version, text, tokens [[s, e]], spans [[s, e, label]], suggestion, draft,
    split, status, in_history}] (the current sample first), message, message_kind, can_back."""
    return _COMPONENT(key=key, data=data, on_sync_change=on_sync).sync
