"""User-provided strings shown as text, on every page, through these few calls.

Sample text, project, run, label and annotator names and file contents are data, never
markup. Streamlit renders Markdown in st.markdown, captions, titles, alerts, progress text,
widget labels, help tooltips and expander labels, with extensions: raw HTML, remote images
(``![x](http://...)`` makes the browser fetch that URL), LaTeX (``$...$``), emoji and
``:material/icon:`` shortcodes and ``:red[...]`` colour directives. Plotly renders a subset of
HTML in axis and legend text. So:

- ``md(value)`` before a user string goes into any Markdown context (an f-string in
  st.caption, st.success, a widget label, ...);
- ``html(value)`` in HTML we build ourselves (st.html, ``unsafe_allow_html``), with
  ``colour(value)`` for any colour that goes into a style attribute;
- ``plot(value)`` for text in Plotly figures (tick labels, legends, titles).

Tables (st.dataframe), st.code, select options and text inputs show their values as text
already and need none of this.
"""
from __future__ import annotations

import html as _html
import re
from collections.abc import Iterable

from db.projects import HEX_COLOUR

FALLBACK_COLOUR = "#dddddd"
# A backslash before ASCII punctuation makes it literal text in CommonMark. Escaped everywhere:
# what starts inline syntax (emphasis, code, links and images, raw HTML and autolinks, entities,
# strikethrough, tables, LaTeX "$", directives and shortcodes ":red[", ":smile:", ":material/").
# Block markers ("# ", "- ", "> ", "1. ") only count at the start of a line, and line breaks
# become spaces, so only a leading one is escaped: names stay readable ("my-project").
# A colon starts a directive or shortcode only when it touches a word (":red[", ":smile:"), so one
# followed by a space after punctuation ("'Doomed': 0 samples") stays as typed.
_INLINE = re.compile(r"([\\`*_\[\]<>~$&|/{}]|:(?=\S)|(?<=[\w+-]):)")
_LEADING = re.compile(r"^(\s*)([-+=#>]|\d+(?=[.)]))")
_ENTITIES = {c: f"&#{c};" for c in [*range(0x21, 0x30), *range(0x3A, 0x41), *range(0x5B, 0x61), *range(0x7B, 0x7F), 0x0A, 0x0D]}
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def md(value: object) -> str:
    """``value`` as a string that Streamlit's Markdown shows character for character.

    Line breaks become spaces: these strings sit inside a sentence, caption or label.
    """
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    return _LEADING.sub(_escape_marker, _INLINE.sub(r"\\\1", text))


def _escape_marker(found: re.Match) -> str:
    space, marker = found.groups()
    return f"{space}{marker}\\" if marker[0].isdigit() else f"{space}\\{marker}"  # "1\. " / "\- "


def md_join(values: Iterable[object], sep: str = ", ") -> str:
    """Several user strings, each escaped, joined by an (app-written) separator."""
    return sep.join(md(v) for v in values)


def html(value: object) -> str:
    """``value`` for HTML we write (st.html, or Markdown with ``unsafe_allow_html``): every ASCII
    punctuation character and line break as a numeric character reference, so it is text to the
    HTML parser (``<``, ``&``, quotes in attributes) and to the Markdown parser around it alike
    (``**``, ``$``, ``:material/``, a blank line that would end the HTML block)."""
    return ("" if value is None else str(value)).translate(_ENTITIES)


def plot(value: object) -> str:
    """``value`` for Plotly text: its pseudo-HTML (<b>, <a href>, <br>) shown as characters."""
    return _html.escape("" if value is None else str(value), quote=False)


def colour(value: object) -> str:
    """A ``#rrggbb`` colour for a style attribute; anything else becomes a neutral grey.

    Colours are validated when stored (db/projects.py); this is the last guard before CSS.
    """
    text = "" if value is None else str(value)
    return text if HEX_COLOUR.match(text) else FALLBACK_COLOUR
