"""The labelling loop without the UI: queue, history, tasks, saving and speed.

The Label page keeps one ``History`` per project in its session and calls these functions;
everything here is plain Python over repository functions, so it is unit-tested without a
browser. Saving is one transaction per accept (the caller's ``with S.begin()``), checked
against the sample's version so two tabs never overwrite each other silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from core.text.spans import snap
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import Conflict
from db.models import Project

SUGGESTION_SOURCES = ("model", "llm")  # preferred first when a sample has both
# Recently seen samples the queue skips; bounded so the query stays small in long sessions
# (older ones are no longer in an "unlabeled" queue anyway once saved or skipped).
SEEN_LIMIT = 1000
SplitFilter = str | None  # None = every split
StatusFilter = str | None  # None = every status


@dataclass(frozen=True)
class QueueFilter:
    split: SplitFilter = None
    status: StatusFilter = "unlabeled"


@dataclass(frozen=True)
class History:
    """Samples seen in this session, oldest first; ``pos`` is the one shown (-1: none yet).

    ``since``: where the current queue filter started; the queue skips only the samples seen
    since then (a new filter, e.g. reviewing labelled samples, may serve earlier ones again).
    """

    ids: tuple[int, ...] = ()
    pos: int = -1
    since: int = 0

    @property
    def current(self) -> int | None:
        return self.ids[self.pos] if 0 <= self.pos < len(self.ids) else None

    @property
    def can_back(self) -> bool:
        return self.pos > 0

    @property
    def can_forward(self) -> bool:
        return self.pos < len(self.ids) - 1

    def open(self, sample_id: int) -> History:
        """Show ``sample_id`` next: drop the forward branch (as a browser does) and append it."""
        if self.current == sample_id:
            return self
        ids = self.ids[: self.pos + 1] + (sample_id,)
        return History(ids, len(ids) - 1, min(self.since, len(ids) - 1))

    def new_queue(self) -> History:
        """Past the end, for a new queue filter: Back still works, the queue starts afresh."""
        return History(self.ids, len(self.ids), len(self.ids))

    @property
    def seen(self) -> tuple[int, ...]:
        return self.ids[self.since :]

    def back(self) -> History:
        return replace(self, pos=self.pos - 1) if self.can_back else self

    def forward(self) -> History:
        return replace(self, pos=self.pos + 1) if self.can_forward else self


@dataclass(frozen=True)
class Task:
    """What the labeller shows for one sample."""

    sample_id: int
    version: int
    text: str
    tokens: list[tuple[int, int]]
    split: str
    status: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # Set when the spans/categories are a model's or an LLM's suggestions, not a person's.
    suggestion_source: str | None = None
    suggestion_confidence: float | None = None


@dataclass(frozen=True)
class Progress:
    labeled: int
    total: int

    @property
    def fraction(self) -> float:
        return self.labeled / self.total if self.total else 0.0


@dataclass(frozen=True)
class SaveOutcome:
    """Result of an accept or skip: saved (with the new version) or a conflict message."""

    saved: bool
    version: int
    message: str = ""


def load_task(session: Session, sample_id: int) -> Task:
    """The sample with its human labels, or, when no person has labelled it yet, the newest
    model/LLM suggestions pre-filled and marked as such."""
    human = sample_repo.annotations_of(session, sample_id, source="human")
    task = Task(
        sample_id=human.id, version=human.version, text=human.text,
        tokens=[(int(s), int(e)) for s, e in human.tokens], split=human.split, status=human.status,
        spans=list(human.spans), categories=list(human.categories),
    )
    # A labelled sample with nothing on it is a person saying "no entities": keep it empty.
    if human.spans or human.categories or human.status == "labeled":
        return task
    for source in SUGGESTION_SOURCES:
        suggested = sample_repo.annotations_of(session, sample_id, source=source)
        if suggested.spans or suggested.categories:
            return replace(
                task, spans=without_overlaps(suggested.spans), categories=list(suggested.categories),
                suggestion_source=source, suggestion_confidence=suggested.confidence,
            )
    return task


def without_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Suggested spans a person could save: an LLM may propose overlapping ones, and the
    labeller cannot show or store those; the earlier (then longer) one wins."""
    kept: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans, key=lambda x: (x[0], x[0] - x[1])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, label))
    return kept


def next_sample(session: Session, project: Project, queue: QueueFilter, seen: tuple[int, ...] = ()) -> int | None:
    """The next sample to label under ``queue``, skipping those already seen this session."""
    found = sample_repo.queue_ids(session, project, status=queue.status, split=queue.split, limit=1, exclude=seen)
    return found[0] if found else None


def advance(session: Session, project: Project, history: History, queue: QueueFilter) -> History:
    """Move on after an accept or skip: forward through history first, then the queue.

    When the queue is exhausted the history points past its end (``current`` is None) and
    ``back`` still returns to the last sample.
    """
    if history.can_forward:
        return history.forward()
    found = next_sample(session, project, queue, seen=history.seen[-SEEN_LIMIT:])
    if found is None:
        return replace(history, pos=len(history.ids))
    return history.open(found)


def snap_spans(tokens: list[tuple[int, int]], spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Widen every span to whole word tokens (the browser already does; a stale or hand-made
    request must not store a half word). Raises when a span covers no token."""
    snapped = []
    for start, end, label in spans:
        whole = snap(tokens, int(start), int(end))
        if whole is None:
            raise ValueError(
                f"span [{start}, {end}) {label!r} covers no word token of the sample; select whole words"
            )
        snapped.append((whole[0], whole[1], str(label)))
    return sorted(set(snapped))


def accept(
    session: Session,
    sample_id: int,
    version: int,
    spans: list[tuple[int, int, str]] | None = None,
    categories: list[str] | None = None,
    annotator: str | None = None,
    seconds: float = 0.0,
) -> SaveOutcome:
    """Save a person's labels (the suggestions they accepted become human labels).

    On a version conflict nothing is written and the outcome carries the message; the caller
    rolls back and reloads the task to show the current state.
    """
    try:
        if spans is not None:
            tokens = [(int(s), int(e)) for s, e in sample_repo.get_sample(session, sample_id).tokens]
            spans = snap_spans(tokens, spans)
        sample = sample_repo.save_annotations(
            session, sample_id, version, spans=spans, categories=categories, status="labeled",
            annotator=annotator, seconds=max(0.0, float(seconds)),
        )
    except Conflict as exc:
        return SaveOutcome(False, exc.current_version, str(exc))
    return SaveOutcome(True, sample.version)


def skip(session: Session, sample_id: int, version: int, annotator: str | None = None) -> SaveOutcome:
    try:
        sample = sample_repo.set_status(session, sample_id, version, "skipped", annotator=annotator)
    except Conflict as exc:
        return SaveOutcome(False, exc.current_version, str(exc))
    return SaveOutcome(True, sample.version)


def progress(session: Session, project: Project, split: SplitFilter = None) -> Progress:
    _, labeled = sample_repo.list_samples(session, project, split=split, status="labeled", limit=0)
    _, total = sample_repo.list_samples(session, project, split=split, limit=0)
    return Progress(labeled, total)


def samples_per_hour(done: int, started_at: float | None, now: float) -> float | None:
    """Session speed: samples saved per hour since the first one was shown; None until one is saved."""
    if not done or started_at is None or now <= started_at:
        return None
    return done * 3600.0 / (now - started_at)


@dataclass(frozen=True)
class View:
    """Everything the Label page shows for one step, read in one transaction.

    ``after`` is where the history goes once the current sample is saved or skipped and
    ``next_task`` the sample shown then: the labeller shows it the moment Enter is pressed
    while the save travels to the server (the server answers with the same sample).
    """

    project_id: int
    task_kind: str  # "ner" | "classification"
    multilabel: bool
    labels: list[dict]
    progress: Progress
    task: Task | None
    after: History | None = None
    next_task: Task | None = None


def load_view(session: Session, project_name: str, history: History, queue: QueueFilter) -> View:
    project = project_repo.get_project(session, project_name)
    current = history.current
    after = advance(session, project, history, queue) if current is not None else None
    return View(
        project_id=project.id, task_kind=project.task, multilabel=bool(project.multilabel),
        labels=label_palette(session, project), progress=progress(session, project, queue.split),
        task=load_task(session, current) if current is not None else None,
        after=after,
        next_task=load_task(session, after.current) if after is not None and after.current is not None else None,
    )


def label_palette(session: Session, project: Project) -> list[dict]:
    """Labels as the labellers need them: name, colour and hotkey, in project order."""
    return [
        {"name": l.name, "colour": l.colour, "hotkey": l.hotkey or "", "description": l.description or ""}
        for l in project_repo.labels_of(session, project)
    ]
