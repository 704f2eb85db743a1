"""The NER span labeller: a Streamlit v2 component (inline HTML/JS/CSS, no iframe).

Edits (select, label, remove, undo) happen in the browser; Python receives one ``action``
trigger per accept / skip / back / forward: ``{"type", "sample_id", "version", "nonce",
"spans": [[start, end, label], ...], "seconds"}``. Changing ``nonce`` in the data resets the
labeller to the state Python sends (a new sample, or the current state after a conflict).
"""
from __future__ import annotations

from collections.abc import Callable

from ui.components import labeller_component

_COMPONENT = labeller_component("ner")


def ner_labeller(data: dict, *, key: str, on_action: Callable[[], None]) -> dict | None:
    """Mount the labeller. ``data``: nonce, sample_id, version, text, tokens [[s, e]], spans
    [[s, e, label]], labels [{name, colour, hotkey}], suggestion {source, confidence} or None,
    split, status, position, message, message_kind, can_back, can_forward."""
    return _COMPONENT(key=key, data=data, on_action_change=on_action).action
