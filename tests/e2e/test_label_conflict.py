"""Two browser sessions save the same sample: the second is told, nothing is lost."""
from __future__ import annotations

import pytest

from tests.e2e.label_helpers import NER, message, open_label, seed, shown_spans, stored, wait_sample

pytestmark = pytest.mark.e2e


def test_second_tab_gets_the_conflict_and_the_current_state(app, browser, page):
    ids = seed(app, "news", ["Ann met Bob in Rome.", "Cara left."], ["PER", "LOC"])
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        open_label(page, app, "news", sample=ids[0])
        open_label(other, app, "news", sample=ids[0])
        wait_sample(page, ids[0])
        wait_sample(other, ids[0])

        for key in ("ArrowRight", "1", "End", "ArrowLeft", "2"):  # Ann PER, Rome LOC
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        wait_sample(page, ids[1])

        for key in ("ArrowRight", "ArrowRight", "ArrowRight", "1"):  # Bob PER, from the stale version
            other.keyboard.press(key)
        other.keyboard.press("Enter")
        other.wait_for_selector(f'{NER}[data-sample-id="{ids[0]}"][data-version="2"][data-busy="false"]')
        text = message(other)
        assert "changed elsewhere" in text and "your change was not saved" in text
        assert "Your unsaved version had: PER “Bob”." in text  # in words, so it can be redone
        assert "[8, 11)" not in text
        assert shown_spans(other) == [("PER", "Ann"), ("LOC", "Rome")]  # the current state

        row, _, _ = stored(app, ids[0])
        assert row.spans == [(0, 3, "PER"), (15, 19, "LOC")] and row.version == 2

        # Now on the current version, the second tab adds Bob and saves: both edits survive.
        for key in ("Home", "ArrowRight", "ArrowRight", "1", "Enter"):
            other.keyboard.press(key)
        wait_sample(other, ids[1])
        row, _, _ = stored(app, ids[0])
        assert row.spans == [(0, 3, "PER"), (8, 11, "PER"), (15, 19, "LOC")] and row.version == 3
    finally:
        other.context.close()
