"""Sample and annotation repository functions, and the invariants the database enforces."""
import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from db import projects as project_repo
from db import samples as repo
from db.errors import Conflict
from db.models import Annotation, Label


@pytest.fixture
def project(S):
    with S.begin() as s:
        p = project_repo.create_project(s, "p", "ner", ["person", "loc"])
        repo.add_samples(s, p, [
            repo.NewSample(f"Ann {i} Rome", [(0, 3), (4, 4 + len(str(i))), (5 + len(str(i)), 9 + len(str(i)))],
                           spans=[(0, 3, "person")] if i % 2 else [], status="labeled" if i % 2 else "unlabeled")
            for i in range(10)
        ])
        return p.id


def _project(s):
    return project_repo.get_project(s, "p")


def test_add_samples_keeps_order_and_attaches_annotations_to_the_right_sample(S, project):
    with S.begin() as s:
        rows = list(repo.iter_labeled(s, _project(s), statuses=None))
    assert [r.text for r in rows] == [f"Ann {i} Rome" for i in range(10)]
    assert [bool(r.spans) for r in rows] == [bool(i % 2) for i in range(10)]
    assert rows[1].tokens == [[0, 3], [4, 5], [6, 10]]


def test_add_samples_in_several_chunks(S, monkeypatch):
    monkeypatch.setattr(repo, "INSERT_CHUNK", 7)
    with S.begin() as s:
        p = project_repo.create_project(s, "big", "classification", ["a", "b"])
        count = repo.add_samples(s, p, [repo.NewSample(str(i), [(0, len(str(i)))], status="labeled",
                                                       categories=["a" if i % 3 else "b"]) for i in range(30)])
    with S.begin() as s:
        rows = list(repo.iter_labeled(s, project_repo.get_project(s, "big"), batch=4))
    assert count == 30 and [r.text for r in rows] == [str(i) for i in range(30)]
    assert [r.categories for r in rows] == [["a" if i % 3 else "b"] for i in range(30)]


def test_list_samples_filters_searches_and_pages(S, project):
    with S.begin() as s:
        p = _project(s)
        rows, total = repo.list_samples(s, p, status="labeled", offset=2, limit=2)
        assert total == 5 and [r.text for r in rows] == ["Ann 5 Rome", "Ann 7 Rome"]
        assert repo.list_samples(s, p, search="Ann 1")[1] == 1
        assert repo.list_samples(s, p, search="%")[1] == 0  # LIKE wildcards are escaped


def test_save_annotations_checks_the_version(S, project):
    with S.begin() as s:
        sample_id = repo.list_samples(s, _project(s))[0][0].id
        repo.save_annotations(s, sample_id, 1, spans=[(4, 5, "loc")], annotator="ann")
    with S.begin() as s:
        assert repo.annotations_of(s, sample_id).spans == [(4, 5, "loc")]
        assert repo.get_sample(s, sample_id).version == 2
    with S.begin() as s, pytest.raises(Conflict, match="changed elsewhere") as caught:
        repo.save_annotations(s, sample_id, 1, spans=[])
    assert caught.value.current_version == 2


def test_save_annotations_refuses_overlaps_and_unknown_labels(S, project):
    with S.begin() as s:
        sample_id = repo.list_samples(s, _project(s))[0][0].id
        with pytest.raises(ValueError, match="spans overlap"):
            repo.save_annotations(s, sample_id, 1, spans=[(0, 5, "loc"), (4, 9, "person")])
        with pytest.raises(ValueError, match="unknown label 'org'"):
            repo.save_annotations(s, sample_id, 1, spans=[(0, 3, "org")])


@pytest.mark.parametrize("start, end", [(5, 5), (6, 2), (-1, 2), (3, None)])
def test_the_database_refuses_spans_with_start_not_before_end(S, project, start, end):
    with S.begin() as s:
        sample_id = repo.list_samples(s, _project(s))[0][0].id
        label_id = s.query(Label.id).filter(Label.name == "loc").scalar()
    with pytest.raises(IntegrityError, match="ck_annotations_span|CHECK"):
        with S.begin() as s:
            s.execute(insert(Annotation), [{"sample_id": sample_id, "label_id": label_id, "start_char": start,
                                            "end_char": end, "source": "human"}])


def test_assign_splits_is_deterministic_for_a_seed(S, project):
    def assignment(seed):
        with S.begin() as s:
            p = _project(s)
            counts = repo.assign_splits(s, p, {"train": 0.6, "dev": 0.2, "test": 0.2}, seed=seed, only_unassigned=False)
            return counts, [r.split for r in repo.list_samples(s, p, limit=100)[0]]

    first, again, other = assignment(13), assignment(13), assignment(7)
    assert first == again and first[0] == {"train": 6, "dev": 2, "test": 2}
    assert other[1] != first[1]
    with S.begin() as s, pytest.raises(ValueError, match="sum to 1"):
        repo.assign_splits(s, _project(s), {"train": 0.5, "test": 0.2})


def test_assign_splits_leaves_assigned_samples_alone_by_default(S, project):
    with S.begin() as s:
        p = _project(s)
        repo.assign_splits(s, p, {"test": 1.0}, only_unassigned=False)
        assert repo.assign_splits(s, p, {"train": 1.0}) == {"train": 0}
        assert repo.stats(s, p)["splits"]["test"] == 10


def test_stats_counts_samples_statuses_and_human_annotations(S, project):
    with S.begin() as s:
        stats = repo.stats(s, _project(s))
    assert (stats["samples"], stats["labeled"], stats["unlabeled"]) == (10, 5, 5)
    assert stats["labels"] == {"person": 5, "loc": 0}


def test_split_size_counts_samples_and_words_as_loading_them_would(S):
    with S.begin() as s:
        p = project_repo.create_project(s, "sizes", "ner", ["person"])
        repo.add_samples(s, p, [
            repo.NewSample("Ann met Bo", [(0, 3), (4, 7), (8, 10)], split="train", status="labeled"),
            repo.NewSample("Hi", [(0, 2)], split="train", status="labeled"),
            repo.NewSample("Not yet labelled here", [(0, 3), (4, 7), (8, 16), (17, 21)], split="train"),
            repo.NewSample("A dev one", [(0, 1), (2, 5), (6, 9)], split="dev", status="labeled"),
        ])
    with S.begin() as s:
        p = project_repo.get_project(s, "sizes")
        loaded = list(repo.iter_labeled(s, p, splits=["train"]))
        assert repo.split_size(s, p, "train") == (len(loaded), sum(len(r.tokens) for r in loaded)) == (2, 4)
        assert repo.split_size(s, p, "dev") == (1, 3)
        assert repo.split_size(s, p, "test") == (0, 0)
