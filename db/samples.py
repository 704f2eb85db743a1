"""Repository functions for samples and annotations. Session first; never commit."""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, Text, bindparam, cast, delete, func, insert, select, update
from sqlalchemy.orm import Session

from db import counts as count_cache
from db.errors import Conflict, NotFound
from db.models import Annotation, Draft, Label, Project, Sample, utcnow
from db.projects import touch

SpanRow = tuple[int, int, str]  # (start_char, end_char, label name)
QUEUE_FAST_LIMIT = 100  # queue_ids reads level by level up to this many ids
INSERT_CHUNK = 2000


@dataclass
class NewSample:
    text: str
    tokens: list[tuple[int, int]]
    split: str = "unassigned"
    status: str = "unlabeled"
    spans: list[SpanRow] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    # Who labelled it, when and how long (from the file); None: the import's annotator, now.
    annotator: str | None = None
    annotated_at: datetime | None = None
    seconds: float = 0.0
    priority: float = 0.0
    # Every annotation with its own source/annotator/time (project bundles); replaces spans/categories.
    annotations: list[dict] | None = None


@dataclass
class LabeledSample:
    """A sample with its annotations of one source, as plain values (no ORM state)."""

    id: int
    text: str
    tokens: list[list[int]]
    split: str
    status: str
    meta: dict
    version: int
    spans: list[SpanRow]
    categories: list[str]
    confidence: float | None = None
    annotator: str | None = None
    annotated_at: str | None = None  # ISO 8601, UTC: the newest annotation, else the last save
    seconds: float = 0.0


def add_samples(
    session: Session,
    project: Project,
    samples: Iterable[NewSample],
    source: str = "human",
    annotator: str | None = None,
) -> int:
    """Bulk-insert samples and their annotations; labels must exist. Returns the count."""
    label_ids = dict(session.execute(select(Label.name, Label.id).where(Label.project_id == project.id)).all())
    count = 0
    chunk: list[NewSample] = []
    for sample in samples:
        chunk.append(sample)
        if len(chunk) >= INSERT_CHUNK:
            count += _insert_chunk(session, project.id, chunk, label_ids, source, annotator)
            chunk = []
    if chunk:
        count += _insert_chunk(session, project.id, chunk, label_ids, source, annotator)
    if count:
        touch(session, project.id)
    return count


def _insert_chunk(session, project_id, chunk, label_ids, source, annotator) -> int:
    now = utcnow()
    rows = [
        {
            "project_id": project_id,
            "text": s.text,
            "tokens": s.tokens,  # tuples serialise as JSON arrays
            "split": s.split,
            "status": s.status,
            "meta": s.meta,
            "priority": s.priority,
            "seconds_spent": s.seconds,
            "version": 1,
            "updated_at": s.annotated_at or now,
            "annotator": (s.annotator or annotator) if s.status != "unlabeled" else s.annotator,
        }
        for s in chunk
    ]
    ids = _insert_returning_ids(session, rows)
    ann_rows = []
    for sample_id, s in zip(ids, chunk):
        if s.annotations is not None:
            ann_rows += [
                _ann(sample_id, label_ids[a["label"]], a.get("start"), a.get("end"), a["source"], a.get("annotator"),
                     a.get("created_at") or now, a.get("confidence"), None, a.get("seconds") or 0.0)
                for a in s.annotations
            ]
            continue
        who, when = s.annotator or annotator, s.annotated_at or now
        for start, end, label in s.spans:
            ann_rows.append(_ann(sample_id, label_ids[label], start, end, source, who, when, seconds=s.seconds))
        for label in s.categories:
            ann_rows.append(_ann(sample_id, label_ids[label], None, None, source, who, when, seconds=s.seconds))
    if ann_rows:
        session.execute(insert(Annotation.__table__), ann_rows)
    return len(ids)


def _insert_returning_ids(session: Session, rows: list[dict]) -> list[int]:
    """Ids of the inserted rows, in the order of ``rows``.

    SQLite has no implicit insert sentinel, so ``sort_by_parameter_order`` falls back to one
    INSERT per row (a large share of a 100k-sample import). SQLite gives new rowids in insertion
    order while the transaction holds the write lock, so sorting the batched RETURNING ids
    restores row order. Other databases (PostgreSQL) keep SQLAlchemy's sentinel ordering.
    """
    table = Sample.__table__  # Core insert: the ORM bulk path costs more than SQLite itself here
    if session.get_bind().dialect.name == "sqlite":
        return sorted(session.scalars(insert(table).returning(table.c.id), rows).all())
    return list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).all())


def _ann(sample_id, label_id, start, end, source, annotator, now, confidence=None, run_id=None, seconds=0.0):
    return {
        "sample_id": sample_id, "label_id": label_id, "start_char": start, "end_char": end,
        "source": source, "annotator": annotator, "created_at": now, "confidence": confidence,
        "run_id": run_id, "seconds": seconds,
    }


def get_sample(session: Session, sample_id: int) -> Sample:
    sample = session.get(Sample, sample_id)
    if sample is None:
        raise NotFound(f"no sample with id {sample_id}")
    return sample


def _filtered(project: Project, split: str | None, status: str | None, search: str | None) -> Select:
    query = select(Sample).where(Sample.project_id == project.id)
    if split:
        query = query.where(Sample.split == split)
    if status:
        query = query.where(Sample.status == status)
    if search:
        query = query.where(Sample.text.contains(search, autoescape=True))
    return query


def list_samples(
    session: Session,
    project: Project,
    split: str | None = None,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Sample], int]:
    query = _filtered(project, split, status, search)
    if search:  # a substring of the text: no index helps, the count reads every matching row
        total = session.scalar(query.with_only_columns(func.count(Sample.id)).order_by(None))
    else:  # by split and status: the maintained counts
        total = sum(n for (sp, st_), n in count_cache.counts(session, project.id).by_split_status.items()
                    if (not split or sp == split) and (not status or st_ == status))
    rows = session.scalars(query.order_by(Sample.id).offset(offset).limit(limit)).all() if limit else []
    return list(rows), int(total or 0)


def sample_ids(session: Session, project: Project, split: str | None = None, limit: int = 500) -> list[int]:
    """The first ``limit`` sample ids of the project (of one split), in id order: an index read."""
    query = select(Sample.id).where(Sample.project_id == project.id)
    if split:
        query = query.where(Sample.split == split)
    return list(session.scalars(query.order_by(Sample.id).limit(limit)))


def iter_labeled(
    session: Session,
    project: Project,
    splits: Iterable[str] | None = None,
    statuses: Iterable[str] | None = ("labeled",),
    source: str = "human",
    sample_ids: Iterable[int] | None = None,
    batch: int = 5000,
) -> Iterator[LabeledSample]:
    """Samples in id order with their annotations of ``source``, streamed in batches."""
    query = select(
        Sample.id, Sample.text, Sample.tokens, Sample.split, Sample.status, Sample.meta, Sample.version,
        Sample.annotator, Sample.updated_at, Sample.seconds_spent,
    ).where(Sample.project_id == project.id)
    if splits is not None:
        query = query.where(Sample.split.in_(list(splits)))
    if statuses is not None:
        query = query.where(Sample.status.in_(list(statuses)))
    if sample_ids is not None:  # by primary key, in chunks: no walk over the project's rows
        wanted = sorted(set(sample_ids))
        for i in range(0, len(wanted), batch):
            chunk = query.where(Sample.id.in_(wanted[i : i + batch])).order_by(Sample.id)
            yield from _with_annotations(session, session.execute(chunk).all(), source)
        return
    last_id = 0
    while True:
        rows = session.execute(query.where(Sample.id > last_id).order_by(Sample.id).limit(batch)).all()
        yield from _with_annotations(session, rows, source)
        if len(rows) < batch:
            return  # the last batch: asking again would only walk the index past it
        last_id = rows[-1].id


def _with_annotations(session: Session, rows, source: str) -> Iterator[LabeledSample]:
    if not rows:
        return
    ids = [r.id for r in rows]
    anns: dict[int, list] = {i: [] for i in ids}
    for a in session.execute(
        select(Annotation.sample_id, Annotation.start_char, Annotation.end_char, Label.name, Annotation.confidence,
               Annotation.created_at)
        .join(Label, Label.id == Annotation.label_id)
        .where(Annotation.sample_id.in_(ids), Annotation.source == source)
        .order_by(Annotation.sample_id, Annotation.start_char, Annotation.id)
    ):
        anns[a.sample_id].append(a)
    for r in rows:
        spans = [(a.start_char, a.end_char, a.name) for a in anns[r.id] if a.start_char is not None]
        cats = [a.name for a in anns[r.id] if a.start_char is None]
        confs = [a.confidence for a in anns[r.id] if a.confidence is not None]
        when = max((a.created_at for a in anns[r.id]), default=None)
        if when is None and r.status != "unlabeled":
            when = r.updated_at
        yield LabeledSample(
            r.id, r.text, r.tokens, r.split, r.status, r.meta or {}, r.version, spans, cats,
            min(confs) if confs else None, r.annotator, when.isoformat() if when else None,
            r.seconds_spent or 0.0,
        )


def iter_texts(
    session: Session, project: Project, splits: Iterable[str] | None = None, batch: int = 5000
) -> Iterator[tuple[str, list[list[int]]]]:
    """``(text, word offsets)`` of the project's samples in id order, streamed in batches."""
    query = select(Sample.id, Sample.text, Sample.tokens).where(Sample.project_id == project.id)
    if splits is not None:
        query = query.where(Sample.split.in_(list(splits)))
    last_id = 0
    while True:
        rows = session.execute(query.where(Sample.id > last_id).order_by(Sample.id).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield r.text, r.tokens
        last_id = rows[-1].id


def split_size(session: Session, project: Project, split: str, status: str = "labeled") -> tuple[int, int]:
    """(samples, words) of one split's samples in ``status``, counted by the database (one
    aggregate over the tokens' JSON arrays, on SQLite and PostgreSQL alike) instead of loading
    every sample: the Train page asks on every run."""
    count, words = session.execute(
        select(func.count(), func.coalesce(func.sum(func.json_array_length(Sample.tokens)), 0))
        .where(Sample.project_id == project.id, Sample.split == split, Sample.status == status)
    ).one()
    return int(count), int(words)


def text_fingerprint(session: Session, project: Project) -> tuple[int, int, int]:
    """(samples, highest id, total text length): changes when samples are added or removed
    (texts are never edited in place), so caches of per-text figures key on it."""
    count, top, length = session.execute(
        select(func.count(), func.coalesce(func.max(Sample.id), 0), func.coalesce(func.sum(func.length(Sample.text)), 0))
        .where(Sample.project_id == project.id)
    ).one()
    return int(count), int(top), int(length)


def annotations_of(session: Session, sample_id: int, source: str = "human") -> LabeledSample:
    sample = get_sample(session, sample_id)
    project = session.get(Project, sample.project_id)
    found = list(iter_labeled(session, project, statuses=None, source=source, sample_ids=[sample_id]))
    return found[0]


def conflict_message(sample_id: int, expected: int, found: int, annotator: str | None) -> str:
    return (
        f"sample {sample_id} was changed elsewhere (you had version {expected}, the database has {found}, "
        f"saved by {annotator or 'someone'}); your change was not saved: review the current labels and save again"
    )


def _claim(session: Session, sample_id: int, expected_version: int, **values) -> tuple[Sample, str]:
    """Write ``values`` to the sample and bump its version, only if the version is still
    ``expected_version``: one conditional UPDATE, so the check and the write are one atomic step
    on every database (it also takes the row's write lock before anything else is written).
    Returns the sample and the status it had. Raises Conflict when someone saved it since."""
    table = Sample.__table__
    # Every status change bumps the version, so with the version check this read is exact.
    before = session.scalar(select(table.c.status).where(table.c.id == sample_id))
    done = session.execute(
        update(table).where(table.c.id == sample_id, table.c.version == expected_version)
        .values(version=table.c.version + 1, updated_at=utcnow(), **values)
    ).rowcount
    sample = session.get(Sample, sample_id, populate_existing=True)
    if sample is None:
        raise NotFound(f"no sample with id {sample_id} (deleted meanwhile?)")
    if not done:
        raise Conflict(conflict_message(sample_id, expected_version, sample.version, sample.annotator), sample.version)
    return sample, before


def _human_label_ids(session: Session, sample_id: int) -> Counter:
    return Counter(dict(session.execute(
        select(Annotation.label_id, func.count(Annotation.id))
        .where(Annotation.sample_id == sample_id, Annotation.source == "human").group_by(Annotation.label_id)
    ).all()))


def save_annotations(
    session: Session,
    sample_id: int,
    expected_version: int,
    spans: list[SpanRow] | None = None,
    categories: list[str] | None = None,
    status: str = "labeled",
    annotator: str | None = None,
    seconds: float = 0.0,
) -> Sample:
    """Replace the human annotations of a sample, checking its version (optimistic lock).

    Raises Conflict when the sample was saved by someone else since ``expected_version``
    was read; the caller shows the current state and lets the user redo the change.
    """
    sample = get_sample(session, sample_id)
    if sample.version != expected_version:  # the common case, before any write
        raise Conflict(conflict_message(sample_id, expected_version, sample.version, sample.annotator), sample.version)
    label_ids = dict(session.execute(select(Label.name, Label.id).where(Label.project_id == sample.project_id)).all())
    rows = [(s, e, l) for s, e, l in (spans or [])] + [(None, None, l) for l in (categories or [])]
    unknown = sorted({l for _, _, l in rows if l not in label_ids})
    if unknown:
        raise ValueError(f"unknown label {unknown[0]!r}: expected one of {sorted(label_ids)}; add it on the Projects page")
    _check_no_overlap([(s, e, l) for s, e, l in rows if s is not None], sample.text)
    table = Sample.__table__
    sample, before = _claim(session, sample_id, expected_version, status=status, annotator=annotator,
                            seconds_spent=table.c.seconds_spent + max(0.0, seconds))
    removed = _human_label_ids(session, sample_id)
    now = utcnow()
    session.execute(delete(Annotation).where(Annotation.sample_id == sample_id, Annotation.source == "human"))
    if rows:
        session.execute(
            insert(Annotation),
            [_ann(sample_id, label_ids[l], s, e, "human", annotator, now, seconds=seconds) for s, e, l in rows],
        )
    old, new = touch(session, sample.project_id)
    count_cache.record_save(session, sample.project_id, old, new, sample.split, before, status, removed,
                            Counter(label_ids[l] for _, _, l in rows))
    return sample


def _check_no_overlap(spans: list[SpanRow], text: str) -> None:
    ordered = sorted(spans)
    for (s1, e1, l1), (s2, e2, l2) in zip(ordered, ordered[1:]):
        if s2 < e1:
            raise ValueError(
                f"spans overlap: {l1} {text[s1:e1]!r} and {l2} {text[s2:e2]!r}; NER spans must not overlap, remove one"
            )


def set_status(session: Session, sample_id: int, expected_version: int, status: str, annotator: str | None = None) -> Sample:
    sample = get_sample(session, sample_id)
    if sample.version != expected_version:
        raise Conflict(conflict_message(sample_id, expected_version, sample.version, sample.annotator), sample.version)
    sample, before = _claim(session, sample_id, expected_version, status=status, annotator=annotator)
    old, new = touch(session, sample.project_id)
    count_cache.record_save(session, sample.project_id, old, new, sample.split, before, status, Counter(), Counter())
    return sample


def queue_ids(
    session: Session,
    project: Project,
    status: str | None = "unlabeled",
    split: str | None = None,
    limit: int = 1,
    exclude: Iterable[int] = (),
) -> list[int]:
    """Ids of the next samples to label: highest priority first, then oldest."""
    query = select(Sample.id).where(Sample.project_id == project.id)
    if status:
        query = query.where(Sample.status == status)
    if split:
        query = query.where(Sample.split == split)
    excluded = list(exclude)
    if excluded:
        query = query.where(Sample.id.not_in(excluded))
    if limit > QUEUE_FAST_LIMIT:
        return list(session.scalars(query.order_by(Sample.priority.desc(), Sample.id).limit(limit)))
    # ORDER BY priority DESC, id ASC cannot walk ix_samples_queue (mixed directions) and sorts
    # every matching row (~70 ms at 100k samples). Instead, per priority level, highest first:
    # find the level by a reverse index scan, then read its oldest ids in index order.
    found: list[int] = []
    below: float | None = None
    while len(found) < limit:
        level = query if below is None else query.where(Sample.priority < below)
        top = session.scalar(level.with_only_columns(Sample.priority).order_by(Sample.priority.desc()).limit(1))
        if top is None:
            break
        found += session.scalars(query.where(Sample.priority == top).order_by(Sample.id).limit(limit - len(found)))
        below = top
    return found


def set_priorities(session: Session, priorities: dict[int, float]) -> None:
    # Core-table executemany: the ORM bulk UPDATE needs every row's version (version_id_col),
    # and a queue reorder must not bump versions (it would conflict with open labelling tabs).
    if priorities:
        table = Sample.__table__
        stmt = update(table).where(table.c.id == bindparam("sid")).values(priority=bindparam("pri"))
        session.execute(stmt, [{"sid": k, "pri": v} for k, v in priorities.items()])


def stats(session: Session, project: Project) -> dict:
    """Samples per status and split, human annotations per label (maintained counts: db.counts)."""
    found = count_cache.counts(session, project.id)
    by_status: Counter = Counter()
    splits: Counter = Counter()
    for (split, status), n in found.by_split_status.items():
        by_status[status] += n
        splits[split] += n
    labels = {l.id: l.name for l in session.scalars(
        select(Label).where(Label.project_id == project.id).order_by(Label.position, Label.id))}
    return {
        "samples": sum(by_status.values()),
        "labeled": by_status["labeled"],
        "skipped": by_status["skipped"],
        "unlabeled": by_status["unlabeled"],
        "splits": {s: splits[s] for s in ("train", "dev", "test", "unassigned")},
        "labels": {name: found.by_label[label_id] for label_id, name in labels.items()},
    }


def status_counts(session: Session, project: Project, split: str | None = None) -> dict[str, int]:
    """Samples per status, of one split or all (maintained counts: db.counts)."""
    found = count_cache.counts(session, project.id)
    out: Counter = Counter()
    for (s, status), n in found.by_split_status.items():
        if split is None or s == split:
            out[status] += n
    return {status: n for status, n in out.items() if n}


# ---- Drafts: a person's unsaved edits, kept as they are made -------------------------------


def save_draft(session: Session, sample_id: int, annotator: str | None, version: int, edits: dict) -> None:
    """Keep ``edits`` ({"spans": [...]} or {"categories": [...]}) made on ``version`` of the sample."""
    who = annotator or ""
    draft = session.scalar(select(Draft).where(Draft.sample_id == sample_id, Draft.annotator == who))
    if draft is None:
        get_sample(session, sample_id)  # a clear NotFound instead of a foreign-key error
        session.add(Draft(sample_id=sample_id, annotator=who, version=version, edits=edits, updated_at=utcnow()))
    else:
        draft.version, draft.edits, draft.updated_at = version, edits, utcnow()
    session.flush()


def drafts_of(session: Session, sample_ids: Iterable[int], annotator: str | None) -> dict[int, tuple[int, dict]]:
    """sample id -> (version, edits) of this person's drafts among ``sample_ids``."""
    ids = list(sample_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Draft.sample_id, Draft.version, Draft.edits).where(Draft.sample_id.in_(ids), Draft.annotator == (annotator or ""))
    )
    return {r.sample_id: (int(r.version), dict(r.edits or {})) for r in rows}


def delete_draft(session: Session, sample_id: int, annotator: str | None) -> None:
    session.execute(delete(Draft).where(Draft.sample_id == sample_id, Draft.annotator == (annotator or "")))


def assign_splits(
    session: Session,
    project: Project,
    ratios: dict[str, float],
    seed: int = 13,
    only_unassigned: bool = True,
) -> dict[str, int]:
    """Shuffle samples with a fixed seed and give them splits by ratio (ratios sum to 1)."""
    bad = [k for k in ratios if k not in ("train", "dev", "test")]
    if bad:
        raise ValueError(f"unknown split {bad[0]!r}: expected train, dev or test")
    total = sum(ratios.values())
    if any(v < 0 for v in ratios.values()) or abs(total - 1.0) > 1e-6:
        raise ValueError(f"split ratios must be non-negative and sum to 1, found {ratios} (sum {total:g})")
    query = select(Sample.id).where(Sample.project_id == project.id)
    if only_unassigned:
        query = query.where(Sample.split == "unassigned")
    ids = list(session.scalars(query.order_by(Sample.id)))
    random.Random(seed).shuffle(ids)
    counts, start = {}, 0
    names = [k for k in ("train", "dev", "test") if k in ratios]
    for i, name in enumerate(names):
        n = len(ids) - start if i == len(names) - 1 else round(len(ids) * ratios[name])
        chosen = ids[start : start + n]
        start += n
        for j in range(0, len(chosen), 900):
            session.execute(update(Sample).where(Sample.id.in_(chosen[j : j + 900])).values(split=name))
        counts[name] = len(chosen)
    touch(session, project.id)
    return counts


def replace_suggestions(
    session: Session,
    sample_id: int,
    source: str,
    spans: list[tuple[int, int, str, float]] = (),
    categories: list[tuple[str, float]] = (),
    run_id: int | None = None,
) -> None:
    """Store model/LLM suggestions (with confidence) for a sample, replacing older ones of that source."""
    if source == "human":
        raise ValueError("suggestions come from 'model' or 'llm', not 'human'")
    sample = get_sample(session, sample_id)
    label_ids = dict(session.execute(select(Label.name, Label.id).where(Label.project_id == sample.project_id)).all())
    now = utcnow()
    session.execute(delete(Annotation).where(Annotation.sample_id == sample_id, Annotation.source == source))
    rows = [_ann(sample_id, label_ids[l], s, e, source, None, now, confidence=c, run_id=run_id) for s, e, l, c in spans]
    rows += [_ann(sample_id, label_ids[l], None, None, source, None, now, confidence=c, run_id=run_id) for l, c in categories]
    if rows:
        session.execute(insert(Annotation), rows)




def labeled_versions(
    session: Session, project: Project, splits: Iterable[str], sample_ids: Iterable[int] | None = None
) -> list[tuple[int, int]]:
    """(id, version) of the labelled samples of ``splits`` in id order: one indexed query, enough
    to tell whether anything a cached score depends on has changed (a relabel bumps the version)."""
    query = select(Sample.id, Sample.version).where(
        Sample.project_id == project.id, Sample.split.in_(list(splits)), Sample.status == "labeled"
    )
    if sample_ids is not None:
        query = query.where(Sample.id.in_(list(sample_ids)))
    return [(int(i), int(v)) for i, v in session.execute(query.order_by(Sample.id))]


def iter_for_bundle(session: Session, project: Project, batch: int = 5000) -> Iterator[tuple]:
    """Every sample in id order (a row of its columns) with all its annotations (every source,
    rows with the label name): what a project bundle carries. Plain rows, no ORM objects."""
    # tokens and meta as the JSON text the database holds: a bundle writes them as they are
    columns = (Sample.id, Sample.text, cast(Sample.tokens, Text).label("tokens_json"), Sample.split, Sample.status,
               cast(Sample.meta, Text).label("meta_json"), Sample.priority, Sample.annotator, Sample.seconds_spent,
               Sample.updated_at)
    last_id = 0
    while True:
        rows = session.execute(
            select(*columns).where(Sample.project_id == project.id, Sample.id > last_id).order_by(Sample.id).limit(batch)
        ).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        anns: dict[int, list] = {i: [] for i in ids}
        for a in session.execute(
            select(Annotation.sample_id, Label.name, Annotation.start_char, Annotation.end_char, Annotation.source,
                   Annotation.annotator, Annotation.created_at, Annotation.seconds, Annotation.confidence)
            .join(Label, Label.id == Annotation.label_id)
            .where(Annotation.sample_id.in_(ids)).order_by(Annotation.sample_id, Annotation.id)
        ):
            anns[a.sample_id].append(a)
        for r in rows:
            yield r, anns[r.id]
        last_id = ids[-1]
