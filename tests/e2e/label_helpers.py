"""Helpers for the Label page browser tests: seed through the repositories, drive the
labellers through their data-testid hooks, and wait on their state attributes (no sleeps)."""
from __future__ import annotations

from core.text.tokenize import word_offsets
from db import projects as project_repo
from db import samples as sample_repo
from tests.e2e.conftest import wait_for_app

NER = '[data-testid="ner-labeller"]'
CAT = '[data-testid="cat-labeller"]'


def seed(app, name: str, texts: list[str], labels: list[str], task: str = "ner", multilabel: bool = False,
         splits: list[str] | None = None) -> list[int]:
    """A project with ``texts`` as samples (word tokens from core.text.tokenize); returns their ids."""
    with app.sessions().begin() as s:
        project = project_repo.create_project(s, name, task, labels, multilabel=multilabel)
        rows = [sample_repo.NewSample(t, word_offsets(t), split=splits[i] if splits else "train")
                for i, t in enumerate(texts)]
        sample_repo.add_samples(s, project, rows)
        return sample_repo.queue_ids(s, project, status=None, limit=len(texts))


def stored(app, sample_id: int):
    """(LabeledSample with human annotations, annotator, seconds spent) as the database has it."""
    with app.sessions().begin() as s:
        sample = sample_repo.get_sample(s, sample_id)
        return sample_repo.annotations_of(s, sample_id), sample.annotator, sample.seconds_spent


def open_label(page, app, project: str, root: str = NER, **query) -> None:
    page.goto(app.url("label", project=project, **query))
    wait_for_app(page)
    page.wait_for_selector(f'{root}[data-busy="false"]')


def wait_sample(page, sample_id: int, root: str = NER) -> None:
    """Wait until the labeller shows ``sample_id``, is ready for keys and no save is in flight."""
    page.wait_for_selector(f'{root}[data-sample-id="{sample_id}"][data-busy="false"][data-saving="false"]')


def token(page, index: int):
    return page.locator(f'{NER} [data-testid="token"][data-index="{index}"]')


def drag(page, first: int, last: int) -> None:
    """Press on one token, move over to another, release: a mouse selection."""
    a, b = token(page, first).bounding_box(), token(page, last).bounding_box()
    page.mouse.move(a["x"] + 3, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] - 3, b["y"] + b["height"] / 2, steps=6)
    page.mouse.up()


def shown_spans(page) -> list[tuple[str, str]]:
    """(label, text) of the spans on screen, label tags stripped."""
    out = []
    for mark in page.locator(f'{NER} [data-testid="span"]').all():
        words = " ".join(mark.locator('[data-testid="token"]').all_inner_texts())
        out.append((mark.get_attribute("data-label"), words))
    return out


def message(page, root: str = NER) -> str:
    testid = "ner-message" if root == NER else "cat-message"
    return page.locator(f'[data-testid="{testid}"]').inner_text()


def pick(page, box: str, option: str) -> None:
    """Choose ``option`` in the sidebar selectbox labelled ``box``."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=box).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)
