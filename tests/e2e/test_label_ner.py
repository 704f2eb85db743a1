"""Label NER spans in a real browser against a real server; check the database after."""
from __future__ import annotations

import pytest

from db import samples as sample_repo
from tests.e2e.label_helpers import (
    NER, drag, message, open_label, pick, seed, shown_spans, stored, token, wait_sample,
)

pytestmark = pytest.mark.e2e

SENTENCES = [
    "Barack Obama visited Paris with Michelle Obama in 2015.",
    "Angela Merkel met Emmanuel Macron in Berlin.",
    "Apple opened a store in New York.",
]


def test_label_with_the_mouse_drag_click_shift_click_and_remove(app, page):
    ids = seed(app, "news", SENTENCES, ["PER", "LOC", "ORG"])
    open_label(page, app, "news")
    wait_sample(page, ids[0])
    assert page.locator(f'{NER} [data-testid="token"]').count() == 10
    drag(page, 0, 1)  # Barack Obama
    page.locator('[data-testid="label-PER"]').click()
    token(page, 3).click()  # Paris
    page.locator('[data-testid="label-LOC"]').click()
    token(page, 5).click()  # Michelle ... Obama with shift+click
    token(page, 6).click(modifiers=["Shift"])
    page.keyboard.press("1")
    token(page, 8).click()  # 2015: labelled by mistake, then removed by clicking the span
    page.keyboard.press("3")
    assert shown_spans(page) == [("PER", "Barack Obama"), ("LOC", "Paris"), ("PER", "Michelle Obama"), ("ORG", "2015")]
    token(page, 8).click()
    assert shown_spans(page)[-1] == ("PER", "Michelle Obama")
    page.locator('[data-testid="ner-accept"]').click()
    wait_sample(page, ids[1])

    row, annotator, seconds = stored(app, ids[0])
    assert row.spans == [(0, 12, "PER"), (21, 26, "LOC"), (32, 46, "PER")]
    assert row.status == "labeled" and row.version == 2
    assert annotator and seconds > 0


def test_keyboard_only_undo_overlap_skip_and_back(app, page):
    ids = seed(app, "news", SENTENCES, ["PER", "LOC", "ORG"])
    open_label(page, app, "news")
    wait_sample(page, ids[0])
    keys = page.keyboard
    keys.press("ArrowRight")  # Barack
    keys.press("Shift+ArrowRight")  # + Obama
    keys.press("1")
    keys.press("ArrowRight")  # visited
    keys.press("ArrowRight")  # Paris
    keys.press("2")
    assert shown_spans(page) == [("PER", "Barack Obama"), ("LOC", "Paris")]
    keys.press("Backspace")  # undo LOC
    assert shown_spans(page) == [("PER", "Barack Obama")]
    keys.press("Control+z")  # undo PER
    assert shown_spans(page) == []
    keys.press("Control+z")
    assert "Nothing to undo" in message(page)
    keys.press("Home")  # Barack
    keys.press("Shift+ArrowRight")
    keys.press("1")
    keys.press("Shift+ArrowLeft")  # from the span's end (Obama) back to Barack
    keys.press("Shift+ArrowRight")
    keys.press("Shift+ArrowRight")  # Obama .. visited: overlaps the PER span
    keys.press("2")
    assert "overlaps PER “Barack Obama”" in message(page)
    assert shown_spans(page) == [("PER", "Barack Obama")]
    keys.press("Escape")
    assert page.locator(f"{NER} .tok.sel").count() == 0
    keys.press("ArrowRight")  # from "visited" to Paris
    keys.press("2")
    keys.press("Enter")
    wait_sample(page, ids[1])
    keys.press("s")  # skip the second
    wait_sample(page, ids[2])
    keys.press("PageUp")  # back to the skipped one
    wait_sample(page, ids[1])
    keys.press("PageUp")  # and to the first, which shows what was saved
    wait_sample(page, ids[0])
    assert shown_spans(page) == [("PER", "Barack Obama"), ("LOC", "Paris")]
    keys.press("PageDown")
    wait_sample(page, ids[1])

    first, _, _ = stored(app, ids[0])
    assert first.spans == [(0, 12, "PER"), (21, 26, "LOC")] and first.status == "labeled"
    assert stored(app, ids[1])[0].status == "skipped"
    third, _, _ = stored(app, ids[2])
    assert third.status == "unlabeled" and third.spans == []


def test_chinese_labels_per_character_and_markup_renders_as_text(app, page):
    hostile = 'Hi <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> & bye'
    ids = seed(app, "zh", ["张三在北京工作。", hostile], ["PER", "LOC"])
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_label(page, app, "zh")
    wait_sample(page, ids[0])
    assert page.locator(f'{NER} [data-testid="token"]').all_inner_texts() == list("张三在北京工作。")
    drag(page, 0, 1)
    page.keyboard.press("1")
    token(page, 3).click()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")
    assert shown_spans(page) == [("PER", "张 三"), ("LOC", "北 京")]
    page.keyboard.press("Enter")
    wait_sample(page, ids[1])
    assert stored(app, ids[0])[0].spans == [(0, 2, "PER"), (3, 5, "LOC")]

    text = page.locator('[data-testid="ner-text"]').inner_text()
    assert "<script>window.__pwned = 1</script>" in text and '<img src=x onerror="window.__pwned = 2">' in text
    assert page.locator(f"{NER} img, {NER} script").count() == 0
    assert page.evaluate("() => window.__pwned") is None and dialogs == []


def test_suggestions_show_prefilled_and_enter_accepts_them_from_a_sample_link(app, page):
    ids = seed(app, "news", SENTENCES, ["PER", "LOC", "ORG"], splits=["train", "dev", "dev"])
    with app.sessions().begin() as s:
        sample_repo.replace_suggestions(s, ids[2], "model", spans=[(0, 5, "ORG", 0.83), (24, 32, "LOC", 0.55)])
    # ?sample= jumps to a sample (a link from the Data page).
    open_label(page, app, "news", sample=ids[2])
    wait_sample(page, ids[2])
    assert page.locator('[data-testid="suggestion-badge"]').is_visible()
    assert "model" in page.locator('[data-testid="suggestion-badge"]').inner_text()
    assert page.locator(f'{NER} [data-testid="span"].suggested').count() == 2
    page.keyboard.press("Enter")
    wait_sample(page, ids[0])  # back to the queue: the oldest unlabelled sample
    row, _, _ = stored(app, ids[2])
    assert row.spans == [(0, 5, "ORG"), (24, 32, "LOC")] and row.status == "labeled"
    assert "1 of 3 labelled" in page.locator('[data-testid="stProgress"]').inner_text()

    pick(page, "Split", "dev")  # filters: the next unlabelled dev sample, progress of dev only
    wait_sample(page, ids[1])
    assert "1 of 2 labelled" in page.locator('[data-testid="stProgress"]').inner_text()
    pick(page, "Show", "Labelled (review)")
    wait_sample(page, ids[2])
    assert shown_spans(page) == [("ORG", "Apple"), ("LOC", "New York")]  # now human, not suggested
    assert page.locator(f'{NER} [data-testid="span"].suggested').count() == 0


def test_browser_labels_round_trip_through_conll_export(app, page, tmp_path):
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    ids = seed(app, "mixed", ["Ada Lovelace lived in London .", "李小龙出生于旧金山。"], ["PER", "LOC"])
    open_label(page, app, "mixed")
    wait_sample(page, ids[0])
    drag(page, 0, 1)
    page.keyboard.press("1")
    token(page, 4).click()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    wait_sample(page, ids[1])
    drag(page, 0, 2)  # 李小龙, one token per character
    page.keyboard.press("1")
    drag(page, 6, 8)  # 旧金山
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Nothing left in this queue")

    out = tmp_path / "mixed.conll"
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "export", "mixed", str(out), "--format", "conll", "--home", str(app.home)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sentences = [
        [tuple(line.split("\t")) for line in block.splitlines()]
        for block in out.read_text(encoding="utf-8").strip().split("\n\n")
    ]
    assert sentences == [
        [("Ada", "B-PER"), ("Lovelace", "I-PER"), ("lived", "O"), ("in", "O"), ("London", "B-LOC"), (".", "O")],
        [("李", "B-PER"), ("小", "I-PER"), ("龙", "I-PER"), ("出", "O"), ("生", "O"), ("于", "O"),
         ("旧", "B-LOC"), ("金", "I-LOC"), ("山", "I-LOC"), ("。", "O")],
    ]


def test_labelling_on_while_saves_travel_loses_nothing(app, page):
    """The next sample shows at once after Enter; labelling it before the server has
    answered queues its save behind the first, and every save lands."""
    texts = [f"Person{i} lives in Town{i} ." for i in range(6)]
    ids = seed(app, "fast", texts, ["PER", "LOC"])
    open_label(page, app, "fast")
    wait_sample(page, ids[0])
    for i, sample_id in enumerate(ids):
        # Only wait for the sample to be on screen, not for the previous save.
        page.wait_for_selector(f'{NER}[data-sample-id="{sample_id}"][data-busy="false"]')
        for key in ("ArrowRight", "1", "End", "ArrowLeft", "2", "Enter"):
            page.keyboard.press(key)
    page.wait_for_selector("text=Nothing left in this queue")
    for i, sample_id in enumerate(ids):
        row, _, _ = stored(app, sample_id)
        start = len(f"Person{i} lives in ")
        assert row.spans == [(0, len(f"Person{i}"), "PER"), (start, start + len(f"Town{i}"), "LOC")], i
        assert row.status == "labeled" and row.version == 2


def test_saves_pipeline_several_in_flight_and_the_labeller_never_waits(app, page):
    """Enter after Enter, as fast as keys go: the next sample is always already there (the
    labeller never turns busy), several saves are in flight at once, and each lands in order
    as its own transaction (version 2 each, annotations exactly as labelled)."""
    texts = [f"Name{i} went to Place{i} ." for i in range(8)]
    ids = seed(app, "pipe", texts, ["PER", "LOC"])
    open_label(page, app, "pipe")
    wait_sample(page, ids[0])
    page.locator(NER).evaluate("""root => {
      window.__seen = {busy: [], inflight: 0};
      new MutationObserver(() => {
        window.__seen.busy.push(root.dataset.busy);
        const inflight = Number(root.dataset.seq) - Number(root.dataset.acked);
        window.__seen.inflight = Math.max(window.__seen.inflight, inflight);
      }).observe(root, {attributes: true});
    }""")
    for i in range(6):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("1" if i % 2 else "2")
        page.keyboard.press("Enter")
    wait_sample(page, ids[6])
    seen = page.evaluate("() => window.__seen")
    assert "true" not in seen["busy"], "the labeller waited for the server"
    assert seen["inflight"] >= 2, f"saves went one at a time ({seen})"
    for i in range(6):
        row, _, _ = stored(app, ids[i])
        assert row.spans == [(0, len(f"Name{i}"), "PER" if i % 2 else "LOC")] and row.version == 2, i


def test_keys_reach_the_labeller_after_a_sidebar_dropdown_kept_the_focus(app, page):
    """The focus trap: open the sidebar's Queue order dropdown, Esc, click a word, hotkey,
    Enter. Before, the closed dropdown kept the focus and swallowed every key."""
    ids = seed(app, "trap", SENTENCES, ["PER", "LOC", "ORG"])
    open_label(page, app, "trap")
    wait_sample(page, ids[0])
    for box in ("Queue order", "Split"):
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=box).click()
        page.get_by_role("option").first.wait_for()
        page.keyboard.press("Escape")
    token(page, 3).click()  # Paris
    page.keyboard.press("2")
    assert shown_spans(page) == [("LOC", "Paris")]
    page.keyboard.press("Enter")
    wait_sample(page, ids[1])
    assert stored(app, ids[0])[0].spans == [(21, 26, "LOC")]
    # A text field keeps its keys: typing a new annotator's name does not label anything.
    pick(page, "Annotator", "+ someone new…")
    name = page.get_by_label("New annotator's name")
    name.click()
    name.type("1")
    assert shown_spans(page) == [] and name.input_value() == "1"


def test_unsaved_edits_are_kept_as_a_draft_and_restored_after_a_reload_or_another_page(app, page):
    ids = seed(app, "draft", SENTENCES, ["PER", "LOC", "ORG"])
    open_label(page, app, "draft")
    wait_sample(page, ids[0])
    drag(page, 0, 1)
    page.keyboard.press("1")
    token(page, 3).click()
    page.keyboard.press("2")
    # The draft reaches the server in the background, without Enter.
    _wait_for_draft(app, ids[0], [[0, 12, "PER"], [21, 26, "LOC"]])

    page.reload()
    wait_sample(page, ids[0])
    assert shown_spans(page) == [("PER", "Barack Obama"), ("LOC", "Paris")]
    assert "unsaved changes to this sample are restored" in message(page)

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").click()
    page.get_by_role("heading", name="Data").wait_for()
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Label").click()
    wait_sample(page, ids[0])
    assert shown_spans(page) == [("PER", "Barack Obama"), ("LOC", "Paris")]

    page.keyboard.press("Enter")
    wait_sample(page, ids[1])
    row, _, _ = stored(app, ids[0])
    assert row.spans == [(0, 12, "PER"), (21, 26, "LOC")] and row.version == 2
    with app.sessions().begin() as s:
        assert _all_drafts(s, ids[0]) == []  # saved: the draft is gone


def _wait_for_draft(app, sample_id: int, spans: list, timeout: float = 20.0) -> None:
    """Poll the database until the labeller's draft of ``sample_id`` holds ``spans``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.sessions().begin() as s:
            found = [e for (_, e) in _all_drafts(s, sample_id)]
        if any(e.get("spans") == spans for e in found):
            return
        time.sleep(0.1)
    raise AssertionError(f"no draft of sample {sample_id} with {spans}; found {found}")


def _all_drafts(s, sample_id: int):
    from sqlalchemy import select

    from db.models import Draft

    return [(d.annotator, d.edits) for d in s.scalars(select(Draft).where(Draft.sample_id == sample_id))]
