"""Hostile strings in every user-provided field, every page visited in a real browser: each is
shown literally (no Markdown, HTML, LaTeX or icons rendered) and the browser never requests
anything but 127.0.0.1 (a remote image in a name must not be fetched)."""
from __future__ import annotations

import json
import re
import time
from urllib.parse import urlparse

import pytest

from core.text.tokenize import word_offsets
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

# Each payload: Markdown emphasis, raw HTML, a remote image, LaTeX and an icon shortcode, and a
# marker word per field that must never end up inside a rendered <b>/<strong>/<i>/<em>.
EVIL = "http://evil.example"
PROJECT = f"**pBold** <b>pHtml</b> ![p]({EVIL}/project.png) $p^2$ :material/bug_report:"
LABEL = f"**lBold**<i>lHtml</i>![l]({EVIL}/label.png)"  # no spaces: every format carries the label
LABEL2 = f":material/bug_report:$l^2$<img/src={EVIL}/label2.png>"
FILE_LABEL = f"**fBold**![f]({EVIL}/file-label.png)"
TEXT = f"Ann met **tBold** <b>tHtml</b> at ![t]({EVIL}/text.png) $t^2$ :material/bug_report: &amp; in Rome ."
RUN = f"**rBold** <b>rHtml</b> ![r]({EVIL}/run.png) $r^2$"
ICL_RUN = f"**iBold** ![i]({EVIL}/icl.png)"
ANNOTATOR = f"**aBold** ![a]({EVIL}/annotator.png)"
LABELLER = '[data-testid="ner-labeller"]'
MIDDLE = TEXT[TEXT.index(" "):TEXT.rindex(" Rome")]  # between the two gold spans of the first test sample
MARKERS = ("pBold", "pHtml", "lBold", "lHtml", "fBold", "tBold", "tHtml", "rBold", "rHtml", "iBold", "aBold")

# What each page must show literally (whitespace collapsed); every page is also checked for
# rendered markup and outside requests.
EXPECTED = {
    "": [PROJECT],
    "projects": [PROJECT, LABEL, LABEL2],
    "data": [LABEL, LABEL2],
    "label": [TEXT, LABEL, LABEL2],
    "train": [RUN],
    "runs": [RUN],
    "evaluate": [LABEL, LABEL2],
    "inspect": [MIDDLE, LABEL],
    "icl": [MIDDLE, LABEL, ICL_RUN],
}


def _seed(app, tmp_path, monkeypatch) -> tuple[int, int]:
    """The project, a completed tiny fine-tuned run and a completed ICL run, all named with payloads.
    Returns (fine-tuning run id, ICL run id)."""
    from core.evaluation.report import evaluate
    from core.icl.config import IclConfig
    from core.icl.launch import create_icl_run
    from core.icl.runner import execute
    from db.engine import reset
    from tests.core.icl import tinylm

    monkeypatch.setenv("TAGTUNE_HOME", str(app.home))  # in-process runs write the app's database
    monkeypatch.delenv("TAGTUNE_DB_URL", raising=False)
    reset()
    S = app.sessions()
    examples = []
    for i in range(9):
        text = f"Ann{i} met Bob at Oslo ." if i % 3 else TEXT.replace("Ann", f"Ann{i}", 1)
        examples.append((text, [(0, text.index(" "), LABEL), (len(text) - 6, len(text) - 2, LABEL2)]))
    with S.begin() as s:
        project = project_repo.create_project(s, PROJECT, "ner", [LABEL, LABEL2])
        rows = [sample_repo.NewSample(t, word_offsets(t), split=("test", "train", "dev")[i % 3], status="labeled",
                                      spans=spans) for i, (t, spans) in enumerate(examples)]
        rows.append(sample_repo.NewSample(TEXT, word_offsets(TEXT), split="unassigned"))
        sample_repo.add_samples(s, project, rows, annotator=ANNOTATOR)
    tags = ["O"] + [f"{p}-{label}" for label in (LABEL, LABEL2) for p in ("B", "I")]
    model = tm.make_model(tmp_path / "model", "ner", tags)
    tm.fit(model, "ner", examples, steps=20)
    with S.begin() as s:
        project = project_repo.get_project(s, PROJECT)
        run = run_repo.create_run(s, project, "finetune", {"model": str(model)}, status="running", name=RUN)
        run_repo.finish(s, run.id, "completed", metrics={}, checkpoint=str(model))
        run_id = run.id
    evaluate(S, run_id, "test")  # cached, so the Evaluate page shows its tables at once
    lm = tinylm.random_llama(tmp_path / "lm")
    with S.begin() as s:
        config = IclConfig(task="ner", lm=str(lm), shots=1, selection="random", split="test", limit=2,
                           max_new_tokens=4)
        icl_id = create_icl_run(s, PROJECT, config, status="running", name=ICL_RUN).id
    execute(icl_id)
    with S.begin() as s:
        assert run_repo.get_run(s, icl_id).status == "completed"
    return run_id, icl_id


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _rendered_markup(page) -> list[str]:
    """Markup that a payload would produce if rendered: images not served by the app, LaTeX,
    the bug_report icon, and a marker word as the whole text of an emphasis or HTML tag (the app
    may bold a whole label name; only a rendered payload makes "**tBold**" into <b>tBold</b>)."""
    return page.evaluate(
        """markers => {
          // The document and every shadow root in it (the labellers are components).
          const roots = [document];
          for (let i = 0; i < roots.length; i++)
            for (const el of roots[i].querySelectorAll('*')) if (el.shadowRoot) roots.push(el.shadowRoot);
          const all = (sel) => roots.flatMap((r) => [...r.querySelectorAll(sel)]);
          const found = [];
          for (const img of all('img')) {
            const src = img.getAttribute('src') || '';
            if (/^(https?:)?\\/\\//.test(src) && !src.startsWith(location.origin)) found.push('img ' + src);
          }
          for (const k of all('.katex, math')) found.push('latex ' + k.textContent);
          for (const i of all('[data-testid="stIconMaterial"]'))
            if (i.textContent.includes('bug_report')) found.push('icon');
          for (const e of all('b, strong, i, em'))
            if (markers.includes(e.textContent.trim())) found.push(e.tagName + ' ' + e.textContent);
          return found;
        }""",
        list(MARKERS),
    )


def test_hostile_strings_show_literally_and_nothing_leaves_the_machine(app, browser, tmp_path, monkeypatch):
    run_id, icl_id = _seed(app, tmp_path, monkeypatch)
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for path, expected in EXPECTED.items():
            query = {"project": PROJECT}
            if path in ("train", "runs", "evaluate", "inspect"):
                query["run"] = run_id
            if path == "icl":
                query["run"] = icl_id
            page.goto(app.url(path, **query))
            wait_for_app(page)
            _visit(page, path)
            for value in expected:
                _wait_shown(page, value, path, within=LABELLER if path == "label" else "body")
            assert page.locator('[data-testid="stException"]').count() == 0, f"/{path} raised"
            assert _rendered_markup(page) == [], f"/{path} rendered a payload"
        assert outside == []
    finally:
        context.close()


def _wait_shown(page, value: str, path: str, within: str = "body") -> None:
    """Wait until the text of ``within`` (a locator: it reaches into the labeller's shadow root)
    holds ``value`` character for character, whitespace collapsed."""
    box = page.locator(within).first
    deadline = time.monotonic() + 20
    while _norm(value) not in _norm(box.inner_text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"/{path} does not show {value!r} literally; it shows:\n{box.inner_text()}")
        page.wait_for_timeout(200)  # polling the DOM: the text arrives with the next render


def _visit(page, path: str) -> None:
    """Page-specific steps that bring the remaining user strings on screen."""
    if path == "label":
        page.wait_for_selector('[data-testid="ner-labeller"][data-busy="false"]')
        # The annotator of the seeded labels is the most recently active one: the picker shows it.
        assert page.get_by_role("combobox", name="Annotator").input_value() == ANNOTATOR
    elif path == "data":
        page.get_by_role("tab", name="Import").click()
        lines = [json.dumps({"text": "Zed went home .", "spans": [{"start": 0, "end": 3, "label": FILE_LABEL}]})]
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "evil.jsonl", "mimeType": "application/json", "buffer": "\n".join(lines).encode()}
        )
        wait_for_app(page)
        _wait_shown(page, FILE_LABEL, "data (import preview)")
    elif path == "evaluate":
        page.get_by_role("tab", name="Confusion").click()
        page.locator(".st-key-confusion-heatmap .js-plotly-plot").wait_for()
    elif path == "inspect":
        page.locator(".st-key-attention-heatmap .js-plotly-plot").wait_for()
    elif path == "runs":
        page.get_by_text("Run #").first.wait_for()
    elif path == "icl":
        page.locator(".st-key-icl_run_status").wait_for()
