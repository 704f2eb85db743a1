"""Labelling latency with 100,000 samples in a project.

1. Server side: one save-and-next as the Label page does it (accept in one transaction:
   version check, replace annotations, pick the next sample; then read the next view:
   labels, progress, the sample and its suggestions). Target p95 < 150 ms.
2. Browser round trip: key press (Enter) in Debian chromium until the next sample is shown
   and ready for keys, against a real `streamlit run`. Target < 600 ms. The labeller shows
   the next sample (sent ahead with the current one) at once and saves in the background,
   so the full round trip until the server has confirmed the save is printed as well.
   Measured from Python around Playwright, so both include Playwright's own milliseconds.

    .venv/bin/python bench/labeling_latency.py [--samples 100000] [--saves 300] [--presses 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = "Ada Lovelace wrote notes on the Analytical Engine in London while Babbage built it".split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(S, n: int) -> None:
    from core.text.tokenize import word_offsets
    from db import projects as project_repo
    from db import samples as sample_repo

    def rows():
        for i in range(n):
            text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(8 + i % 9)) + f" #{i}."
            yield sample_repo.NewSample(text, word_offsets(text), split=("train", "dev", "test")[i % 3])

    with S.begin() as s:
        project = project_repo.create_project(s, "bench", "ner", ["PER", "LOC", "ORG", "MISC"])
        sample_repo.add_samples(s, project, rows())


def server_side(S, saves: int) -> list[float]:
    from core.labeling import queue as labeling
    from db import projects as project_repo

    queue = labeling.QueueFilter()
    with S.begin() as s:
        history = labeling.advance(s, project_repo.get_project(s, "bench"), labeling.History(), queue)
        view = labeling.load_view(s, "bench", history, queue)
    times = []
    for _ in range(saves):
        task = view.task
        start, end = task.tokens[0][0], task.tokens[1][1]
        t0 = time.perf_counter()
        with S.begin() as s:  # the action callback
            out = labeling.accept(s, task.sample_id, task.version, spans=[(start, end, "PER")], annotator="bench", seconds=2.0)
            assert out.saved, out.message
            history = labeling.advance(s, project_repo.get_project(s, "bench"), history, queue)
        with S.begin() as s:  # the page run that shows the next sample
            view = labeling.load_view(s, "bench", history, queue)
        times.append(time.perf_counter() - t0)
    return times


def browser(home: Path, presses: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app, wait_for_app

    app = start_app(home, {"TAGTUNE_NO_DEMO": "1"})
    root = '[data-testid="ner-labeller"]'
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app.url("label", project="bench"))
            wait_for_app(page)
            page.wait_for_selector(f'{root}[data-busy="false"]', timeout=60_000)
            shown, saved = [], []
            for i in range(presses + 2):  # the first two warm up the server's caches
                current = int(page.locator(root).get_attribute("data-sample-id"))
                # Queue order is by id here (no priorities), so the next sample is the next id.
                nxt = f'{root}[data-sample-id="{current + 1}"]'
                t0 = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_selector(f'{nxt}[data-busy="false"]', timeout=30_000)
                t1 = time.perf_counter()
                page.wait_for_selector(f'{nxt}[data-busy="false"][data-saving="false"]', timeout=30_000)
                t2 = time.perf_counter()
                if i >= 2:
                    shown.append(t1 - t0)
                    saved.append(t2 - t0)
            chromium.close()
            return shown, saved
    finally:
        stop_app(app)


def report(name: str, times: list[float], target_ms: float) -> None:
    median, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
    verdict = "OK" if p95 < target_ms else "OVER TARGET"
    print(f"{name}: n={len(times)} median {median:.1f} ms, p95 {p95:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"(target p95 < {target_ms:.0f} ms: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tagtune-bench-") as tmp:
        home = Path(tmp)
        os.environ["TAGTUNE_HOME"] = str(home)
        os.environ.pop("TAGTUNE_DB_URL", None)
        from core.base.store import sessions

        S = sessions()
        t0 = time.perf_counter()
        seed(S, args.samples)
        print(f"seeded {args.samples:,} samples in {time.perf_counter() - t0:.1f} s")
        report("server save-and-next", server_side(S, args.saves), 150)
        if not args.no_browser:
            shown, saved = browser(home, args.presses)
            report("browser Enter -> next sample shown", shown, 600)
            report("browser Enter -> save confirmed by the server (full round trip)", saved, 600)


if __name__ == "__main__":
    main()
