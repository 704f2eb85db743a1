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


def test_simultaneous_saves_from_two_tabs_twenty_times_no_traceback_no_lost_update(app, browser, page):
    """Both tabs label the same sample differently and press Enter back to back, 20 times: each
    time exactly one save lands, the other tab is told and shown the stored labels, no page ever
    shows a traceback, and the server logged none."""
    rounds = 20
    ids = seed(app, "race", [f"Ann{i} met Bob in Rome ." for i in range(rounds + 1)], ["PER", "LOC"])
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.set_default_timeout(30_000)
    tabs = {"A": page, "B": other}
    wins = {"A": 0, "B": 0}
    try:
        for i in range(rounds):
            for tab in tabs.values():
                open_label(tab, app, "race", sample=ids[i])
                wait_sample(tab, ids[i])
            for key in ("ArrowRight", "1"):  # A: Ann PER
                page.keyboard.press(key)
            for key in ("End", "ArrowLeft", "2"):  # B: Rome LOC
                other.keyboard.press(key)
            page.keyboard.press("Enter")
            other.keyboard.press("Enter")
            for tab in tabs.values():
                tab.wait_for_selector(f'{NER}[data-saving="false"][data-busy="false"]')
            row, _, _ = stored(app, ids[i])
            a_spans, b_spans = [(0, len(f"Ann{i}"), "PER")], [(len(f"Ann{i} met Bob in "), len(f"Ann{i} met Bob in Rome"), "LOC")]
            assert row.version == 2 and row.spans in (a_spans, b_spans), f"round {i}: stored {row.spans}"
            winner, loser = ("A", "B") if row.spans == a_spans else ("B", "A")
            wins[winner] += 1
            lost = tabs[loser]
            lost.wait_for_selector(f'{NER}[data-sample-id="{ids[i]}"][data-version="2"]')
            assert "changed elsewhere" in message(lost), f"round {i}: tab {loser} was not told"
            assert shown_spans(lost) == ([("PER", f"Ann{i}")] if winner == "A" else [("LOC", "Rome")])
            assert tabs[winner].locator(NER).get_attribute("data-sample-id") != str(ids[i])
            for tab in tabs.values():
                assert tab.locator('[data-testid="stException"]').count() == 0, f"round {i}: a traceback"
        assert "Traceback" not in app.log.read_text()
    finally:
        other.context.close()
