"""The NER span labeller: a Streamlit v2 component (inline HTML/JS/CSS, no iframe).

Edits (select, label, remove, undo) happen in the browser; Python receives one ``action``
trigger per accept / skip / back / forward: ``{"type", "sample_id", "version", "nonce",
"spans": [[start, end, label], ...], "seconds"}``. Changing ``nonce`` in the data resets the
labeller to the state Python sends (a new sample, or the current state after a conflict).
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui.components import asset

_HTML = """
<div class="labeller" data-testid="ner-labeller" data-busy="false">
  <div class="head"></div>
  <div class="badge" hidden></div>
  <div class="text" data-testid="ner-text"></div>
  <div class="legend" data-testid="ner-legend"></div>
  <div class="msg" data-testid="ner-message" role="status" aria-live="polite"></div>
  <div class="bar"></div>
</div>
"""

_COMPONENT = st.components.v2.component(
    "tagtune_ner_labeller",
    html=_HTML,
    css=asset("_common.css") + asset("ner_labeller.css"),
    js=asset("_common.js") + asset("ner_labeller.js"),
)


def ner_labeller(data: dict, *, key: str, on_action: Callable[[], None]) -> dict | None:
    """Mount the labeller. ``data``: nonce, sample_id, version, text, tokens [[s, e]], spans
    [[s, e, label]], labels [{name, colour, hotkey}], suggestion {source, confidence} or None,
    split, status, position, message, message_kind, can_back, can_forward."""
    result = _COMPONENT(key=key, data=data, on_action_change=on_action)
    return result.action
