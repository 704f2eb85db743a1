"""Demo projects: seeded once per home from assets/demo, never over existing projects."""
from core.data import demo
from db import projects as project_repo
from db import samples as sample_repo


def _stats(S, name):
    with S.begin() as s:
        return sample_repo.stats(s, project_repo.get_project(s, name))


def test_first_start_seeds_both_projects_with_splits_and_unlabelled_work(S, monkeypatch):
    monkeypatch.delenv("TAGTUNE_NO_DEMO", raising=False)
    assert demo.seed_demo_projects(S) == ["WNUT 2017 (demo)", "Drug reviews (demo)"]
    wnut, drugs = _stats(S, "WNUT 2017 (demo)"), _stats(S, "Drug reviews (demo)")
    assert wnut["splits"] == {"train": 300, "dev": 100, "test": 100, "unassigned": 100}
    assert wnut["unlabeled"] == 100 and set(wnut["labels"]) == {
        "person", "location", "group", "corporation", "product", "creative-work"}
    assert drugs["splits"] == {"train": 300, "dev": 60, "test": 100, "unassigned": 40}
    assert drugs["unlabeled"] == 40 and list(drugs["labels"]) == ["positive", "neutral", "negative"]
    assert demo.seed_demo_projects(S) == []  # the marker: once per home
    assert (demo.ASSETS / "LICENSE.md").read_text().count("CC BY 4.0") == 2


def test_existing_projects_are_left_alone_and_no_demo_skips_everything(S, home, monkeypatch):
    monkeypatch.setenv("TAGTUNE_NO_DEMO", "1")
    assert demo.seed_demo_projects(S) == []
    assert not (home / demo.MARKER).exists()
    monkeypatch.delenv("TAGTUNE_NO_DEMO")
    with S.begin() as s:
        project_repo.create_project(s, "WNUT 2017 (demo)", "ner")
    assert demo.seed_demo_projects(S) == ["Drug reviews (demo)"]
    assert _stats(S, "WNUT 2017 (demo)")["samples"] == 0
