"""The classification labeller: a Streamlit v2 component (inline HTML/JS/CSS, no iframe).

Python receives one ``action`` trigger per accept / skip / back / forward:
``{"type", "sample_id", "version", "nonce", "categories": [...], "seconds"}``. Changing
``nonce`` in the data resets the labeller to the state Python sends.
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui.components import asset

_HTML = """
<div class="labeller" data-testid="cat-labeller" data-busy="false">
  <div class="head"></div>
  <div class="badge" hidden></div>
  <div class="text" data-testid="cat-text"></div>
  <div class="legend" data-testid="cat-legend"></div>
  <div class="msg" data-testid="cat-message" role="status" aria-live="polite"></div>
  <div class="bar"></div>
</div>
"""

_COMPONENT = st.components.v2.component(
    "tagtune_cat_labeller",
    html=_HTML,
    css=asset("_common.css") + asset("cat_labeller.css"),
    js=asset("_common.js") + asset("cat_labeller.js"),
)


def cat_labeller(data: dict, *, key: str, on_action: Callable[[], None]) -> dict | None:
    """Mount the labeller. ``data``: nonce, sample_id, version, text, categories, multilabel,
    labels [{name, colour, hotkey}], suggestion, split, status, position, message,
    message_kind, can_back, can_forward."""
    result = _COMPONENT(key=key, data=data, on_action_change=on_action)
    return result.action
