"""Label: the queue of samples and the keyboard-first labellers (NER spans, categories)."""
import time

import streamlit as st

from core.labeling.queue import QueueFilter, samples_per_hour
from ui import label_view as view
from ui.annotator import choose_annotator
from ui.components.cat_labeller import cat_labeller
from ui.components.ner_labeller import ner_labeller
from ui.state import query_int, require_project

st.title("Label")
project = require_project("then import data on the Data page")
state = view.state_for(project)

with st.sidebar:
    annotator = choose_annotator()
    split = st.selectbox("Split", list(view.SPLITS), key="label_split")
    status = st.selectbox("Show", list(view.STATUSES), key="label_status")
    view.queue_order_box(project)
    st.caption("Keys: label hotkeys · ←/→ move · shift+←/→ extend · Enter accept · s skip · "
               "⌫ undo, then back to the previous sample · ctrl+z undo · Esc clear · PgUp/PgDn back/forward")

view.set_queue(project, state, QueueFilter(split=view.SPLITS[split], status=view.STATUSES[status]))
view.follow_url(project, state, query_int("sample"))


@st.fragment
def labelling() -> None:
    """Reruns alone on every labeller sync: the sidebar and the rest of the page stay as they are."""
    view.ensure_current(project, state)
    data = view.load_view(project, state, annotator)
    st.session_state["label_ctx"] = {
        "project": project, "project_id": data.project_id, "task": data.task_kind, "annotator": annotator,
    }
    progress = data.progress
    speed = samples_per_hour(state.done, state.started_at, time.time())
    st.progress(progress.fraction, text=f"{progress.labeled:,} of {progress.total:,} labelled")
    st.caption(f"This session: {state.done} saved" + (f" · {speed:,.0f} samples/hour" if speed else ""))
    if data.task is None:
        st.query_params.pop("sample", None)
        if progress.total == 0:
            where = f"in the {split} split" if view.SPLITS[split] else "in this project"
            st.info(f"No samples {where} yet: import a file on the Data page or with `cli.py import`.")
            return
        st.success("Nothing left in this queue: no other sample matches the sidebar filters. "
                   "Pick “Skipped” or “Labelled (review)” there to go over those.")
        if state.history.can_back and st.button("Back to the last sample"):
            state.move(state.history.back())
            st.rerun(scope="fragment")
        return
    if st.query_params.get("sample") != str(data.task.sample_id):
        st.query_params["sample"] = str(data.task.sample_id)
    state.url_sample = data.task.sample_id
    labeller = ner_labeller if data.task_kind == "ner" else cat_labeller
    key = view.component_key(data.task_kind)
    labeller(view.component_data(data, state), key=key, on_sync=lambda: view.handle_sync(key))


labelling()
