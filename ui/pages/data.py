"""Data: counts, browse and search samples, import (preview first), splits, export."""
import streamlit as st

from core.data.exporter import MEDIA_TYPES
from ui import data_import
from ui import data_view as view
from ui import safe
from ui.links import open_on_pick
from ui.coverage_view import coverage_line
from ui.state import require_project

st.title("Data")
project = require_project()
info = view.info(project)
stats = info.stats

cols = st.columns(6)
cols[0].metric("Samples", f"{stats['samples']:,}")
cols[1].metric("Labelled", f"{stats['labeled']:,}")
for col, split in zip(cols[2:], ("train", "dev", "test", "unassigned")):
    col.metric(split.capitalize(), f"{stats['splits'][split]:,}")
st.text(view.label_counts(stats))  # always one line, so the tabs below keep their place
if stats["samples"]:
    coverage_line(project)  # the default encoder's; the Train page shows the chosen model's

# keyed: the chosen tab survives reruns (after an import the page stays on the Import tab)
browse, upload, splits, download = st.tabs(["Browse", "Import", "Splits", "Export"], key="data_tab")

with browse:
    c1, c2, c3 = st.columns([4, 1, 1])
    search = c1.text_input("Search text", key="data_search", placeholder="words in the text")
    split = c2.selectbox("Split", view.SPLIT_CHOICES, key="data_split")
    status = c3.selectbox("Status", view.STATUS_CHOICES, key="data_status")
    total = view.count_samples(project, split, status, search)
    pages = max(1, -(-total // view.PAGE_SIZE))
    if st.session_state.get("data_page", 1) > pages:  # the filter shrank the result: back to its last page
        st.session_state["data_page"] = pages
    rows = view.page_of_samples(project, split, status, search, st.session_state.get("data_page", 1) - 1)
    st.caption("Pick a row to label that sample.")
    open_on_pick(rows, "data_samples", "ui/pages/label.py", lambda row: {"project": project, "sample": row["id"]},
                 hidden=("label",), width="stretch",
                 column_config={"text": st.column_config.TextColumn("Text", width="large")})
    st.number_input(f"Page (of {pages:,}; {total:,} samples match)", 1, pages, key="data_page")

with upload:
    data_import.render(project, info)

with splits:
    st.caption("Shuffle with a fixed seed and give samples train/dev/test by ratio.")
    c1, c2, c3, c4 = st.columns(4)
    train = c1.number_input("Train", 0.0, 1.0, 0.8, 0.05, key="split_train")
    dev = c2.number_input("Dev", 0.0, 1.0, 0.1, 0.05, key="split_dev")
    test = c3.number_input("Test", 0.0, 1.0, 0.1, 0.05, key="split_test")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 13, key="split_seed")
    only = st.checkbox("Only samples without a split (unassigned)", True, key="split_only_unassigned")
    if st.button("Assign splits", key="split_go"):
        try:
            counts = view.assign(project, train, dev, test, int(seed), only)
            st.session_state["split_message"] = ("success", "Assigned " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        except ValueError as exc:
            st.session_state["split_message"] = ("error", safe.md(exc))
        st.rerun()
    kind, text = st.session_state.pop("split_message", (None, None))
    if kind:
        getattr(st, kind)(text)

with download:
    c1, c2 = st.columns(2)
    out_fmt = c1.selectbox("Format", view.export_formats(info.task), key="export_format")
    out_split = c2.selectbox("Split", view.SPLIT_CHOICES, key="export_split")
    ready_key = f"export_ready_{project}_{out_fmt}_{out_split}"
    if st.button("Prepare export", key="export_prepare"):
        st.session_state[ready_key] = view.export(project, out_fmt, out_split)
    ready = st.session_state.get(ready_key)
    if ready:
        data, report, filename = ready
        st.caption(view.export_caption(report))
        st.download_button(f"Download {safe.md(filename)}", data, filename, MEDIA_TYPES[report["format"]], key="export_download")
