"""Project and label repository functions against a real database."""
import pytest
from sqlalchemy.exc import IntegrityError

from db import projects as repo
from db.errors import AlreadyExists, NotFound
from db.models import Label


def test_create_get_and_list(S):
    with S.begin() as s:
        repo.create_project(s, "  tweets ", "ner", ["person", "location"])
        repo.create_project(s, "reviews", "classification", ["pos", "neg"], multilabel=True)
    with S.begin() as s:
        assert [p.name for p in repo.list_projects(s)] == ["reviews", "tweets"]
        p = repo.get_project(s, "tweets")
        labels = repo.labels_of(s, p)
        assert [(l.name, l.hotkey, l.position) for l in labels] == [("person", "1", 0), ("location", "2", 1)]
        assert labels[0].colour != labels[1].colour
        assert repo.get_project(s, "reviews").multilabel is True


@pytest.mark.parametrize(
    "args, message",
    [
        (("", "ner"), "expected a project name"),
        (("x", "sentiment"), "expected task 'ner' or 'classification', found 'sentiment'"),
        (("x", "ner", [], True), "multilabel applies to classification"),
    ],
)
def test_bad_projects_are_refused_with_the_fix(S, args, message):
    with S.begin() as s, pytest.raises(ValueError, match=message):
        repo.create_project(s, *args)


def test_duplicates_and_missing_projects(S):
    with S.begin() as s:
        repo.create_project(s, "a", "ner")
    with S.begin() as s, pytest.raises(AlreadyExists, match="already exists"):
        repo.create_project(s, "a", "ner")
    with S.begin() as s, pytest.raises(NotFound, match="known projects: a"):
        repo.get_project(s, "b")


def test_update_labels_sets_colours_hotkeys_order_and_adds(S):
    with S.begin() as s:
        p = repo.create_project(s, "p", "ner", ["a", "b"])
        repo.update_labels(s, p, [repo.LabelSpec("b", "#000000", "x", "bees"), repo.LabelSpec("c", None, "y")])
    with S.begin() as s:
        labels = repo.labels_of(s, repo.get_project(s, "p"))
        got = {l.name: (l.position, l.colour, l.hotkey, l.description) for l in labels}
        assert got["b"] == (0, "#000000", "x", "bees")
        assert got["c"][0] == 1 and got["c"][2] == "y"
        assert "a" in got  # labels not listed are kept


@pytest.mark.parametrize("keys, message", [(("s", None), "not usable"), (("k", "k"), "more than one label"),
                                           (("ab", None), "not usable")])
def test_unusable_or_duplicate_hotkeys_are_refused(S, keys, message):
    with S.begin() as s:
        p = repo.create_project(s, "p", "ner", ["a", "b"])
        with pytest.raises(ValueError, match=message):
            repo.update_labels(s, p, [repo.LabelSpec("a", None, keys[0]), repo.LabelSpec("b", None, keys[1])])


def test_label_names_are_unique_per_project_in_the_database(S):
    with S.begin() as s:
        p = repo.create_project(s, "p", "ner", ["a"])
        pid = p.id
    with pytest.raises(IntegrityError):
        with S.begin() as s:
            s.add(Label(project_id=pid, name="a"))


def test_delete_label_removes_it(S):
    with S.begin() as s:
        p = repo.create_project(s, "p", "ner", ["a", "b"])
        repo.delete_label(s, p, "a")
        assert [l.name for l in repo.labels_of(s, p)] == ["b"]
        with pytest.raises(NotFound):
            repo.delete_label(s, p, "zzz")


def _labelled_project(s, name="news"):
    from core.text.tokenize import word_offsets
    from db import samples as sample_repo

    project = repo.create_project(s, name, "ner", ["PER"])
    texts = ["Ann met Bob .", "Cara left .", "Dan ."]
    sample_repo.add_samples(s, project, [sample_repo.NewSample(t, word_offsets(t), split=split)
                                         for t, split in zip(texts, ("train", "test", "test"))])
    return project, sample_repo.queue_ids(s, project, status=None, limit=10)


def test_rename_keeps_everything_and_refuses_a_taken_name(S):
    with S.begin() as s:
        project, ids = _labelled_project(s)
        repo.create_project(s, "other", "ner")
    with S.begin() as s:
        repo.rename_project(s, repo.get_project(s, "news"), "  tweets ")
    with S.begin() as s:
        renamed = repo.get_project(s, "tweets")
        assert renamed.id == project.id and [l.name for l in repo.labels_of(s, renamed)] == ["PER"]
        with pytest.raises(AlreadyExists, match="a project named 'other' already exists"):
            repo.rename_project(s, renamed, "other")
        with pytest.raises(ValueError, match="expected a new project name, found an empty one"):
            repo.rename_project(s, renamed, "  ")


def test_delete_removes_the_project_with_its_samples_and_runs_only(S):
    from sqlalchemy import func, select

    from db import runs as run_repo
    from db.models import Run, Sample

    with S.begin() as s:
        doomed, _ = _labelled_project(s, "doomed")
        kept, _ = _labelled_project(s, "kept")
        for p in (doomed, kept):
            run_repo.create_run(s, p, "finetune", {})
    with S.begin() as s:
        repo.delete_project(s, repo.get_project(s, "doomed"))
    with S.begin() as s:
        assert [p.name for p in repo.list_projects(s)] == ["kept"]
        assert s.scalar(select(func.count()).select_from(Sample)) == 3
        assert [r.project_id for r in s.scalars(select(Run))] == [kept.id]


def test_split_counts_and_known_annotators(S):
    from db import samples as sample_repo

    with S.begin() as s:
        project, ids = _labelled_project(s)
        sample_repo.save_annotations(s, ids[1], 1, spans=[(0, 4, "PER")], annotator="ada")
        sample_repo.set_status(s, ids[2], 1, "skipped", annotator="bob")
    with S.begin() as s:
        counts = repo.split_counts(s, repo.get_project(s, "news"))
        assert counts["test"] == {"samples": 2, "labeled": 1, "unlabeled": 0}
        assert counts["train"] == {"samples": 1, "labeled": 0, "unlabeled": 1}
        assert counts["dev"] == {"samples": 0, "labeled": 0, "unlabeled": 0}
        assert sorted(repo.annotators(s)) == ["ada", "bob"]

