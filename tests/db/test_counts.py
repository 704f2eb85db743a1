"""Maintained counts (db/counts.py): after any sequence of changes, what stats() says equals a
fresh count; a save moves the cached counts without counting again; a rolled-back save does not."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from db import counts as count_cache
from db import projects as project_repo
from db import samples as sample_repo
from db.models import Sample

TEXTS = ["Ann met Bob.", "Cara left Rome.", "Dan saw Eve.", "Fay ran."]


def _seed(S, name="p"):
    with S.begin() as s:
        project = project_repo.create_project(s, name, "ner", ["PER", "LOC"])
        sample_repo.add_samples(s, project, [
            sample_repo.NewSample(t, [], split=("train", "dev")[i % 2]) for i, t in enumerate(TEXTS)
        ])
        return project.id, sample_repo.queue_ids(s, project, status=None, limit=10)


def _stats(S, name="p") -> dict:
    with S.begin() as s:
        return sample_repo.stats(s, project_repo.get_project(s, name))


def _fresh(S, name="p") -> dict:
    count_cache._CACHE.clear()
    return _stats(S, name)


class _Counting:
    """Counts the GROUP BY split, status queries (a full count) issued meanwhile."""

    def __init__(self, S):
        self.engine, self.n = S.kw["bind"], 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args):
        self.n += "GROUP BY samples.split, samples.status" in statement


def test_saves_move_the_cached_counts_without_counting_again(S):
    _, ids = _seed(S)
    first = _stats(S)
    assert first["samples"] == 4 and first["unlabeled"] == 4 and first["splits"]["train"] == 2
    with _Counting(S) as counting:
        with S.begin() as s:
            sample_repo.save_annotations(s, ids[0], 1, spans=[(0, 3, "PER"), (8, 11, "PER")], annotator="a")
        with S.begin() as s:
            sample_repo.set_status(s, ids[1], 1, "skipped")
        with S.begin() as s:
            sample_repo.save_annotations(s, ids[0], 2, spans=[(8, 11, "LOC")], annotator="a")
        after = _stats(S)
    assert counting.n == 0  # moved by the saves' deltas
    assert after == _fresh(S)
    assert (after["labeled"], after["skipped"], after["unlabeled"]) == (1, 1, 2)
    assert after["labels"] == {"PER": 0, "LOC": 1}


def test_a_rolled_back_save_leaves_the_counts_as_they_were(S):
    _, ids = _seed(S)
    before = _stats(S)
    with pytest.raises(RuntimeError):
        with S.begin() as s:
            sample_repo.save_annotations(s, ids[0], 1, spans=[(0, 3, "PER")])
            raise RuntimeError("the caller failed after the save")
    assert _stats(S) == before == _fresh(S)


def test_imports_splits_and_label_changes_are_counted_again(S):
    _, ids = _seed(S)
    _stats(S)
    with S.begin() as s:
        project = project_repo.get_project(s, "p")
        sample_repo.add_samples(s, project, [sample_repo.NewSample("Gus.", [], status="labeled", categories=[])])
        sample_repo.assign_splits(s, project, {"train": 0.5, "dev": 0.25, "test": 0.25}, only_unassigned=False)
        project_repo.ensure_labels(s, project, [project_repo.LabelSpec("ORG")])
    with S.begin() as s:
        sample_repo.save_annotations(s, ids[2], 1, spans=[(0, 3, "PER")])
    with S.begin() as s:
        project_repo.delete_label(s, project_repo.get_project(s, "p"), "PER")
    seen = _stats(S)
    assert seen == _fresh(S)
    assert seen["samples"] == 5 and seen["labeled"] == 2 and seen["labels"] == {"LOC": 0, "ORG": 0}


def test_concurrent_saves_and_readers_end_with_exact_counts(S):
    """Threads saving different samples while others read the counts: the cache never holds a
    count that a fresh count would not give."""
    with S.begin() as s:
        project = project_repo.create_project(s, "busy", "ner", ["PER"])
        sample_repo.add_samples(s, project, [sample_repo.NewSample(f"Ann{i} ran.", [], split="train")
                                             for i in range(40)])
        ids = sample_repo.queue_ids(s, project, status=None, limit=100)
    errors = []

    def saver(chunk):
        try:
            for sample_id in chunk:
                with S.begin() as s:
                    sample_repo.save_annotations(s, sample_id, 1, spans=[(0, 4, "PER")])
        except Exception as exc:
            errors.append(repr(exc))

    def reader():
        try:
            for _ in range(30):
                _stats(S, "busy")
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=saver, args=(ids[i::4],)) for i in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seen = _stats(S, "busy")
    with S.begin() as s:
        assert s.query(Sample).filter(Sample.status == "labeled").count() == 40
    assert seen == _fresh(S, "busy") and seen["labeled"] == 40 and seen["labels"] == {"PER": 40}
