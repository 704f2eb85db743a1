"""Streamlit glue for the Label page: per-project session state, the action callback and
the data the labeller components receive. Logic lives in core.labeling.queue."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import streamlit as st

from core.labeling import active
from core.labeling import queue as labeling
from core.labeling.queue import History, QueueFilter, Task
from core.base.store import sessions
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import NotFound

SPLITS = {"All splits": None, "train": "train", "dev": "dev", "test": "test", "unassigned": "unassigned"}
STATUSES = {"Unlabelled": "unlabeled", "Skipped": "skipped", "Labelled (review)": "labeled", "Any status": None}


@dataclass
class LabelState:
    """What the Label page remembers about one project in this browser session."""

    history: History = field(default_factory=History)
    queue: QueueFilter = field(default_factory=QueueFilter)
    actions: int = 0  # bumped on every handled action: part of the labeller's reset nonce
    message: str = ""
    kind: str = ""
    done: int = 0
    started_at: float | None = None
    url_sample: int | None = None  # the ?sample= we last honoured or wrote
    drafts: dict[int, tuple[int, dict]] = field(default_factory=dict)  # sample -> (version, edits)

    def say(self, message: str = "", kind: str = "info") -> None:
        self.message, self.kind = message, kind if message else ""


def component_key(task: str) -> str:
    return f"labeller_{task}"  # one per component kind: switching projects never mixes their state


def state_for(project: str) -> LabelState:
    states = st.session_state.setdefault("label_states", {})
    return states.setdefault(project, LabelState())


def queue_order(project_name: str) -> tuple[str, str]:
    """(the order the project's queue follows, one sentence saying so) as the database has it."""
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        return project.queue_order, active.describe_queue(s, project)


def queue_order_box(project_name: str) -> None:
    """The queue-order box, showing the order the queue follows now, and a line saying so."""
    order, note = queue_order(project_name)
    key = f"label_order_{project_name}_{order}"  # a pass that reorders the queue redraws the box
    st.selectbox("Queue order", active.QUEUE_ORDERS, index=active.QUEUE_ORDERS.index(order),
                 format_func=active.ORDER_NAMES.get, key=key,
                 on_change=lambda: apply_order(project_name, st.session_state[key]))
    with st.container(key="queue_order_note"):
        st.caption(note)


def apply_order(project_name: str, order: str) -> None:
    """on_change of the queue-order box: reorder the unlabelled samples and remember the order."""
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        summary = active.reorder_queue(s, project, order, project.queue_aggregate)
    state = state_for(project_name)
    state.history = state.history.new_queue()  # the next sample comes from the new order
    state.actions += 1  # new data for the labeller, which hands the keys back from the dropdown
    state.say(summary["message"], "info")


def set_queue(project_name: str, state: LabelState, queue: QueueFilter) -> None:
    """A new filter shows the next sample that matches it (history stays for Back)."""
    if queue == state.queue:
        return
    state.queue = queue
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        state.history = labeling.advance(s, project, state.history.new_queue(), queue)
    state.actions += 1
    state.say()


def follow_url(project_name: str, state: LabelState, wanted: int | None) -> None:
    """``?sample=ID`` (a link from the Data page) opens that sample once."""
    if wanted is None or wanted == state.url_sample:
        return
    state.url_sample = wanted
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        try:
            sample = sample_repo.get_sample(s, wanted)
        except NotFound:
            state.say(f"There is no sample {wanted} (deleted?); showing the queue instead.", "error")
            return
        if sample.project_id != project.id:
            return  # left in the URL from the project picked before: not a request for this one
    state.history = state.history.open(wanted)
    state.actions += 1


def ensure_current(project_name: str, state: LabelState) -> None:
    if state.history.current is not None:
        return  # past the end of the queue it looks again: new samples may have been imported
    with sessions().begin() as s:
        state.history = labeling.advance(s, project_repo.get_project(s, project_name), state.history, state.queue)


def handle_action() -> None:
    """on_action_change callback: runs before the page script, so the rerun that follows
    already shows the next sample (one round trip per accept)."""
    ctx = st.session_state.get("label_ctx")
    payload = (st.session_state.get(component_key(ctx["task"])) or {}).get("action") if ctx else None
    if not isinstance(payload, dict):
        return
    state = state_for(ctx["project"])
    stale = payload.get("nonce") != nonce(ctx["project_id"], state)
    state.actions += 1  # always: the labeller waits for new data to unlock
    state.say()
    if stale:
        state.say("That key press was for a sample no longer shown; nothing was saved. Here is the current one.")
        return
    try:
        _dispatch(ctx, state, payload)
    except (ValueError, LookupError) as exc:
        state.say(str(exc), "error")


def _dispatch(ctx: dict, state: LabelState, payload: dict) -> None:
    kind, sample_id, version = payload.get("type"), int(payload["sample_id"]), int(payload["version"])
    edits = {k: payload[k] for k in ("spans", "categories") if k in payload}
    if kind in ("back", "forward"):
        state.drafts[sample_id] = (version, edits)
        state.history = state.history.back() if kind == "back" else state.history.forward()
        return
    if state.started_at is None:
        state.started_at = time.time() - float(payload.get("seconds") or 0.0)
    S = sessions()
    with S.begin() as s:
        if kind == "accept":
            spans = [(int(a), int(b), str(l)) for a, b, l in edits["spans"]] if "spans" in edits else None
            outcome = labeling.accept(
                s, sample_id, version, spans=spans, categories=edits.get("categories"),
                annotator=ctx["annotator"], seconds=float(payload.get("seconds") or 0.0),
            )
        else:
            outcome = labeling.skip(s, sample_id, version, annotator=ctx["annotator"])
        if not outcome.saved:  # nothing was written: the version check comes first
            state.say(outcome.message + _unsaved_note(edits, sample_repo.get_sample(s, sample_id).text), "error")
            return
        state.drafts.pop(sample_id, None)
        state.done += kind == "accept"
        state.history = labeling.advance(s, project_repo.get_project(s, ctx["project"]), state.history, state.queue)


def _unsaved_note(edits: dict, text: str) -> str:
    """What the person tried to save, in words ("PER “Bob”"), so they can redo it."""
    if "spans" in edits:
        shown = ", ".join(f"{l} “{text[int(a):int(b)]}”" for a, b, l in sorted(edits["spans"])) or "no spans"
    else:
        shown = ", ".join(edits.get("categories") or []) or "no label"
    return f" (Your unsaved version had: {shown}.)"


def nonce(project_id: int, state: LabelState, history: History | None = None, actions: int | None = None) -> str:
    """Identity of what the labeller shows; a new one resets it to the data Python sends."""
    history = history or state.history
    return f"{project_id}:{history.current}:{state.actions if actions is None else actions}"


def load_view(project_name: str, state: LabelState) -> labeling.View:
    with sessions().begin() as s:
        return labeling.load_view(s, project_name, state.history, state.queue)


def component_data(view: labeling.View, state: LabelState) -> dict:
    data = _task_data(view, view.task, state, state.history, nonce(view.project_id, state))
    data["message"] = state.message or data["message"]
    data["message_kind"] = state.kind if state.message else "info"
    if view.next_task is not None:
        # After an accept or skip the callback bumps ``actions`` once and moves to ``after``.
        after_nonce = nonce(view.project_id, state, view.after, state.actions + 1)
        data["next"] = _task_data(view, view.next_task, state, view.after, after_nonce)
    return data


def _task_data(view: labeling.View, task: Task, state: LabelState, history: History, key: str) -> dict:
    spans, categories, note = task.spans, task.categories, ""
    draft = state.drafts.get(task.sample_id)
    if draft and draft[0] == task.version:
        spans = draft[1].get("spans", spans)
        categories = draft[1].get("categories", categories)
        note = "Your unsaved changes to this sample are restored."
    suggested = task.suggestion_source and not (draft and draft[0] == task.version)
    return {
        "nonce": key, "sample_id": task.sample_id, "version": task.version,
        "text": task.text, "tokens": [list(t) for t in task.tokens], "spans": [list(x) for x in spans],
        "categories": list(categories), "labels": view.labels, "multilabel": view.multilabel,
        "suggestion": {"source": task.suggestion_source, "confidence": task.suggestion_confidence} if suggested else None,
        "split": task.split, "status": task.status, "position": "",
        "message": note, "message_kind": "info",
        "can_back": history.can_back, "can_forward": history.can_forward,
    }
