"""Projects page in AppTest: create a project, pick it, edit its labels."""
import pytest
from streamlit.testing.v1 import AppTest

from db import projects as project_repo
from tests.conftest import ROOT

PAGE = str(ROOT / "ui" / "pages" / "projects.py")


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(query)
    return at.run()


def _labels(S, name):
    with S.begin() as s:
        return {l.name: (l.colour, l.hotkey, l.description)
                for l in project_repo.labels_of(s, project_repo.get_project(s, name))}


def _submit(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def test_create_a_project_and_it_becomes_the_current_one(S):
    at = _page()
    assert not at.exception
    assert "No project yet" in at.info[0].value
    at.text_input(key="new_project_name").input("Tweets")
    at.radio(key="new_project_task").set_value("ner")
    at.text_input(key="new_project_labels").input("person, place")
    at = _submit(at, "Create project")
    assert not at.exception
    assert "Created project 'Tweets'" in at.success[0].value
    assert at.selectbox(key="project_picker").value == "Tweets"
    assert list(_labels(S, "Tweets")) == ["person", "place"]
    assert at.dataframe[0].value["project"].tolist() == ["Tweets"]


def test_a_duplicate_name_shows_the_error_and_creates_nothing(S):
    with S.begin() as s:
        project_repo.create_project(s, "Tweets", "ner")
    at = _page()
    at.text_input(key="new_project_name").input("Tweets")
    at = _submit(at, "Create project")
    assert "already exists" in at.error[0].value
    with S.begin() as s:
        assert len(project_repo.list_projects(s)) == 1


@pytest.fixture
def labelled(S):
    with S.begin() as s:
        project_repo.create_project(s, "Reviews", "classification", ["pos", "neg"])
        project_repo.create_project(s, "Other", "ner")
    return S


def test_edit_colours_hotkeys_and_add_labels(labelled):
    at = _page(project="Reviews")
    assert at.selectbox(key="project_picker").value == "Reviews"
    at.color_picker[0].pick("#123456")  # one picker per label, in label order
    hotkeys = [t for t in at.text_input if t.label == "Hotkey"]
    hotkeys[1].input("n")
    next(t for t in at.text_input if t.label == "Add labels (comma-separated)").input("mixed, pos")
    at = _submit(at, "Save labels")
    assert not at.exception
    assert "Labels saved; added mixed." in at.success[0].value
    labels = _labels(labelled, "Reviews")
    assert labels["pos"][0] == "#123456" and labels["neg"][1] == "n" and "mixed" in labels
    assert [c.value for c in at.color_picker][0] == "#123456"  # the form shows what was saved


def test_an_unusable_hotkey_is_refused_with_the_reason(labelled):
    at = _page(project="Reviews")
    [t for t in at.text_input if t.label == "Hotkey"][0].input("s")
    at = _submit(at, "Save labels")
    assert "not usable" in at.error[0].value
    assert _labels(labelled, "Reviews")["pos"][1] == "1"


def test_delete_a_label_needs_confirmation(labelled):
    at = _page(project="Reviews")
    button = at.button(key=next(b.key for b in at.button if b.label == "Delete label"))
    assert button.disabled
    at.selectbox(key=[s.key for s in at.selectbox if s.label == "Label"][0]).select("neg")
    at.checkbox(key=[c.key for c in at.checkbox if c.label == "I understand"][0]).check()
    at = at.run()
    at = next(b for b in at.button if b.label == "Delete label").click().run()
    assert "Deleted label 'neg'" in at.success[0].value
    assert list(_labels(labelled, "Reviews")) == ["pos"]
