"""The Data page's Import tab: file, options (columns chosen among those the file has),
preview with every problem before anything is written, then one click to import."""
from __future__ import annotations

import streamlit as st

from core.base.errors import UserError
from core.data.formats import IMPORT_FORMATS
from ui import data_view as view

_preview = st.cache_data(max_entries=2, show_spinner="Checking the file…")(view.preview)  # not on every rerun
_columns = st.cache_data(max_entries=2, show_spinner=False)(view.column_choices)


def render(project: str, info: view.ProjectInfo) -> None:
    file = st.file_uploader("Data file", type=view.UPLOAD_TYPES, key="import_file")
    c1, c2 = st.columns(2)
    fmt = c1.selectbox("Format", ["auto", *IMPORT_FORMATS], key="import_format", help="auto: from the file extension")
    split_to = c2.selectbox("Put samples in split", [view.FROM_FILE, "train", "dev", "test", "unassigned"],
                            key="import_split")
    columns = _columns(file.name, file.getvalue(), fmt) if file is not None else []
    text_col, label_col = _column_boxes(columns)
    c5, c6 = st.columns(2)
    duplicates = c5.radio("Duplicates (same text after normalising spaces)", ["keep", "skip"], horizontal=True,
                          key="import_duplicates")
    decode = c6.checkbox("Decode HTML entities (&amp; → &, &#039; → ')", value=info.decode_entities,
                         key=f"import_decode_{project}", help="Remembered for this project")
    with st.expander("Hugging Face class ids"):
        tag_names = st.text_input("Class names in id order (A,B,C), for ner_tags or label ids", key="import_tag_names")
    skip = st.checkbox("Skip invalid lines (import the valid samples only)", key="import_skip_invalid")
    if file is None:
        _last_report(None)
        return
    data = file.getvalue()
    if view.is_bundle(file.name):
        _bundle(data)
        return
    try:
        request = view.import_request(project, file.name, fmt, split_to, text_col, label_col, skip, duplicates,
                                      decode, tag_names)
    except UserError as exc:
        st.error("These import options cannot be used:")
        st.text(str(exc))
        return
    check = _preview(request, data)
    _show_preview(check)
    done_key = view.digest(data, request)
    blocked = not check["records"] or (bool(check["errors"]) and not skip)
    if st.session_state.get("import_done") == done_key:
        st.success("This file was imported.")
    elif st.button(f"Import {view.plural(check['records'], 'sample')}", disabled=blocked, type="primary",
                   key="import_go"):
        st.session_state["import_report"] = view.run_import(request, data)
        st.session_state["import_done"] = done_key
        st.rerun()
    _last_report(done_key)


def _column_boxes(columns: list[str]) -> tuple[str, str]:
    c3, c4 = st.columns(2)
    if columns:
        choices = [view.DEFAULT_COLUMN, *columns]
        return (c3.selectbox("Text column", choices, key="import_text_choice"),
                c4.selectbox("Label column", choices, key="import_label_choice"))
    return (c3.text_input("Text column (csv/tsv/xlsx/json)", key="import_text_column", placeholder="text"),
            c4.text_input("Label column (csv/tsv/xlsx/json)", key="import_label_column", placeholder="label"))


def _show_preview(check: dict) -> None:
    st.text(view.summary(check))
    if check.get("scheme"):
        st.caption(check["scheme"]["description"])
    dupes = view.duplicates_text(check)
    if dupes:
        st.info(dupes)
    if check["errors"]:
        st.error("Nothing will be written while these lines are bad (unless invalid lines are skipped):")
        total = check.get("error_count", len(check["errors"]))
        if total > len(check["errors"]):
            st.caption(f"The first {len(check['errors']):,} of {total:,} problems:")
        st.dataframe(check["errors"], hide_index=True, width="stretch", key="import_errors")
    for warning in check["warnings"]:  # file contents can be quoted: shown as text, in a frame
        with st.container(border=True):
            st.text("⚠ " + view.warning_text(warning))
    st.dataframe(check["rows"], hide_index=True, width="stretch", key="import_preview")


def _last_report(done_key: str | None) -> None:
    """The report of the last import, while its file is still the one chosen (or none is)."""
    report = st.session_state.get("import_report")
    if report and (done_key is None or st.session_state.get("import_done") == done_key):
        dupes = report.get("duplicates") or {}
        skipped = f"; {view.plural(dupes['skipped'], 'duplicate')} skipped" if dupes.get("skipped") else ""
        st.success(f"Imported {view.plural(report['imported'], 'sample')} (skipped {report['skipped']:,}){skipped}")
        if report["labels_added"]:
            st.text("Labels added: " + ", ".join(report["labels_added"]))  # user strings: text, not Markdown


def _bundle(data: bytes) -> None:
    """A .tagtune file is a whole project: it becomes a new project, not samples of this one."""
    st.info("This is a project bundle: it creates a new project with its labels, samples and annotations.")
    name = st.text_input("Name of the new project (empty: the name in the bundle)", key="bundle_name")
    if st.button("Create the project", type="primary", key="bundle_go"):
        report = view.import_bundle(data, name)
        if report["errors"]:
            st.error("Nothing was created:")
            st.dataframe(report["errors"], hide_index=True, width="stretch", key="bundle_errors")
        else:
            st.success(f"Created the project with {view.plural(report['imported'], 'sample')}; choose it in the "
                       "sidebar:")
            st.text(report["project"])
