"""A new user's first hour (issue 15) in a real browser: links that stay in the tab, a chosen
annotator identity, Backspace that means the same in both labellers, a queue box that says what
the queue follows, chart axes that read right, and `/home` without a "Page not found" pop-up."""
from __future__ import annotations

import pytest

from core.labeling import active
from db import projects as project_repo
from db import runs as run_repo
from tests.e2e.conftest import wait_for_app
from tests.e2e.label_helpers import CAT, NER, message, open_label, pick, seed, shown_spans, stored, wait_sample

pytestmark = pytest.mark.e2e

SENTENCES = ["Ann met Bob in New York .", "Cara left Oslo .", "Dan stayed ."]


def test_home_opens_the_start_page_without_a_page_not_found_pop_up(app, page):
    seed(app, "news", SENTENCES, ["PER", "LOC"])
    page.goto(app.url("home"))
    wait_for_app(page)
    page.get_by_role("heading", name="Tagtune").wait_for()
    assert "Page not found" not in page.inner_text("body")
    assert page.url.rstrip("/") == app.base  # sent to the start page's own path, `/`
    # Its links to a project's pages stay in this tab.
    link = page.locator('[data-testid="stPageLink"] a').filter(has_text="Label")
    assert link.get_attribute("target") in (None, "", "_self")
    link.click()
    page.wait_for_url("**/label?project=news**")
    page.locator(NER).wait_for()
    assert len(page.context.pages) == 1


def _pick_first_row(page, table_key: str) -> None:
    """Tick the first row of a Streamlit dataframe (a canvas grid: its row-marker column)."""
    grid = page.locator(f".st-key-{table_key} [data-testid='stDataFrame']")
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # header row 35 px, first data row below it


def test_a_data_row_opens_the_labeller_in_the_same_tab(app, page):
    ids = seed(app, "news", SENTENCES, ["PER", "LOC"])
    page.goto(app.url("data", project="news"))
    wait_for_app(page)
    tabs_before = len(page.context.pages)
    _pick_first_row(page, "data_samples")
    page.wait_for_url("**/label?**")
    wait_sample(page, ids[0])
    assert len(page.context.pages) == tabs_before  # no new browser tab
    assert f"sample={ids[0]}" in page.url
    # Back on the Data page in the same session: the row picked before does not send us away again.
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").click()
    page.wait_for_url("**/data**")
    wait_for_app(page)
    page.locator(".st-key-data_samples [data-testid='stDataFrame']").wait_for()
    assert "/data" in page.url and page.locator(NER).count() == 0


def test_the_annotator_is_a_chosen_identity_remembered_in_the_browser(app, page):
    ids = seed(app, "news", SENTENCES, ["PER", "LOC"])
    open_label(page, app, "news")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Annotator").click()
    page.get_by_role("option", name="+ someone new…").click()
    wait_for_app(page)
    sidebar.get_by_label("New annotator's name").fill("Ada Lovelace")
    sidebar.get_by_label("New annotator's name").press("Enter")
    page.wait_for_url("**annotator=Ada+Lovelace**")
    # The name box goes once the name is taken; until then key presses would be typed into it.
    sidebar.get_by_label("New annotator's name").wait_for(state="detached", timeout=60_000)
    assert page.get_by_role("combobox", name="Annotator").input_value() == "Ada Lovelace"
    wait_for_app(page)
    wait_sample(page, ids[0])
    for key in ("ArrowRight", "1", "Enter"):  # Ann PER
        page.keyboard.press(key)
    wait_sample(page, ids[1])
    _, annotator, _ = stored(app, ids[0])
    assert annotator == "Ada Lovelace"

    # A reload (or a bookmark of this URL) labels as the same person; she is a known annotator now.
    page.reload()
    wait_for_app(page)
    assert page.get_by_role("combobox", name="Annotator").input_value() == "Ada Lovelace"
    page.goto(app.url("label", project="news"))  # a new session without the query parameter
    wait_for_app(page)
    assert page.get_by_role("combobox", name="Annotator").input_value() == "Ada Lovelace"


def test_backspace_undoes_then_goes_back_in_both_labellers(app, page):
    ids = seed(app, "news", SENTENCES, ["PER", "LOC"])
    open_label(page, app, "news")
    wait_sample(page, ids[0])
    page.keyboard.press("Enter")  # nothing to label: saved, next
    wait_sample(page, ids[1])
    for key in ("ArrowRight", "1"):  # Cara PER
        page.keyboard.press(key)
    assert shown_spans(page) == [("PER", "Cara")]
    page.keyboard.press("Backspace")  # undoes the edit ...
    assert shown_spans(page) == []
    page.keyboard.press("Backspace")  # ... and with nothing left to undo, goes back
    wait_sample(page, ids[0])
    page.keyboard.press("Control+z")  # ctrl+z only ever undoes
    assert "Nothing to undo" in message(page)
    assert page.locator(NER).get_attribute("data-sample-id") == str(ids[0])

    cats = seed(app, "moods", ["Great news!", "So sad."], ["happy", "sad", "urgent"], task="classification",
                multilabel=True)
    open_label(page, app, "moods", root=CAT)
    wait_sample(page, cats[0], CAT)
    page.keyboard.press("Enter")
    wait_sample(page, cats[1], CAT)
    page.keyboard.press("2")  # sad on
    pressed = lambda: [p.split("\n")[0] for p in page.locator(f'{CAT} [aria-pressed="true"]').all_inner_texts()]
    assert pressed() == ["sad"]
    page.keyboard.press("Backspace")  # undoes the toggle, as in the NER labeller
    assert pressed() == []
    page.keyboard.press("Backspace")  # then back
    wait_sample(page, cats[0], CAT)


def test_the_queue_box_says_which_order_the_queue_follows(app, page):
    seed(app, "news", SENTENCES, ["PER", "LOC"])
    open_label(page, app, "news")
    note = page.locator(".st-key-queue_order_note")
    assert "import order" in note.inner_text()
    with app.sessions().begin() as s:  # what a pre-annotation pass does at its end
        active.reorder_queue(s, project_repo.get_project(s, "news"), "entropy")
    page.reload()
    wait_for_app(page)
    assert page.get_by_role("combobox", name="Queue order").input_value() == "highest entropy"
    assert "follows the model's uncertainty: highest entropy of the least sure word" in note.inner_text()
    assert "as stored" not in page.inner_text("body")
    pick(page, "Queue order", "random (a seeded shuffle)")  # choosing an order applies and records it
    note.filter(has_text="a seeded shuffle").wait_for()
    with app.sessions().begin() as s:
        assert project_repo.get_project(s, "news").queue_order == "random"


def test_chart_axes_read_right_for_one_point_and_small_learning_rates(app, page):
    with app.sessions().begin() as s:
        project = project_repo.create_project(s, "news", "ner", ["PER"])
        run = run_repo.create_run(s, project, "finetune", {"model": "m"}, status="running")
        for step, lr in ((10, 1e-5), (20, 2e-5), (30, 1.5e-5)):
            run_repo.add_points(s, run.id, step, None, {"loss": 2.0 - step / 20, "learning_rate": lr})
        run_repo.add_points(s, run.id, 30, None, {"dev_f1": 0.0})
        run_repo.finish(s, run.id, "completed", metrics={"f1": 0.0})
    page.goto(app.url("train", project="news", run=run.id))
    wait_for_app(page)
    ticks = lambda key, axis: page.locator(f".st-key-{key} .{axis}tick text").evaluate_all(
        "els => els.map(e => e.textContent)")
    page.locator(".st-key-lr_chart .ytick text").first.wait_for(timeout=120_000)  # the form loads the encoder first
    assert ticks("lr_chart", "y") and all("μ" not in t for t in ticks("lr_chart", "y"))
    assert any("e-5" in t or "e−5" in t for t in ticks("lr_chart", "y"))
    dev_x, dev_y = ticks("dev_chart", "x"), ticks("dev_chart", "y")
    assert dev_x[0] == "0" and "29" not in dev_x  # one point at step 30: the axis runs from 0
    assert not any(t.startswith(("-", "−")) for t in dev_y)  # an all-zero F1 does not start at −1
