"""A deliberately wrong gold label comes first among the likely label errors."""
from __future__ import annotations

import json

import cli
from db import projects as project_repo
from db import samples as sample_repo
from tests import tiny_runs as tm


def test_flipped_label_ranks_first(S, tmp_path, capsys):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        row = list(sample_repo.iter_labeled(s, project, splits=["dev"]))[1]
        flipped = [(a, b, "LOC" if l == "PER" else "PER") for a, b, l in row.spans]
        sample_repo.save_annotations(s, row.id, row.version, spans=flipped)
    assert cli.main(["label-errors", str(run_id), "--split", "dev"]) == 0
    out = json.loads(capsys.readouterr().out)
    first = out["candidates"][0]
    assert first["sample_id"] == row.id and first["score"] > 0.5
    assert first["link"] == f"/label?project=toyner&sample={row.id}"
    assert [c["score"] for c in out["candidates"]] == sorted((c["score"] for c in out["candidates"]), reverse=True)


def test_the_ranking_job_stores_what_the_cli_prints(S, tmp_path, capsys):
    import os

    from core.labeling import label_errors
    from db import runs as run_repo

    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        row = list(sample_repo.iter_labeled(s, project, splits=["dev"]))[1]
        sample_repo.save_annotations(s, row.id, row.version,
                                     spans=[(a, b, "LOC" if l == "PER" else "PER") for a, b, l in row.spans])
        job_id = label_errors.queue(s, run_id, "dev", limit=5).id
        assert label_errors.queue(s, run_id, "dev", limit=5).id == job_id  # one job while it is queued
        run_repo.mark_started(s, job_id, pid=os.getpid())
    label_errors.execute(job_id)
    assert cli.main(["label-errors", str(run_id), "--split", "dev", "--limit", "5"]) == 0
    printed = json.loads(capsys.readouterr().out)["candidates"]
    with S.begin() as s:
        job = label_errors.latest(s, run_id, "dev")
        assert job.id == job_id and (job.status, job.progress, job.phase) == ("completed", 1.0, None)
        assert job.metrics["candidates"] == printed and printed[0]["sample_id"] == row.id
