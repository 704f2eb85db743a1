"""Custom Streamlit components (v2: inline HTML/JS/CSS, no build step, no iframe)."""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def asset(name: str) -> str:
    """The text of a JS/CSS file next to this module, passed inline to the component."""
    return (_HERE / name).read_text(encoding="utf-8")


# The labellers' shared skeleton; each script fills it (text via textContent only).
_LABELLER_HTML = """
<div class="labeller" data-testid="{kind}-labeller" data-busy="false">
  <div class="head"></div>
  <div class="badge" hidden></div>
  <div class="text" data-testid="{kind}-text"></div>
  <div class="legend" data-testid="{kind}-legend"></div>
  <div class="msg" data-testid="{kind}-message" role="status" aria-live="polite"></div>
  <div class="bar"></div>
</div>
"""


def labeller_component(kind: str):
    """The v2 component for ``kind`` ("ner" or "cat"): the shared skeleton, _common.css/js and
    ``{kind}_labeller.css/js``. Mount it with ``component(key=..., data=..., on_action_change=...)``."""
    import streamlit as st

    return st.components.v2.component(
        f"tagtune_{kind}_labeller",
        html=_LABELLER_HTML.format(kind=kind),
        css=asset("_common.css") + asset(f"{kind}_labeller.css"),
        js=asset("_common.js") + asset(f"{kind}_labeller.js"),
    )

