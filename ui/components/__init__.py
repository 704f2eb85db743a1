"""Custom Streamlit components (v2: inline HTML/JS/CSS, no build step, no iframe)."""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def asset(name: str) -> str:
    """The text of a JS/CSS file next to this module, passed inline to the component."""
    return (_HERE / name).read_text(encoding="utf-8")
