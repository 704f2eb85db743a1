"""Start a run from the Train page with a tiny local model, watch the loss chart grow, cancel it."""
from __future__ import annotations

import time

import pytest

from db import runs as run_repo
from tests.e2e.conftest import wait_for_app
from tests.tiny_models import make_tiny_model, seed_project

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOSS_POINTS = """() => {
  const plot = document.querySelector('.st-key-loss_chart .js-plotly-plot');
  return plot && plot.data && plot.data.length ? plot.data[0].x.length : 0;
}"""


def field(page, name: str):
    return page.locator(f".st-key-train_{name} input")


def set_number(page, name: str, value) -> None:
    box = field(page, name)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def test_start_watch_and_cancel_a_run(app, page, tmp_path):
    seed_project(app.sessions(), "tiny", "ner", n_train=64, n_dev=8)
    model = make_tiny_model(tmp_path / "tiny-bert")
    page.goto(app.url("train", project="tiny"))
    wait_for_app(page)
    model_box = field(page, "model")
    model_box.fill(str(model))
    model_box.press("Enter")
    wait_for_app(page)
    # The preset comes first; the schedule it fills (epochs, batch size, ...) is folded below it.
    assert "standard" in page.locator(".st-key-preset_summary").inner_text()
    page.get_by_text("Advanced settings").click()
    set_number(page, "epochs", 500)
    set_number(page, "batch_size", 4)
    set_number(page, "log_every", 1)
    params = page.locator(".st-key-trainable_params [data-testid='stMetricValue']")
    assert params.inner_text().replace(",", "").isdigit()

    page.locator(".st-key-start_training button").click()
    page.wait_for_selector(".st-key-run_status", timeout=60_000)
    # The worker picks the run up and the chart gains points while it runs.
    deadline = time.time() + 120
    first = 0
    while time.time() < deadline and first == 0:
        first = page.evaluate(LOSS_POINTS)
        time.sleep(0.5)
    assert first > 0, app.log.read_text()[-3000:]
    deadline = time.time() + 60
    later = first
    while time.time() < deadline and later <= first:
        later = page.evaluate(LOSS_POINTS)
        time.sleep(0.5)
    assert later > first
    page.locator(".st-key-loss_chart").screenshot(path=str(app.home / "train-loss-chart.png"))

    page.locator(".st-key-cancel_run button").click()
    page.wait_for_function(
        "() => document.querySelector('.st-key-run_status')?.innerText.includes('cancelled')", timeout=60_000)
    with app.sessions().begin() as s:
        run = run_repo.list_runs(s)[0]
        assert run.status == "cancelled" and run.cancel_requested
        n_points = len(run_repo.points(s, [run.id], names=["loss"]))
    assert n_points >= later
    page.locator(".st-key-run_status").screenshot(path=str(app.home / "train-cancelled.png"))
