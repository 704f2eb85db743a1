"""Label text categories in a real browser: one key per label; check the database after."""
from __future__ import annotations

import pytest

from db import samples as sample_repo
from tests.e2e.label_helpers import CAT, message, open_label, seed, stored, wait_sample

pytestmark = pytest.mark.e2e


def test_single_label_keys_save_and_advance_skip_and_back(app, page):
    ids = seed(app, "topics", ["The match ended 2-1.", "Parliament passed the bill.", "A new phone chip.",
                               "Rain tomorrow."], ["sport", "politics", "tech"], task="classification")
    open_label(page, app, "topics", root=CAT)
    wait_sample(page, ids[0], CAT)
    assert page.locator('[data-testid="cat-text"]').inner_text() == "The match ended 2-1."
    page.keyboard.press("1")  # sport: saved at once, next sample
    wait_sample(page, ids[1], CAT)
    page.locator('[data-testid="label-politics"]').click()  # a click does the same
    wait_sample(page, ids[2], CAT)
    page.keyboard.press("Enter")  # nothing picked yet: refused with a hint
    assert "Pick the label first" in message(page, CAT)
    page.keyboard.press("s")
    wait_sample(page, ids[3], CAT)
    page.keyboard.press("Backspace")  # back to the skipped one
    wait_sample(page, ids[2], CAT)
    page.keyboard.press("3")  # label it after all: tech
    wait_sample(page, ids[3], CAT)
    page.keyboard.press("Backspace")
    wait_sample(page, ids[2], CAT)
    assert page.locator('[data-testid="label-tech"]').get_attribute("aria-pressed") == "true"

    first, annotator, seconds = stored(app, ids[0])
    assert first.categories == ["sport"] and first.status == "labeled" and annotator and seconds > 0
    assert stored(app, ids[1])[0].categories == ["politics"]
    third = stored(app, ids[2])[0]
    assert third.categories == ["tech"] and third.status == "labeled" and third.version == 3  # skipped, then saved
    assert stored(app, ids[3])[0].status == "unlabeled"


def test_multilabel_keys_toggle_and_enter_accepts_suggestions_too(app, page):
    ids = seed(app, "tags", ["Great news, hurry!", "So sad.", "Meh."], ["happy", "sad", "urgent"],
               task="classification", multilabel=True)
    with app.sessions().begin() as s:
        sample_repo.replace_suggestions(s, ids[1], "llm", categories=[("sad", 0.9)])
    open_label(page, app, "tags", root=CAT)
    wait_sample(page, ids[0], CAT)
    for key in ("1", "2", "3", "2"):  # happy, sad, urgent, then sad off again
        page.keyboard.press(key)
    pressed = page.locator(f'{CAT} [aria-pressed="true"]').all_inner_texts()
    assert [p.split("\n")[0] for p in pressed] == ["happy", "urgent"]
    page.keyboard.press("Enter")
    wait_sample(page, ids[1], CAT)
    assert "llm" in page.locator('[data-testid="suggestion-badge"]').inner_text()
    assert page.locator('[data-testid="label-sad"]').get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")  # accept the suggestion in one keystroke
    wait_sample(page, ids[2], CAT)
    page.keyboard.press("Enter")  # none applies: saved with no category
    page.wait_for_selector('text=Nothing left in this queue')

    assert stored(app, ids[0])[0].categories == ["happy", "urgent"]
    assert stored(app, ids[1])[0].categories == ["sad"]
    last = stored(app, ids[2])[0]
    assert last.categories == [] and last.status == "labeled"
