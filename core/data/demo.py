"""The two demo projects seeded on a server's first start (assets/demo, CC BY 4.0: see
assets/demo/LICENSE.md). Seeding happens once per home: a marker file remembers it, so a
demo project the user deleted does not come back. TAGTUNE_NO_DEMO=1 skips it (tests)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from core.data import importer
from core.base import settings
from core.base.store import sessions
from db import projects as project_repo
from db.errors import NotFound

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
MARKER = ".demo_seeded"


@dataclass(frozen=True)
class DemoFile:
    name: str
    split: str | None = None  # None: the file's own split column
    text_column: str | None = None
    label_column: str | None = None


@dataclass(frozen=True)
class Demo:
    project: str
    task: str
    labels: tuple[project_repo.LabelSpec, ...]
    files: tuple[DemoFile, ...]


L = project_repo.LabelSpec
DEMOS = (
    Demo(
        "WNUT 2017 (demo)",
        "ner",
        (L("person", "#8ecae6"), L("location", "#b5e48c"), L("group", "#ffb703"), L("corporation", "#f4a3a8"),
         L("product", "#cdb4db"), L("creative-work", "#ffd6a5")),
        (DemoFile("wnut17_train.conll", "train"), DemoFile("wnut17_dev.conll", "dev"),
         DemoFile("wnut17_test.conll", "test"), DemoFile("wnut17_unlabeled.txt", "unassigned")),
    ),
    Demo(
        "Drug reviews (demo)",
        "classification",
        (L("positive", "#b5e48c"), L("neutral", "#fdffb6"), L("negative", "#f4a3a8")),
        (DemoFile("drugreviews_demo.tsv", None, "review", "rating"),),
    ),
)


def seed_demo_projects(S: sessionmaker[Session] | None = None) -> list[str]:
    """Create the demo projects that do not exist yet, on the first start only; returns their names."""
    if os.environ.get("TAGTUNE_NO_DEMO") == "1":
        return []
    marker = settings.home() / MARKER
    if marker.exists():
        return []
    S = S or sessions()
    created = [demo.project for demo in DEMOS if _seed(S, demo)]
    marker.write_text("The demo projects were seeded; delete this file to seed missing ones again.\n")
    return created


def _seed(S: sessionmaker[Session], demo: Demo) -> bool:
    with S.begin() as s:
        try:
            project_repo.get_project(s, demo.project)
            return False
        except NotFound:
            project_repo.create_project(s, demo.project, demo.task, list(demo.labels))
    for f in demo.files:
        request = importer.ImportRequest(demo.project, f.name, split=f.split, text_column=f.text_column,
                                         label_column=f.label_column)
        report = importer.import_path(request, ASSETS / f.name, S)
        if report["errors"]:  # our own assets: a failure here is a bug, not user input
            raise RuntimeError(f"demo file {f.name} did not import: {report['errors'][:3]}")
    return True
