"""Every way a lost save race can surface ends as the same conflict outcome, never a traceback,
and nothing is lost or half-written (issue 11: StaleDataError, IntegrityError, locks)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.labeling import queue as labeling
from core.text.tokenize import word_offsets
from db import projects as project_repo
from db import samples as sample_repo
from db.models import Sample


def _seed(S, texts=("Ann met Bob in Rome.",)):
    with S.begin() as s:
        project = project_repo.create_project(s, "p", "ner", ["PER", "LOC"])
        sample_repo.add_samples(s, project, [sample_repo.NewSample(t, word_offsets(t), split="train") for t in texts])
        return sample_repo.queue_ids(s, project, status=None, limit=10)


def test_a_save_from_a_transaction_that_read_the_sample_before_the_other_tab_saved_is_a_conflict(S):
    """Both tabs read version 1; tab 1 commits; tab 2's read check passes on its stale copy.
    Before: StaleDataError at flush (a raw traceback on the page). Now: the conditional UPDATE
    finds version 2 and the outcome is the conflict, with nothing written."""
    ids = _seed(S)
    with S.begin() as late:
        stale = late.get(Sample, ids[0])  # tab 2's copy: version 1 (held: the identity map is weak)
        with S.begin() as first:
            assert labeling.accept(first, ids[0], 1, spans=[(0, 3, "PER")], annotator="tab1").saved
        outcome = labeling.accept(late, ids[0], stale.version, spans=[(8, 11, "PER")], annotator="tab2")
    assert not outcome.saved and outcome.version == 2
    assert "changed elsewhere" in outcome.message and "tab1" in outcome.message
    with S.begin() as s:
        row = sample_repo.annotations_of(s, ids[0])
        assert row.spans == [(0, 3, "PER")] and row.version == 2


@pytest.mark.parametrize("error", [StaleDataError("UPDATE statement on table 'samples' expected to update 1 row(s)"),
                                   IntegrityError("INSERT INTO annotations", {}, Exception("FOREIGN KEY"))])
def test_flush_and_constraint_errors_after_the_version_moved_become_the_conflict_message(S, monkeypatch, error):
    ids = _seed(S)
    real = sample_repo.save_annotations

    def racing(session, sample_id, *args, **kwargs):
        with S.begin() as other:  # the other tab wins meanwhile
            real(other, sample_id, 1, spans=[(0, 3, "PER")], annotator="tab1")
        raise error

    monkeypatch.setattr(sample_repo, "save_annotations", racing)
    outcome = labeling.save(S, ids[0], 1, spans=[(8, 11, "PER")], annotator="tab2")
    assert not outcome.saved and outcome.version == 2
    assert "changed elsewhere" in outcome.message and "your change was not saved" in outcome.message


def test_a_database_error_without_a_race_is_not_hidden(S, monkeypatch):
    ids = _seed(S)

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT INTO annotations", {}, Exception("CHECK constraint failed"))

    monkeypatch.setattr(sample_repo, "save_annotations", broken)
    with pytest.raises(IntegrityError):
        labeling.save(S, ids[0], 1, spans=[(0, 3, "PER")])


def test_a_sample_deleted_meanwhile_is_reported_not_raised(S):
    ids = _seed(S)
    with S.begin() as s:
        s.delete(s.get(Sample, ids[0]))
    outcome = labeling.save(S, ids[0], 1, spans=[(0, 3, "PER")])
    assert not outcome.saved and "deleted elsewhere" in outcome.message


def test_many_simultaneous_saves_of_one_sample_give_one_winner_and_conflicts_only(S):
    """Eight threads (eight tabs' script threads) save the same version at once: exactly one
    saves, the others get the conflict outcome, and the stored labels are the winner's."""
    ids = _seed(S)
    outcomes, errors = {}, []
    start = threading.Barrier(8)

    def tab(i: int) -> None:
        try:
            start.wait()
            outcomes[i] = labeling.save(S, ids[0], 1, spans=[(0, 3, "PER")] if i % 2 else [(15, 19, "LOC")],
                                        annotator=f"tab{i}")
        except Exception as exc:  # any traceback is a failure of this test
            errors.append(repr(exc))

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    winners = [i for i, o in outcomes.items() if o.saved]
    assert len(winners) == 1 and all("changed elsewhere" in o.message for o in outcomes.values() if not o.saved)
    with S.begin() as s:
        row = sample_repo.annotations_of(s, ids[0])
        sample = s.get(Sample, ids[0])
        assert row.version == 2 and sample.annotator == f"tab{winners[0]}"
        assert row.spans == ([(0, 3, "PER")] if winners[0] % 2 else [(15, 19, "LOC")])
