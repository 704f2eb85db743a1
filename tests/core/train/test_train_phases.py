"""Training reports its phases with their own progress: training, evaluating k/n (one bar per
dev evaluation, counted in texts by the inference path), exporting, and for LoRA the dev scoring
of the merged weights, so a page's bar never sits still."""
from __future__ import annotations

from core.train.callback import MemoryReporter, RunCallback
from core.train.config import TrainConfig
from core.train.trainer import train_examples
from db import runs as run_repo
from tests.tiny_models import make_tiny_model, ner_examples, seed_project


def config(tiny, **changes) -> TrainConfig:
    base = dict(model=str(tiny), max_steps=4, batch_size=4, log_every=1, eval_steps=2, learning_rate=1e-3)
    return TrainConfig(**{**base, **changes})


def test_phases_in_order_each_with_its_own_progress(tmp_path):
    tiny = make_tiny_model(tmp_path / "tiny")
    reporter = MemoryReporter()
    dev = ner_examples(12, "dev")
    train_examples(config(tiny), ner_examples(16), dev, ["PER", "LOC"], "ner", tmp_path / "out", callback=reporter)
    evaluations = [p for p in reporter.phases if p.startswith("evaluating")]
    assert evaluations == ["evaluating 1/2", "evaluating 2/2"]  # every 2 of 4 steps
    # The kept weights' dev score is the evaluation's own: no second scoring after the export.
    assert reporter.phases[0] == "training" and reporter.phases[-1] == "exporting"
    assert "scoring dev" not in reporter.phases
    assert reporter.phases[reporter.phases.index("evaluating 1/2") + 1] == "training"
    for name in evaluations:
        steps = reporter.phase_steps[name]
        done = [d for d, _ in steps]
        assert done[0] == 0 and steps[-1] == (len(dev), len(dev)) and done == sorted(done)  # texts done


def test_lora_scores_its_merged_weights_as_a_phase_of_its_own(tmp_path):
    tiny = make_tiny_model(tmp_path / "tiny")
    reporter = MemoryReporter()
    dev = ner_examples(12, "dev")
    train_examples(config(tiny, strategy="lora"), ner_examples(16), dev, ["PER", "LOC"], "ner", tmp_path / "out",
                   callback=reporter)
    assert reporter.phases[-2:] == ["exporting", "scoring dev"]
    assert reporter.phase_steps["scoring dev"][-1] == (len(dev), len(dev))


def test_an_evaluation_reported_by_the_inference_path_is_a_phase_of_its_own():
    reporter = MemoryReporter()
    reporter._planned = 2  # as on_train_begin finds for 2 planned evaluations
    reporter.enter("training")
    for done in (0, 16, 32):
        reporter.evaluating(done, 32)
    reporter.enter("training")
    reporter.evaluating(0, 32)
    assert reporter.phases == ["training", "evaluating 1/2", "training", "evaluating 2/2"]
    assert reporter.phase_steps["evaluating 1/2"] == [(0, 32), (16, 32), (32, 32)]


class Snapshots(RunCallback):
    """A RunCallback that reads back what it wrote after each phase report."""

    def __init__(self, S, run_id):
        super().__init__(S, run_id)
        self.seen: list[tuple[str | None, float | None, float]] = []

    def phase_progress(self, done, total):
        super().phase_progress(done, total)
        with self.S.begin() as s:
            run = run_repo.get_run(s, self.run_id)
            self.seen.append((run.phase, run.phase_progress, run.progress))


def test_the_database_shows_the_final_scoring_moving_while_steps_are_all_done(S, tmp_path, monkeypatch):
    monkeypatch.setattr("core.runs.progress.WRITE_SECONDS", 0.0)
    tiny = make_tiny_model(tmp_path / "tiny")
    seed_project(S, "p", "ner", n_train=8, n_dev=4)
    with S.begin() as s:
        from db import projects as project_repo

        run = run_repo.create_run(s, project_repo.get_project(s, "p"), "finetune", {}, status="running")
        run_id = run.id
    callback = Snapshots(S, run_id)
    dev = ner_examples(40, "dev")
    train_examples(config(tiny, batch_size=8, strategy="lora"), ner_examples(16), dev, ["PER", "LOC"], "ner",
                   tmp_path / "out", callback=callback)
    final = [(f, p) for phase, f, p in callback.seen if phase == "scoring dev"]
    assert final and final[-1][0] == 1.0
    assert all(p == 1.0 for _, p in final)  # every step done: the phase's own bar is what moves
    assert [f for f, _ in final] == sorted(f for f, _ in final)
    evaluating = [phase for phase, _, _ in callback.seen if phase and phase.startswith("evaluating")]
    assert evaluating and set(evaluating) <= {"evaluating 1/2", "evaluating 2/2"}
