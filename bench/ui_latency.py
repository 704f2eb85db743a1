"""UI latency in a real browser on a 100,000-sample project, idle and while a training run is active.

The server is started with `make run`'s command line (`python -m streamlit run app.py
--server.port P`, the repository's .streamlit/config.toml) on a fresh TAGTUNE_HOME holding the
demo projects and "bench": N NER samples (1% test, 1% dev, 58% train, 40% unassigned; 30% of them
labelled with one or two spans) and a completed tiny fine-tuned run, scored on test beforehand.
Debian chromium drives it through Playwright. Figures (each with n, target and verdict):

- navigation: a click on a page in the sidebar until that page is ready: its title shown, the
  script run finished (`data-test-script-state="notRunning"`) and no Streamlit running indicator.
  Every page, `--rounds` times. Target p95 <= 1.0 s idle (reported during training too).
- labeller, Enter -> save confirmed: a key press (Enter, at `--steady-pace` seconds per sample)
  until the labeller's `data-acked` reaches the number of the save it queued, i.e. Python has
  committed that save's transaction and answered. Target p95 <= 300 ms idle, <= 600 ms training.
- labeller, Enter -> next sample shown: at one sample every `--fast-pace` seconds (ArrowRight, a
  hotkey, Enter), from the key press until the next sample is on screen (its id in the DOM and
  the next animation frame). Target p95 <= 150 ms. Its Enter -> save confirmed is printed too.

Times are taken in the page (performance.now(): a key listener installed before the app's
scripts and a MutationObserver on the labeller), so Playwright's own overhead is not in them.

    .venv/bin/python bench/ui_latency.py [--samples 100000] [--rounds 5] [--presses 60]
                                         [--no-training] [--keep DIR]
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

from bench.labeling_latency import WORDS, percentile  # noqa: E402 - the server-side bench's sample words and p95

PROJECT = "bench"
LABELS = ["PER", "LOC", "ORG", "MISC"]
PAGES = [  # sidebar link text, URL path, page title
    ("Home", "home", "Tagtune"), ("Projects", "projects", "Projects"), ("Data", "data", "Data"),
    ("Label", "label", "Label"), ("Train", "train", "Train"), ("Runs", "runs", "Runs"),
    ("Evaluate", "evaluate", "Evaluate"), ("Inspect", "inspect", "Inspect"), ("In-context", "icl", "In-context learning"),
]
LABELLER = '[data-testid="ner-labeller"]'
READY_JS = """([path, title]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!location.pathname.endsWith('/' + path) && !(path === 'home' && location.pathname === '/')) return false;
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  return !!h1 && h1.textContent.trim() === title;
}"""
# Installed before the app's scripts, so this key listener runs before the labeller's.
RECORDER_JS = """
window.__tt = {keys: [], marks: []};
window.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  const root = window.__ttRoot;
  window.__tt.keys.push({t: performance.now(), sample: root ? root.dataset.sampleId : null,
                         seq: root ? Number(root.dataset.seq) : 0});
}, true);
"""
WATCH_JS = """root => {
  window.__ttRoot = root;
  const mark = () => {
    const m = {t: performance.now(), sample: root.dataset.sampleId, acked: Number(root.dataset.acked),
               seq: Number(root.dataset.seq), busy: root.dataset.busy};
    window.__tt.marks.push(m);
    requestAnimationFrame(() => { m.painted = performance.now(); });
  };
  new MutationObserver(mark).observe(root, {attributes: true});
  mark();
}"""


# ---- Setup -------------------------------------------------------------------------------


def seed(S, n: int) -> None:
    from core.text.tokenize import word_offsets
    from db import projects as project_repo
    from db import samples as sample_repo

    def rows():
        for i in range(n):
            text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(8 + i % 9)) + f" #{i}."
            tokens = word_offsets(text)
            bucket = i % 100
            split = "test" if bucket == 0 else "dev" if bucket == 1 else "train" if bucket < 60 else "unassigned"
            labelled = i % 10 < 3
            spans = []
            if labelled:
                spans.append((tokens[0][0], tokens[1][1], LABELS[i % 4]))
                if i % 2:
                    spans.append((tokens[3][0], tokens[3][1], LABELS[(i + 1) % 4]))
            yield sample_repo.NewSample(text, tokens, split=split, status="labeled" if labelled else "unlabeled",
                                        spans=spans)

    with S.begin() as s:
        project = project_repo.create_project(s, PROJECT, "ner", LABELS)
        sample_repo.add_samples(s, project, rows(), annotator="bench")


def completed_run(S, home: Path) -> int:
    """A tiny (untrained) NER model registered as a completed run, scored on test beforehand."""
    from core.evaluation.report import evaluate
    from db import projects as project_repo
    from db import runs as run_repo
    from tests.tiny_runs import make_model

    tags = ["O"] + [f"{p}-{label}" for label in LABELS for p in ("B", "I")]
    model = make_model(home / "tiny-model", "ner", tags)
    with S.begin() as s:
        run = run_repo.create_run(s, project_repo.get_project(s, PROJECT), "finetune", {"model": str(model)},
                                  status="running", name="tiny")
        run_repo.finish(s, run.id, "completed", metrics={}, checkpoint=str(model))
        run_id = run.id
    evaluate(S, run_id, "test")
    return run_id


def start_training(S) -> int:
    """A long fine-tuning run of the packaged MiniLM on the bench project, for the app's worker."""
    from core.train.config import TrainConfig
    from core.train.launch import create_finetune_run

    with S.begin() as s:
        return create_finetune_run(s, PROJECT, TrainConfig(max_steps=1_000_000, batch_size=16), name="load").id


def wait_training(S, run_id: int, timeout: float = 900) -> None:
    """Until the worker runs the run and has logged training steps (the CPU is busy training)."""
    from sqlalchemy import func, select

    from db.models import MetricPoint, Run

    deadline = time.time() + timeout
    while time.time() < deadline:
        with S.begin() as s:
            status = s.scalar(select(Run.status).where(Run.id == run_id))
            points = s.scalar(select(func.count(MetricPoint.id)).where(MetricPoint.run_id == run_id,
                                                                       MetricPoint.name == "loss"))
        if status not in ("queued", "running"):
            raise RuntimeError(f"the training run ended with status {status!r} before the measurement")
        if status == "running" and points:
            return
        time.sleep(2)
    raise RuntimeError(f"the training run did not start training within {timeout:.0f} s")


def stop_training(S, run_id: int) -> None:
    from db import runs as run_repo

    with S.begin() as s:
        run_repo.request_cancel(s, run_id)


# ---- Measurements ------------------------------------------------------------------------


def navigation(page, rounds: int) -> dict[str, list[float]]:
    """Seconds from a sidebar click until the page is ready, per page."""
    times: dict[str, list[float]] = {path: [] for _, path, _ in PAGES}
    nav = page.locator('[data-testid="stSidebarNav"]')
    for _ in range(rounds + 1):  # the first round warms the server's caches and is not counted
        for link, path, title in PAGES:
            t0 = time.perf_counter()
            nav.get_by_role("link", name=link, exact=True).click()
            page.wait_for_function(READY_JS, arg=[path, title], timeout=120_000, polling="raf")
            times[path].append(time.perf_counter() - t0)
    return {path: values[1:] for path, values in times.items()}


def labeller(page, app, presses: int, pace: float) -> tuple[list[float], list[float]]:
    """(Enter -> next sample shown, Enter -> save confirmed) in seconds, one press every ``pace`` s."""
    page.goto(app.url("label", project=PROJECT))
    page.wait_for_selector(f'{LABELLER}[data-busy="false"]', timeout=120_000)
    page.evaluate("() => { window.__tt.keys = []; window.__tt.marks = []; }")
    page.locator(LABELLER).evaluate(WATCH_JS)
    start = time.perf_counter()
    for i in range(presses):
        wait = start + i * pace - time.perf_counter()
        if wait > 0:
            time.sleep(wait)  # the labelling pace: one sample every `pace` seconds
        page.wait_for_selector(f'{LABELLER}[data-busy="false"]', timeout=60_000)
        for key in ("ArrowRight", "1", "Enter"):
            page.keyboard.press(key)
    page.wait_for_function(
        "root => Number(root.dataset.acked) >= Number(root.dataset.seq) && root.dataset.saving === 'false'",
        arg=page.locator(LABELLER).element_handle(), timeout=120_000,
    )
    record = page.evaluate("() => window.__tt")
    return _pair(record)


def _pair(record: dict) -> tuple[list[float], list[float]]:
    marks, keys = record["marks"], record["keys"]
    shown, saved = [], []
    for key in keys:
        after = [m for m in marks if m["t"] >= key["t"]]
        moved = next((m for m in after if m["sample"] != key["sample"] and m["busy"] == "false"), None)
        queued = next((m for m in after if m["seq"] > key["seq"]), None)
        if moved is None or queued is None:
            continue
        seq = queued["seq"]
        confirmed = next((m for m in after if m["acked"] >= seq), None)
        shown.append(((moved.get("painted") or moved["t"]) - key["t"]) / 1000)
        if confirmed is not None:
            saved.append((confirmed["t"] - key["t"]) / 1000)
    return shown, saved


# ---- Report ------------------------------------------------------------------------------


def figure(name: str, values: list[float], target: float | None, verdicts: list[str]) -> None:
    if not values:
        print(f"{name}: no measurements")
        verdicts.append(f"{name}: NOT MET (nothing measured)")
        return
    median, p95 = statistics.median(values) * 1000, percentile(values, 0.95) * 1000
    line = f"{name}: n={len(values)} median {median:.0f} ms, p95 {p95:.0f} ms, max {max(values) * 1000:.0f} ms"
    if target is None:
        print(line)
        return
    verdict = "MET" if p95 <= target * 1000 else "NOT MET"
    print(f"{line} (target p95 <= {target * 1000:.0f} ms: {verdict})")
    verdicts.append(f"{name}: p95 {p95:.0f} ms, target <= {target * 1000:.0f} ms: {verdict}")


def measure(page, app, args, phase: str, verdicts: list[str]) -> None:
    idle = phase == "idle"
    page.goto(app.url("label", project=PROJECT))
    page.wait_for_function(READY_JS, arg=["label", "Label"], timeout=180_000, polling="raf")
    nav = navigation(page, args.rounds)
    for _, path, _ in PAGES:
        figure(f"[{phase}] navigation to /{path}", nav[path], None, verdicts)
    every = [t for values in nav.values() for t in values]
    figure(f"[{phase}] navigation, every page", every, 1.0 if idle else None, verdicts)
    _, saved = labeller(page, app, args.presses, args.steady_pace)
    figure(f"[{phase}] labeller Enter -> save confirmed (one sample per {args.steady_pace:g} s)", saved,
           0.3 if idle else 0.6, verdicts)
    shown, saved_fast = labeller(page, app, args.presses, args.fast_pace)
    figure(f"[{phase}] labeller Enter -> next sample shown (one sample per {args.fast_pace:g} s)", shown,
           0.15, verdicts)
    figure(f"[{phase}] labeller Enter -> save confirmed (one sample per {args.fast_pace:g} s)", saved_fast,
           None, verdicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="navigation rounds over every page")
    parser.add_argument("--presses", type=int, default=60, help="Enter presses per labeller measurement")
    parser.add_argument("--steady-pace", type=float, default=1.0)
    parser.add_argument("--fast-pace", type=float, default=0.3)
    parser.add_argument("--no-training", action="store_true", help="skip the measurement during training")
    parser.add_argument("--keep", type=Path, help="use this folder as TAGTUNE_HOME and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tagtune-ui-bench-") as tmp:
        home = args.keep or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        os.environ["TAGTUNE_HOME"] = str(home)
        os.environ.pop("TAGTUNE_DB_URL", None)
        from core.base.store import sessions

        S = sessions()
        t0 = time.perf_counter()
        seed(S, args.samples)
        completed_run(S, home)
        print(f"seeded {args.samples:,} samples and a scored run in {time.perf_counter() - t0:.1f} s "
              f"(home {home})")
        run(S, home, args)


def run(S, home: Path, args) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

    app = start_app(home, {})  # `make run`'s command line; the demo projects are seeded as there
    verdicts: list[str] = []
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(RECORDER_JS)
            page = context.new_page()
            measure(page, app, args, "idle", verdicts)
            if not args.no_training:
                run_id = start_training(S)
                wait_training(S, run_id)
                try:
                    measure(page, app, args, "training", verdicts)
                finally:
                    stop_training(S, run_id)
            chromium.close()
    finally:
        stop_app(app)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
          f"{args.samples:,} samples, {args.rounds} navigation rounds, {args.presses} presses per labeller run")
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
