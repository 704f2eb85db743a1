"""Projects: create a project, pick the current one, edit its labels (colours, hotkeys)."""
import streamlit as st

from ui import projects_view as view
from ui import safe
from ui.links import open_on_pick
from ui.state import current_project_name

st.title("Projects")
project = current_project_name()
view.show_message("projects_message")

rows = view.overview()
if rows:
    st.caption("Pick a row to open the project's data.")
    open_on_pick(rows, "projects_table", "ui/pages/data.py", lambda row: {"project": row["project"]},
                 hidden=("data",), width="stretch")
else:
    st.info("No project yet: create one below, or restart with the demo projects.")

# Not an st.form: the multi-label box appears only once the task is classification.
with st.expander("Create a project", expanded=not rows):
    st.text_input("Name", key="new_project_name", placeholder="e.g. Tweets NER")
    task = st.radio("Task", ["ner", "classification"], key="new_project_task", horizontal=True,
                    format_func=lambda t: {"ner": "Named entities (spans)", "classification": "Text classification"}[t])
    st.text_input("Labels (comma-separated, optional)", key="new_project_labels", placeholder="person, location")
    if task == "classification":
        st.checkbox("Several labels per text (multi-label classification)", key="new_project_multilabel")
    st.button("Create project", on_click=view.create_from_form, type="primary", key="create_project")

if project is None:
    st.stop()

with st.expander(f"Rename or delete {safe.md(project)}"):
    view.rename_or_delete(project)

project_id, task, labels = view.label_rows(project)
st.subheader(f"Labels of {safe.md(project)}")
st.caption("Colours show on spans and buttons; a hotkey is one key (not `s`, which skips) that applies the label.")
edits = {}
with st.form(f"labels_{project_id}", clear_on_submit=True):
    if not labels:
        st.info("No labels yet: add some below, or import labelled data.")
    for row in labels:
        name_col, colour_col, key_col, desc_col = st.columns([3, 1, 1, 5], vertical_alignment="bottom")
        name_col.markdown(
            f"<span style='background:{safe.colour(row.colour)};color:#111;padding:2px 8px;border-radius:4px'>"
            f"{safe.html(row.name)}</span>"
            f" <small>{row.count:,} annotations</small>",
            unsafe_allow_html=True,
        )
        edits[row.id] = view.LabelEdit(
            colour_col.color_picker("Colour", row.colour, key=view.widget_key(project_id, row, "colour")),
            key_col.text_input("Hotkey", row.hotkey, max_chars=1, key=view.widget_key(project_id, row, "hotkey")),
            desc_col.text_input("Description", row.description, key=view.widget_key(project_id, row, "description")),
        )
    new_names = st.text_input("Add labels (comma-separated)", key=f"add_labels_{project_id}")
    if st.form_submit_button("Save labels", type="primary"):
        st.session_state["labels_message"] = view.save_labels(project, labels, edits, new_names)
        st.rerun()
view.show_message("labels_message")

if labels:
    with st.expander("Delete a label"):
        doomed = st.selectbox("Label", [r.name for r in labels], key=f"delete_label_{project_id}")
        count = next(r.count for r in labels if r.name == doomed)
        st.warning(f"Deleting “{safe.md(doomed)}” also deletes its {count:,} annotations. This cannot be undone.")
        sure = st.checkbox("I understand", key=f"delete_label_sure_{project_id}")
        if st.button("Delete label", disabled=not sure, key=f"delete_label_button_{project_id}"):
            st.session_state["labels_message"] = view.delete_label(project, doomed)
            st.rerun()
