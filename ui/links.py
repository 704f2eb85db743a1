"""Tables whose rows open another page of Tagtune in the same tab.

Streamlit's LinkColumn always opens a new browser tab; a row picked in a table with
``open_on_pick`` switches this tab to the target page instead, with the row's query
parameters (``?project=…&sample=…``), as an internal link should."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st


def open_on_pick(rows: pd.DataFrame | list[dict], key: str, page: str, query: Callable[[dict], dict], *,
                 hidden: tuple[str, ...] = (), **dataframe_args) -> None:
    """Show ``rows``; picking one opens ``page`` (a path under ui/pages) with ``query(row)``."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    shown = [c for c in frame.columns if c not in hidden]
    event = st.dataframe(frame, key=key, on_select="rerun", selection_mode="single-row", hide_index=True,
                         column_order=shown, **dataframe_args)
    picked = event.selection.rows if event else []
    if picked:
        target = {k: str(v) for k, v in query(frame.iloc[picked[0]].to_dict()).items()}
        del st.session_state[key]  # coming back to this page must not open the row again
        st.switch_page(page, query_params=target)
