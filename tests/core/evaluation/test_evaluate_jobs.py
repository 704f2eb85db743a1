"""``evaluate`` jobs: queued by pages, run by the worker, with phases, Cancel and the cache."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.base.errors import UserError
from core.evaluation import jobs, report
from core.evaluation.coverage import sample_fingerprint
from core.runs.jobs import handler_for, lane_of
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm

ROOT = Path(__file__).resolve().parents[3]


def run_job(S, job_id: int) -> None:
    """What the worker does with a claimed run, in this process."""
    with S.begin() as s:
        run_repo.mark_started(s, job_id, pid=os.getpid())
        kind = run_repo.get_run(s, job_id).kind
    handler_for(kind)(job_id)


@pytest.fixture
def ner_run(S, tmp_path):
    return tm.trained_ner_run(S, tmp_path, steps=40)


def test_evaluate_is_a_quick_job():
    assert lane_of("evaluate") == "quick"


def test_queueing_twice_gives_the_same_job_until_it_ends(S, ner_run):
    _, run_id = ner_run
    with S.begin() as s:
        first = jobs.queue(s, run_id, "test").id
        again = jobs.queue(s, run_id, "test").id
        other_split = jobs.queue(s, run_id, "dev").id
    assert again == first and other_split != first
    run_job(S, first)
    with S.begin() as s:
        assert jobs.queue(s, run_id, "test").id not in (first, other_split)


def test_the_worker_runs_an_evaluate_job_and_the_page_reads_the_cache(S, home, ner_run):
    _, run_id = ner_run
    assert report.cached(S, run_id, "test") is None
    with S.begin() as s:
        job_id = jobs.queue(s, run_id, "test").id
    env = {**os.environ, "TAGTUNE_HOME": str(home)}
    env.pop("TAGTUNE_DB_URL", None)
    subprocess.run([sys.executable, str(ROOT / "cli.py"), "worker", "--once"], cwd=ROOT, env=env, check=True,
                   timeout=300, capture_output=True)
    with S.begin() as s:
        job = run_repo.get_run(s, job_id)
        assert (job.status, job.error, job.progress, job.phase) == ("completed", None, 1.0, None)
        assert job.metrics["n"] == 8 and job.metrics["key"] == "test"
    ev = report.cached(S, run_id, "test")
    assert ev is not None and ev["n"] == 8 and job.metrics["f1"] == ev["default"]["report"]["f1"]


def test_a_relabelled_sample_invalidates_the_cache_the_page_reads(S, ner_run):
    pid, run_id = ner_run
    with S.begin() as s:
        job_id = jobs.queue(s, run_id, "test").id
    run_job(S, job_id)
    assert report.cached(S, run_id, "test") is not None
    with S.begin() as s:
        row = next(sample_repo.iter_labeled(s, project_repo.get_project_by_id(s, pid), splits=["test"]))
        sample_repo.save_annotations(s, row.id, row.version, spans=[])
    assert report.cached(S, run_id, "test") is None


def test_scoring_exactly_a_set_of_samples(S, ner_run):
    pid, run_id = ner_run
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        rows = list(sample_repo.iter_labeled(s, project, splits=["test"]))
    chosen = [r.id for r in rows[:3]]
    with S.begin() as s:
        job_id = jobs.queue(s, run_id, "test", sample_ids=chosen).id
    run_job(S, job_id)
    subset = report.cached(S, run_id, "test", chosen)
    assert subset["n"] == 3 and subset["sample_fingerprint"] == sample_fingerprint(chosen)
    assert subset["sample_ids"] == sorted(chosen)
    assert report.cached(S, run_id, "test") is None  # the full split is another score
    # The subset's errors are exactly the full split's errors in those samples; each sample holds
    # one PER and one LOC, so each label's support is the number of samples.
    full = report.evaluate(S, run_id, "test")
    assert subset["default"]["errors"]["items"] == [
        i for i in full["default"]["errors"]["items"] if i["sample_id"] in chosen]
    assert {label: row["support"] for label, row in subset["default"]["report"]["per_label"].items()} == {
        "PER": 3, "LOC": 3}


def test_a_set_with_samples_the_run_cannot_score_is_refused_by_name(S, ner_run):
    pid, run_id = ner_run
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        train_id = next(sample_repo.iter_labeled(s, project, splits=["train"])).id
        test_id = next(sample_repo.iter_labeled(s, project, splits=["test"])).id
    with pytest.raises(UserError, match=r"cannot score 1 of the 2 requested samples of 'test'"):
        report.evaluate(S, run_id, "test", sample_ids=[train_id, test_id])


def test_a_cancelled_evaluate_job_ends_cancelled_without_a_score(S, ner_run):
    _, run_id = ner_run
    with S.begin() as s:
        job_id = jobs.queue(s, run_id, "test").id
        run_repo.mark_started(s, job_id, pid=None)
        run_repo.request_cancel(s, job_id)
    jobs.execute(job_id)
    with S.begin() as s:
        assert run_repo.get_run(s, job_id).status == "cancelled"
    assert report.cached(S, run_id, "test") is None


def test_only_completed_runs_can_be_queued(S):
    pid = tm.ner_project(S)
    with S.begin() as s:
        run = run_repo.create_run(s, project_repo.get_project_by_id(s, pid), "finetune", {}, status="queued")
        with pytest.raises(UserError, match="expected a completed fine-tuning or ICL run, found a queued"):
            jobs.queue(s, run.id, "test")
