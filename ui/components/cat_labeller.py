"""The classification labeller: a Streamlit v2 component (inline HTML/JS/CSS, no iframe).

Python receives one ``action`` trigger per accept / skip / back / forward:
``{"type", "sample_id", "version", "nonce", "categories": [...], "seconds"}``. Changing
``nonce`` in the data resets the labeller to the state Python sends.
"""
from __future__ import annotations

from collections.abc import Callable

from ui.components import labeller_component

_COMPONENT = labeller_component("cat")


def cat_labeller(data: dict, *, key: str, on_action: Callable[[], None]) -> dict | None:
    """Mount the labeller. ``data``: nonce, sample_id, version, text, categories, multilabel,
    labels [{name, colour, hotkey}], suggestion, split, status, position, message,
    message_kind, can_back, can_forward."""
    return _COMPONENT(key=key, data=data, on_action_change=on_action).action
