"""Comparing runs on the same samples, or saying that they were not.

Every score a run holds says what it covers (core.evaluation.coverage): the run's own score (dev
for a fine-tuned run, the split an ICL run predicted) and each cached evaluation. ``compare``
picks, per run, its score on a split; when one sample set is scored by every run the rows use it
and are comparable by construction, otherwise the comparison is flagged and names the sets.

``same_samples_plan`` says how to make them comparable: ICL runs can only be scored on samples
they predicted (their stored predictions), so the target is the samples every selected ICL run
predicted in the split (fine-tuned runs are scored on exactly those), or the whole split when
no ICL run is selected. ``queue_same_samples`` queues those ``evaluate`` jobs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.base.errors import UserError
from core.evaluation.coverage import sample_fingerprint
from core.evaluation.metrics import headline
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from db.models import Run

COMPARED_KINDS = ("finetune", "icl")


@dataclass(frozen=True)
class Score:
    """One score of a run: where it is stored and what it covers."""

    source: str  # "run": the run's own score; "eval": a cached evaluation (its key)
    split: str
    n: int | None
    fingerprint: str | None  # None: an old score that does not say which samples it covers
    value: float | None  # the headline (entity F1, or accuracy)


@dataclass
class Comparison:
    split: str
    metric: str
    rows: list[dict]
    comparable: bool
    reason: str  # why not, in words ("" when comparable)
    fingerprint: str | None = None  # the shared sample set when comparable


@dataclass
class Plan:
    """What "score on the same samples" does: score ``to_score`` on ``sample_ids`` of ``split``."""

    split: str
    sample_ids: list[int] | None  # None: every labelled sample of the split
    to_score: list[int] = field(default_factory=list)
    note: str = ""


def scores_of(run: Run, task: str) -> list[Score]:
    """Every score a run holds, its own first."""
    metrics = run.metrics or {}
    out = []
    own = headline(task, metrics)[1]
    if own is not None and metrics.get("split"):
        out.append(Score("run", metrics["split"], metrics.get("n"), metrics.get("sample_fingerprint"), own))
    for key, ev in (metrics.get("eval") or {}).items():
        report = (ev.get("default") or {}).get("report")
        if report is not None:
            out.append(Score(f"eval:{key}", ev["split"], ev.get("n"), ev.get("sample_fingerprint"),
                             headline(task, report)[1]))
    return out


def _headline_score(scores: list[Score], split: str) -> Score | None:
    """A run's score on ``split`` when no sample set is shared: the whole split's evaluation, else
    its own score on the split, else the largest set it was scored on."""
    on_split = [s for s in scores if s.split == split]
    for wanted in (f"eval:{split}", "run"):
        for s in on_split:
            if s.source == wanted:
                return s
    return max(on_split, key=lambda s: s.n or 0, default=None)


def compare(session, run_ids: list[int], split: str = "test") -> Comparison:
    runs = [run_repo.get_run(session, i) for i in run_ids]
    if not runs:
        raise UserError("expected at least one run to compare, found none; pick runs of one project")
    projects = {r.project_id for r in runs}
    if len(projects) > 1:
        raise UserError(f"runs {run_ids} belong to {len(projects)} projects: expected runs of one project")
    task = project_repo.get_project_by_id(session, runs[0].project_id).task
    metric = headline(task, None)[0]
    scores = {r.id: [s for s in scores_of(r, task) if s.split == split] for r in runs}
    shared = set.intersection(*({s.fingerprint for s in scores[r.id] if s.fingerprint} for r in runs))
    if shared:
        # The largest sample set every run was scored on; an evaluation before the run's own score
        # (scored now, by the same code for every kind of run).
        def n_of(fp: str) -> int:
            return max(s.n or 0 for r in runs for s in scores[r.id] if s.fingerprint == fp)

        fingerprint = max(sorted(shared), key=n_of)
        picked = {r.id: sorted((s for s in scores[r.id] if s.fingerprint == fingerprint),
                               key=lambda s: s.source == "run")[0] for r in runs}
        return Comparison(split, metric, [_row(r, picked[r.id]) for r in runs], True, "", fingerprint)
    picked = {r.id: _headline_score(scores[r.id], split) for r in runs}
    rows = [_row(r, picked[r.id]) for r in runs]
    return Comparison(split, metric, rows, False, _why_not(rows, split))


def _row(run: Run, score: Score | None) -> dict:
    return {"id": run.id, "kind": run.kind, "name": run.name, "value": score.value if score else None,
            "n": score.n if score else None, "sample_fingerprint": score.fingerprint if score else None,
            "source": score.source if score else None}


def _why_not(rows: list[dict], split: str) -> str:
    missing = [f"#{r['id']}" for r in rows if r["value"] is None]
    unknown = [f"#{r['id']}" for r in rows if r["value"] is not None and not r["sample_fingerprint"]]
    sets: dict[str, list[str]] = {}
    for r in rows:
        if r["sample_fingerprint"]:
            sets.setdefault(r["sample_fingerprint"], []).append(f"#{r['id']} ({r['n']} samples)")
    parts = []
    if len(sets) > 1:
        parts.append(f"scored on different {split} samples: " + " vs ".join(", ".join(v) for v in sets.values()))
    if missing:
        parts.append(f"{', '.join(missing)} not scored on {split} yet")
    if unknown:
        parts.append(f"{', '.join(unknown)} scored before scores recorded their samples")
    return "; ".join(parts) + "; score them on the same samples to compare"


def same_samples_plan(session, run_ids: list[int], split: str = "test") -> Plan:
    """The sample set every selected run can be scored on, and which runs still need scoring."""
    runs = [run_repo.get_run(session, i) for i in run_ids]
    usable = [r for r in runs if r.kind in COMPARED_KINDS and r.status == "completed"
              and (r.kind == "icl" or r.checkpoint)]
    skipped = [f"#{r.id}" for r in runs if r not in usable]
    if not usable:
        raise UserError(f"none of runs {run_ids} can be scored: expected completed fine-tuning or ICL runs")
    project = project_repo.get_project_by_id(session, usable[0].project_id)
    in_split = [i for i, _ in sample_repo.labeled_versions(session, project, [split])]
    icl = [r for r in usable if r.kind == "icl"]
    sample_ids: list[int] | None = None
    note = f"every labelled {split} sample ({len(in_split)})"
    if icl:
        common = set(in_split)
        for r in icl:
            common &= set(run_repo.prediction_ids(session, r.id))
        if not common:
            raise UserError(
                f"the ICL runs {', '.join(f'#{r.id}' for r in icl)} share no predicted labelled {split} sample: "
                f"expected some in common; run ICL on the full {split} split instead"
            )
        sample_ids = sorted(common)
        note = f"the {len(sample_ids)} labelled {split} samples the ICL run(s) predicted"
    if skipped:
        note += f"; skipped {', '.join(skipped)} (not a completed fine-tuning or ICL run)"
    target = sample_fingerprint(sample_ids if sample_ids is not None else in_split)
    to_score = [r.id for r in usable if not _scored_on(r, project.task, split, sample_ids, target, session)]
    return Plan(split, sample_ids, to_score, note)


def _scored_on(run: Run, task: str, split: str, sample_ids: list[int] | None, target: str, session) -> bool:
    """Whether the run holds a score on exactly the target samples: its own score, or an
    evaluation that is still current (no relabelled sample, same model)."""
    from core.evaluation import report

    if any(s.source == "run" and s.split == split and s.fingerprint == target for s in scores_of(run, task)):
        return True
    ev = report.current(session, run, split, sample_ids)
    return ev is not None and ev.get("sample_fingerprint") == target


def queue_same_samples(session, run_ids: list[int], split: str = "test",
                       status: str = "queued") -> tuple[Plan, list[int]]:
    """Queue an ``evaluate`` job for every run not yet scored on the shared samples; their ids.
    (``status="running"``: jobs the caller runs in the foreground, which no worker may claim.)"""
    from core.evaluation import jobs

    plan = same_samples_plan(session, run_ids, split)
    queued = [jobs.queue(session, run_id, split, sample_ids=plan.sample_ids, status=status).id
              for run_id in plan.to_score]
    return plan, queued


def icl_on_full_split(session, run_id: int, split: str = "test") -> int:
    """Queue a new ICL run with ``run_id``'s settings on every labelled sample of ``split``."""
    from dataclasses import replace

    from core.icl.config import IclConfig
    from core.icl.launch import create_icl_run

    run = run_repo.get_run(session, run_id)
    if run.kind != "icl":
        raise UserError(f"run {run_id} is a {run.kind!r} run: expected an ICL run to repeat on the full split")
    config = replace(IclConfig.from_json(run.config), split=split, limit=None, suggest=False)
    project = project_repo.get_project_by_id(session, run.project_id)
    return create_icl_run(session, project.name, config, name=f"{run.name} · full {split}").id
