"""The labelling loop without the UI: queue, history, tasks, saving and speed.

The Label page keeps one ``History`` per project in its session and calls these functions;
everything here is plain Python over repository functions, so it is unit-tested without a
browser. ``save`` is one transaction per accept or skip, checked against the sample's version
so two tabs never overwrite each other silently: however a lost race surfaces (the version
check, a stale ORM flush, a foreign key or lock error), the outcome is the same conflict message.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.text.spans import snap
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import Conflict, NotFound
from db.models import Project, Sample

SUGGESTION_SOURCES = ("model", "llm")  # preferred first when a sample has both
# Recently seen samples the queue skips; bounded so the query stays small in long sessions
# (older ones are no longer in an "unlabeled" queue anyway once saved or skipped).
SEEN_LIMIT = 1000
LOOKAHEAD = 8  # samples sent ahead of the one shown: the labeller moves on without waiting
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
    draft: bool = False  # spans/categories are this person's unsaved edits, restored


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


def load_task(session: Session, sample_id: int, annotator: str | None = None) -> Task:
    """One sample as the labeller shows it (see ``load_tasks``)."""
    found = load_tasks(session, [sample_id], annotator)
    if not found:
        raise NotFound(f"no sample with id {sample_id}")
    return found[0]


def load_tasks(session: Session, sample_ids: list[int], annotator: str | None = None) -> list[Task]:
    """The samples in the given order, each with, first to last choice: this person's draft made
    on the current version, the human labels, or (when no person has labelled it yet) the newest
    model/LLM suggestions pre-filled and marked as such. A few queries for all of them."""
    if not sample_ids:
        return []
    project = session.get(Project, sample_repo.get_sample(session, sample_ids[0]).project_id)
    human = {r.id: r for r in sample_repo.iter_labeled(session, project, statuses=None, sample_ids=sample_ids)}
    drafts = sample_repo.drafts_of(session, sample_ids, annotator)
    # A labelled sample with nothing on it is a person saying "no entities": keep it empty.
    bare = [i for i, r in human.items() if not (r.spans or r.categories or r.status == "labeled")]
    suggested: dict[int, tuple[str, sample_repo.LabeledSample]] = {}
    for source in SUGGESTION_SOURCES:
        wanted = [i for i in bare if i not in suggested]
        if not wanted:
            break
        for row in sample_repo.iter_labeled(session, project, statuses=None, source=source, sample_ids=wanted):
            if row.spans or row.categories:
                suggested[row.id] = (source, row)
    tasks = []
    for sample_id in sample_ids:
        row = human.get(sample_id)
        if row is None:
            continue  # deleted meanwhile
        task = Task(
            sample_id=row.id, version=row.version, text=row.text, tokens=[(int(s), int(e)) for s, e in row.tokens],
            split=row.split, status=row.status, spans=list(row.spans), categories=list(row.categories),
        )
        draft = drafts.get(sample_id)
        if draft and draft[0] == row.version:
            task = replace(task, spans=[tuple(x) for x in draft[1].get("spans", task.spans)],
                           categories=list(draft[1].get("categories", task.categories)), draft=True)
        elif sample_id in suggested:
            source, found = suggested[sample_id]
            task = replace(task, spans=without_overlaps(found.spans), categories=list(found.categories),
                           suggestion_source=source, suggestion_confidence=found.confidence)
        tasks.append(task)
    return tasks


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
    """Save a person's labels (the suggestions they accepted become human labels) and drop their
    draft of the sample. On a version conflict nothing is written and the outcome carries the
    message; the caller rolls back and reloads the task to show the current state."""
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
    sample_repo.delete_draft(session, sample_id, annotator)
    return SaveOutcome(True, sample.version)


def skip(session: Session, sample_id: int, version: int, annotator: str | None = None) -> SaveOutcome:
    try:
        sample = sample_repo.set_status(session, sample_id, version, "skipped", annotator=annotator)
    except Conflict as exc:
        return SaveOutcome(False, exc.current_version, str(exc))
    sample_repo.delete_draft(session, sample_id, annotator)
    return SaveOutcome(True, sample.version)


# A lost race can surface as any of these, depending on the database and the moment: the ORM's
# version check at flush, a foreign key to a row deleted meanwhile, or a lock that never came.
RACE_ERRORS = (StaleDataError, IntegrityError, OperationalError)


def save(
    S: sessionmaker[Session],
    sample_id: int,
    version: int,
    *,
    skipped: bool = False,
    spans: list[tuple[int, int, str]] | None = None,
    categories: list[str] | None = None,
    annotator: str | None = None,
    seconds: float = 0.0,
    then=None,
) -> SaveOutcome:
    """Accept (or skip) in one transaction of its own; ``then(session)`` runs in the same
    transaction after a successful save (the Label page moves its history there).

    Every optimistic-lock failure, however it surfaces, returns the same conflict outcome
    (nothing written); other errors in the request (an unknown label, overlapping spans) raise
    ValueError as before. A database error on a sample whose version did not move is no race
    and is raised."""
    try:
        with S.begin() as s:
            if skipped:
                outcome = skip(s, sample_id, version, annotator=annotator)
            else:
                outcome = accept(s, sample_id, version, spans=spans, categories=categories,
                                 annotator=annotator, seconds=seconds)
            if outcome.saved and then is not None:
                then(s)
            return outcome  # a conflict wrote nothing: the version check comes before any write
    except NotFound:
        return SaveOutcome(False, 0, f"sample {sample_id} was deleted elsewhere; your change was not saved")
    except RACE_ERRORS as exc:
        with S.begin() as s:
            current = s.get(Sample, sample_id)
            if current is None:
                return SaveOutcome(False, 0, f"sample {sample_id} was deleted elsewhere; your change was not saved")
            if current.version != version:
                return SaveOutcome(False, current.version, sample_repo.conflict_message(
                    sample_id, version, current.version, current.annotator))
            if isinstance(exc, OperationalError):
                return SaveOutcome(False, version, f"the database stayed busy ({exc.orig}); your change to sample "
                                                   f"{sample_id} was not saved: press Enter to save it again")
            raise


def progress(session: Session, project: Project, split: SplitFilter = None) -> Progress:
    counts = sample_repo.status_counts(session, project, split)
    return Progress(counts.get("labeled", 0), sum(counts.values()))


def samples_per_hour(done: int, started_at: float | None, now: float) -> float | None:
    """Session speed: samples saved per hour since the first one was shown; None until one is saved."""
    if not done or started_at is None or now <= started_at:
        return None
    return done * 3600.0 / (now - started_at)


@dataclass(frozen=True)
class View:
    """Everything the Label page shows for one step, read in one transaction.

    ``tasks``: the current sample first, then the next ones in the order the labeller will show
    them (forward history, then the queue): it moves on at once on Enter while saves travel."""

    project_id: int
    task_kind: str  # "ner" | "classification"
    multilabel: bool
    labels: list[dict]
    progress: Progress
    tasks: list[Task]

    @property
    def task(self) -> Task | None:
        return self.tasks[0] if self.tasks else None


def upcoming(session: Session, project: Project, history: History, queue: QueueFilter,
             n: int = LOOKAHEAD) -> list[int]:
    """Ids shown after the current sample, in order: the forward history, then the queue."""
    ahead = list(history.ids[history.pos + 1 :]) if history.current is not None else []
    ahead = ahead[:n]
    if len(ahead) < n:
        seen = tuple(history.seen[-SEEN_LIMIT:]) + tuple(ahead)
        ahead += sample_repo.queue_ids(session, project, status=queue.status, split=queue.split,
                                       limit=n - len(ahead), exclude=seen)
    return ahead


def load_view(session: Session, project_name: str, history: History, queue: QueueFilter,
              annotator: str | None = None, lookahead: int = LOOKAHEAD) -> View:
    project = project_repo.get_project(session, project_name)
    current = history.current
    ids = [current, *upcoming(session, project, history, queue, lookahead)] if current is not None else []
    return View(
        project_id=project.id, task_kind=project.task, multilabel=bool(project.multilabel),
        labels=label_palette(session, project), progress=progress(session, project, queue.split),
        tasks=load_tasks(session, ids, annotator),
    )


def label_palette(session: Session, project: Project) -> list[dict]:
    """Labels as the labellers need them: name, colour and hotkey, in project order."""
    return [
        {"name": l.name, "colour": l.colour if project_repo.HEX_COLOUR.match(l.colour or "") else "#dddddd",
         "hotkey": l.hotkey or "", "description": l.description or ""}
        for l in project_repo.labels_of(session, project)
    ]
