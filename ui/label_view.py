"""Streamlit glue for the Label page: per-project session state, the sync callback and the data
the labeller components receive. Logic lives in core.labeling.queue.

The labeller works ahead of the server. It holds the current sample and the next few (sent by
Python), moves on the moment Enter is pressed, and keeps an outbox of numbered entries: drafts
of edits as they are made, accepts, skips, back and forward. Every trigger carries all entries
Python has not acknowledged, so a trigger value that Streamlit coalesces with a later one loses
nothing; ``handle_sync`` applies each new entry once, in order (each save in a transaction of its
own) and acknowledges the highest number applied. Several saves are in flight at a fast pace,
and none waits for the page.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import streamlit as st

from core.base.store import sessions
from core.labeling import active
from core.labeling import queue as labeling
from core.labeling.queue import History, QueueFilter, Task
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import NotFound

SPLITS = {"All splits": None, "train": "train", "dev": "dev", "test": "test", "unassigned": "unassigned"}
STATUSES = {"Unlabelled": "unlabeled", "Skipped": "skipped", "Labelled (review)": "labeled", "Any status": None}
ACKED = "label_acked"  # session state: the highest outbox entry applied, across projects


@dataclass
class LabelState:
    """What the Label page remembers about one project in this browser session."""

    history: History = field(default_factory=History)
    queue: QueueFilter = field(default_factory=QueueFilter)
    resets: int = 0  # bumped whenever Python moves the labeller (filter, link, back, a refused save)
    message: str = ""
    kind: str = ""
    done: int = 0
    started_at: float | None = None
    url_sample: int | None = None  # the ?sample= we last honoured or wrote

    def say(self, message: str = "", kind: str = "info") -> None:
        self.message, self.kind = message, kind if message else ""

    def move(self, history: History, message: str = "", kind: str = "info") -> None:
        """Show ``history.current`` in the labeller, whatever it shows now."""
        self.history = history
        self.resets += 1
        self.say(message, kind)


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
    state.move(state.history.new_queue(), summary["message"])  # the next sample comes from the new order


def set_queue(project_name: str, state: LabelState, queue: QueueFilter) -> None:
    """A new filter shows the next sample that matches it (history stays for Back)."""
    if queue == state.queue:
        return
    state.queue = queue
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        state.move(labeling.advance(s, project, state.history.new_queue(), queue))


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
            state.resets += 1
            state.say(f"There is no sample {wanted} (deleted?); showing the queue instead.", "error")
            return
        if sample.project_id != project.id:
            return  # left in the URL from the project picked before: not a request for this one
    state.move(state.history.open(wanted))


def ensure_current(project_name: str, state: LabelState) -> None:
    if state.history.current is not None:
        return  # past the end of the queue it looks again: new samples may have been imported
    with sessions().begin() as s:
        state.history = labeling.advance(s, project_repo.get_project(s, project_name), state.history, state.queue)


# ---- The sync callback ------------------------------------------------------------------


def handle_sync(key: str) -> None:
    """on_sync_change callback of the labeller mounted with ``key``: runs before the labeller's
    fragment reruns, so the data it sends back already acknowledges these entries and lists the
    next samples. Each entry is applied to the project it was made in, even if the sidebar has
    switched project since."""
    ctx = st.session_state.get("label_ctx")
    value = (st.session_state.get(key) or {}).get("sync")
    if not ctx or not isinstance(value, dict):
        return
    entries = sorted((e for e in value.get("entries") or [] if isinstance(e, dict)), key=lambda e: int(e["seq"]))
    for entry in entries:
        seq = int(entry["seq"])
        if seq <= st.session_state.get(ACKED, 0):
            continue  # applied from an earlier trigger that carried it too
        project = _project_of(ctx, int(entry.get("project_id", -1)))
        if project is not None:
            apply_entry({**ctx, "project": project}, state_for(project), entry)
        st.session_state[ACKED] = seq


def _project_of(ctx: dict, project_id: int) -> str | None:
    if project_id == ctx["project_id"]:
        return ctx["project"]
    try:
        with sessions().begin() as s:
            return project_repo.get_project_by_id(s, project_id).name
    except NotFound:
        return None  # deleted meanwhile: its samples are gone too


def apply_entry(ctx: dict, state: LabelState, entry: dict) -> None:
    """One outbox entry: a draft, an accept or skip (one transaction), back or forward."""
    kind, sample_id = entry.get("type"), int(entry["sample_id"])
    S = sessions()
    if kind == "draft":
        edits = {k: entry[k] for k in ("spans", "categories") if k in entry}
        try:
            with S.begin() as s:
                sample_repo.save_draft(s, sample_id, ctx["annotator"], int(entry["version"]), edits)
        except NotFound:
            pass  # the sample was deleted: nothing to keep
        return
    here = state.history.current == sample_id  # else Python already moved the labeller elsewhere
    if kind == "back" and here:
        state.move(state.history.back())  # the labeller waits for the sample before
    if kind == "forward" and here:
        if entry.get("next") is None:
            state.move(state.history.forward())
        else:  # the labeller moved on by itself, to a sample it had: history follows it
            with S.begin() as s:
                state.history = _after(s, ctx["project"], state, entry["next"])
    if kind in ("back", "forward"):
        return
    if kind not in ("accept", "skip"):
        return
    if state.started_at is None:
        state.started_at = time.time() - float(entry.get("seconds") or 0.0)
    edits = {k: entry[k] for k in ("spans", "categories") if k in entry}
    spans = [(int(a), int(b), str(l)) for a, b, l in edits["spans"]] if "spans" in edits else None

    def moved_on(s) -> None:
        if here:
            state.history = _after(s, ctx["project"], state, entry.get("next"))

    try:
        outcome = labeling.save(
            S, sample_id, int(entry["version"]), skipped=kind == "skip", spans=spans,
            categories=edits.get("categories") if kind == "accept" else None, annotator=ctx["annotator"],
            seconds=float(entry.get("seconds") or 0.0), then=moved_on,
        )
    except (ValueError, LookupError) as exc:
        _back_to(state, sample_id, f"Sample #{sample_id} was not saved: {exc}" + _unsaved_note(S, sample_id, entry))
        return
    if not outcome.saved:  # nothing was written: show the sample as it is now, with the message
        _back_to(state, sample_id, f"Sample #{sample_id}: {outcome.message}" + _unsaved_note(S, sample_id, entry))
        return
    state.done += kind == "accept"


def _after(s, project_name: str, state: LabelState, shown_next) -> History:
    """Where the history goes after a save: to the sample the labeller moved on to (it showed one
    of the samples sent ahead), or along the queue when it had none left and waits."""
    history = state.history
    if shown_next is None:
        return labeling.advance(s, project_repo.get_project(s, project_name), history, state.queue)
    shown_next = int(shown_next)
    if history.can_forward and history.ids[history.pos + 1] == shown_next:
        return history.forward()
    return history.open(shown_next)


def _back_to(state: LabelState, sample_id: int, message: str) -> None:
    history = state.history
    if sample_id in history.ids:
        history = replace(history, pos=history.ids.index(sample_id))
    else:
        history = history.open(sample_id)
    state.move(history, message, "error")


def _unsaved_note(S, sample_id: int, entry: dict) -> str:
    """What the refused save had, in words, so the person can redo it on the current version."""
    if entry.get("type") == "skip":
        return " (You had pressed skip.)"
    if "spans" in entry:
        try:
            with S.begin() as s:
                text = sample_repo.get_sample(s, sample_id).text
        except NotFound:
            text = ""
        shown = ", ".join(f"{l} “{text[int(a):int(b)]}”" if text else f"{l} [{a}, {b})" for a, b, l in sorted(entry["spans"]))
    else:
        shown = ", ".join(entry.get("categories") or [])
    return f" (Your unsaved version had: {shown or 'no labels'}.)"


# ---- What the labeller receives -----------------------------------------------------------


def reset_key(project_id: int, state: LabelState) -> str:
    """Identity of where Python put the labeller; a new one moves it to ``tasks[0]``."""
    return f"{project_id}:{state.resets}"


def load_view(project_name: str, state: LabelState, annotator: str | None) -> labeling.View:
    with sessions().begin() as s:
        return labeling.load_view(s, project_name, state.history, state.queue, annotator)


def component_data(view: labeling.View, state: LabelState) -> dict:
    history = state.history
    forward = set(history.ids[history.pos + 1 :])
    return {
        "reset": reset_key(view.project_id, state), "acked": st.session_state.get(ACKED, 0),
        "project_id": view.project_id, "labels": view.labels, "multilabel": view.multilabel,
        "tasks": [_task_data(t, t.sample_id in forward) for t in view.tasks],
        "message": state.message, "message_kind": state.kind or "info",
        "can_back": history.can_back,
    }


def _task_data(task: Task, in_history: bool) -> dict:
    return {
        "sample_id": task.sample_id, "version": task.version,
        "text": task.text, "tokens": [list(t) for t in task.tokens], "spans": [list(x) for x in task.spans],
        "categories": list(task.categories),
        "suggestion": {"source": task.suggestion_source, "confidence": task.suggestion_confidence}
        if task.suggestion_source else None,
        "draft": task.draft, "split": task.split, "status": task.status, "position": "",
        "in_history": in_history,
    }
