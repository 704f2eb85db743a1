"""The light queries jobs and pages use: labelled (id, version) pairs, prediction ids, a run's jobs."""
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo


def test_labeled_versions_follow_split_status_and_relabels(S):
    with S.begin() as s:
        p = project_repo.create_project(s, "p", "ner", ["PER"])
        sample_repo.add_samples(s, p, [
            sample_repo.NewSample("Ann", [(0, 3)], split="test", status="labeled", spans=[(0, 3, "PER")]),
            sample_repo.NewSample("Bo", [(0, 2)], split="test", status="unlabeled"),
            sample_repo.NewSample("Cy", [(0, 2)], split="dev", status="labeled"),
            sample_repo.NewSample("Di", [(0, 2)], split="test", status="labeled"),
        ])
        ids = [r.id for r in sample_repo.iter_labeled(s, p, statuses=None)]
        assert sample_repo.labeled_versions(s, p, ["test"]) == [(ids[0], 1), (ids[3], 1)]
        assert sample_repo.labeled_versions(s, p, ["test", "dev"], sample_ids=[ids[2], ids[3]]) == [
            (ids[2], 1), (ids[3], 1)]
        sample_repo.save_annotations(s, ids[0], 1, spans=[])
    with S.begin() as s:
        p = project_repo.get_project(s, "p")
        assert sample_repo.labeled_versions(s, p, ["test"])[0] == (ids[0], 2)  # a relabel bumps the version


def test_prediction_ids_and_jobs_of_a_run(S):
    with S.begin() as s:
        p = project_repo.create_project(s, "p", "ner", ["PER"])
        sample_repo.add_samples(s, p, [sample_repo.NewSample(t, [(0, 2)]) for t in ("Ab", "Cd")])
        a, b = [r.id for r in sample_repo.iter_labeled(s, p, statuses=None)]
        model = run_repo.create_run(s, p, "icl", {})
        run_repo.save_prediction(s, model.id, b, {"spans": []})
        first = run_repo.create_run(s, p, "evaluate", {"run_id": model.id}, parent_run_id=model.id)
        run_repo.create_run(s, p, "export_model", {}, parent_run_id=model.id)
        second = run_repo.create_run(s, p, "evaluate", {"run_id": model.id}, parent_run_id=model.id)
        run_repo.create_run(s, p, "evaluate", {})  # another run's job
        stored = run_repo.predictions(s, model.id)
        assert run_repo.prediction_ids(s, model.id) == {b: stored[0].id}
        assert [j.id for j in run_repo.jobs_of(s, model.id, "evaluate")] == [second.id, first.id]
