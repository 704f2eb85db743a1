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


def test_the_multilabel_box_is_only_offered_for_classification(S):
    at = _page()
    at.radio(key="new_project_task").set_value("ner").run()
    assert not [c for c in at.checkbox if "multi-label" in c.label]
    at.radio(key="new_project_task").set_value("classification").run()
    box = next(c for c in at.checkbox if "multi-label" in c.label)
    box.check()
    at.text_input(key="new_project_name").input("Moods")
    at = _submit(at, "Create project")
    with S.begin() as s:
        assert project_repo.get_project(s, "Moods").multilabel


def test_rename_a_project_and_it_stays_the_current_one(labelled):
    at = _page(project="Reviews")
    at.text_input(key="rename_to_Reviews").input("Drug reviews")
    at = _submit(at, "Rename")
    assert not at.exception
    assert "Renamed project 'Reviews' to 'Drug reviews'" in at.success[0].value
    assert at.selectbox(key="project_picker").value == "Drug reviews"
    assert list(_labels(labelled, "Drug reviews")) == ["pos", "neg"]
    at.text_input(key="rename_to_Drug reviews").input("Other")
    at = _submit(at, "Rename")
    assert "already exists" in at.error[0].value


def test_delete_a_project_needs_its_name_typed_and_removes_its_run_folders(S, home):
    from core.base import settings
    from db import runs as run_repo

    with S.begin() as s:
        keep = project_repo.create_project(s, "Keep", "ner")
        doomed = project_repo.create_project(s, "Doomed", "ner", ["PER"])
        runs = [run_repo.create_run(s, p, "finetune", {}, status="completed").id for p in (doomed, keep)]
    folders = [settings.runs_dir() / str(i) / "model" for i in runs]
    for folder in folders:
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    at = _page(project="Doomed")
    assert "its 1 run and 1 folder or file of theirs on disk" in at.warning[0].value
    button = next(b for b in at.button if b.label == "Delete project")
    assert button.disabled  # nothing typed yet
    at.text_input(key="delete_confirm_Doomed").input("doomed").run()
    assert next(b for b in at.button if b.label == "Delete project").disabled  # must match exactly
    at.text_input(key="delete_confirm_Doomed").input("Doomed").run()
    at = _submit(at, "Delete project")
    assert not at.exception
    assert "Deleted project 'Doomed': 0 samples, 1 run, 1 folder or file on disk" in at.success[0].value
    with S.begin() as s:
        assert [p.name for p in project_repo.list_projects(s)] == ["Keep"]
        assert [r.id for r in run_repo.list_runs(s)] == [runs[1]]
    assert not folders[0].parent.exists() and folders[1].exists()  # the other project's run is untouched
    assert at.selectbox(key="project_picker").value == "Keep"


def test_a_project_with_an_active_run_is_not_deleted(S):
    from core.base.errors import UserError
    from core.data import projects
    from db import runs as run_repo

    with S.begin() as s:
        p = project_repo.create_project(s, "Busy", "ner")
        run_id = run_repo.create_run(s, p, "finetune", {}).id  # queued
    with pytest.raises(UserError, match=rf"queued or running \(#{run_id}\); cancel them on the Runs page"):
        projects.delete(S, "Busy")
    with S.begin() as s:
        assert project_repo.get_project(s, "Busy")
