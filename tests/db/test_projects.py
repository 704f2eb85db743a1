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
