"""The labelling loop without a browser: history, queue, suggestions, saving and conflicts."""
from __future__ import annotations

import pytest

from core.labeling import queue as labeling
from core.labeling.queue import History, QueueFilter
from core.text.tokenize import word_offsets
from db import projects as project_repo
from db import samples as sample_repo


def _seed(S, texts, task="ner", labels=("PER", "LOC"), splits=None, multilabel=False):
    with S.begin() as s:
        project = project_repo.create_project(s, "p", task, list(labels), multilabel=multilabel)
        rows = [
            sample_repo.NewSample(t, word_offsets(t), split=(splits[i] if splits else "train"))
            for i, t in enumerate(texts)
        ]
        sample_repo.add_samples(s, project, rows)
        return project.id, sample_repo.queue_ids(s, project, status=None, limit=100)


def _project(s):
    return project_repo.get_project(s, "p")


def test_history_goes_back_and_forward_and_drops_the_forward_branch_on_open():
    h = History().open(1).open(2).open(3)
    assert (h.current, h.can_back, h.can_forward) == (3, True, False)
    h = h.back().back()
    assert (h.current, h.can_back, h.can_forward) == (1, False, True)
    assert h.back() == h  # nothing before the first
    assert h.forward().current == 2
    branched = h.open(9)
    assert branched.ids == (1, 9) and branched.current == 9
    assert branched.open(9) is branched


def test_advance_walks_the_queue_then_points_past_the_end(S):
    _, ids = _seed(S, ["Ann met Bob.", "Cara left.", "Dan stayed."])
    queue = QueueFilter()
    with S.begin() as s:
        h = labeling.advance(s, _project(s), History(), queue)
        assert h.current == ids[0]
        # Not saved yet: the queue still offers the next one, not the one on screen.
        h = labeling.advance(s, _project(s), h, queue)
        assert h.current == ids[1]
        h = labeling.advance(s, _project(s), h, queue)
        h = labeling.advance(s, _project(s), h, queue)
        assert h.current is None and h.can_back
        assert h.back().current == ids[2]
        # Forward history is replayed before the queue.
        replay = labeling.advance(s, _project(s), History(ids=tuple(ids), pos=0), queue)
        assert replay.current == ids[1]


def test_queue_filters_by_split_and_status_and_follows_priority(S):
    _, ids = _seed(S, ["a b", "c d", "e f"], splits=["train", "dev", "dev"])
    with S.begin() as s:
        p = _project(s)
        assert labeling.next_sample(s, p, QueueFilter(split="dev")) == ids[1]
        sample_repo.set_priorities(s, {ids[2]: 0.9})
        assert labeling.next_sample(s, p, QueueFilter(split="dev")) == ids[2]
        assert labeling.next_sample(s, p, QueueFilter(split="test")) is None
        assert labeling.skip(s, ids[0], 1).saved
        assert labeling.next_sample(s, p, QueueFilter(status="skipped")) == ids[0]
        assert labeling.next_sample(s, p, QueueFilter(status=None), seen=(ids[2], ids[0])) == ids[1]


def test_accept_saves_whole_token_spans_annotator_and_seconds_in_one_go(S):
    _, ids = _seed(S, ["Barack Obama visited Paris."])
    with S.begin() as s:
        # [1, 9) cuts into both words: it is widened to "Barack Obama".
        out = labeling.accept(s, ids[0], 1, spans=[(1, 9, "PER"), (21, 26, "LOC")], annotator="ada", seconds=4.5)
        assert out.saved and out.version == 2
    with S.begin() as s:
        row = sample_repo.annotations_of(s, ids[0])
        sample = sample_repo.get_sample(s, ids[0])
        assert row.spans == [(0, 12, "PER"), (21, 26, "LOC")]
        assert (row.status, sample.annotator, sample.seconds_spent, row.version) == ("labeled", "ada", 4.5, 2)


def test_a_second_save_from_an_old_version_is_refused_and_changes_nothing(S):
    _, ids = _seed(S, ["Ann met Bob."])
    with S.begin() as s:
        assert labeling.accept(s, ids[0], 1, spans=[(0, 3, "PER")], annotator="tab1").saved
    with S.begin() as s:
        late = labeling.accept(s, ids[0], 1, spans=[(8, 11, "PER")], annotator="tab2")
        skipped = labeling.skip(s, ids[0], 1, annotator="tab2")
    assert not late.saved and late.version == 2
    assert "changed elsewhere" in late.message and "version 1" in late.message and "tab1" in late.message
    assert not skipped.saved
    with S.begin() as s:
        row = sample_repo.annotations_of(s, ids[0])
        assert row.spans == [(0, 3, "PER")] and row.status == "labeled" and row.version == 2


def test_spans_that_cover_no_word_or_overlap_are_rejected(S):
    _, ids = _seed(S, ["Ann  met Bob."])
    with S.begin() as s:
        with pytest.raises(ValueError, match="covers no word token"):
            labeling.accept(s, ids[0], 1, spans=[(3, 5, "PER")])
        # The words, not character offsets: a person reads the message.
        with pytest.raises(ValueError, match="spans overlap: PER 'Ann' and LOC 'Ann  met'; NER spans"):
            labeling.accept(s, ids[0], 1, spans=[(0, 3, "PER"), (1, 8, "LOC")])


def test_load_task_prefills_suggestions_only_until_a_person_labels(S):
    _, ids = _seed(S, ["Ann met Bob.", "Cara left."])
    with S.begin() as s:
        sample_repo.replace_suggestions(s, ids[0], "llm", spans=[(8, 11, "PER", 0.4)])
        sample_repo.replace_suggestions(s, ids[0], "model", spans=[(0, 3, "PER", 0.8), (8, 11, "LOC", 0.6)])
        sample_repo.replace_suggestions(s, ids[1], "model", spans=[(0, 4, "PER", 0.9)])
    with S.begin() as s:
        task = labeling.load_task(s, ids[0])
        assert task.spans == [(0, 3, "PER"), (8, 11, "LOC")]
        assert (task.suggestion_source, task.suggestion_confidence) == ("model", 0.6)
        plain = labeling.load_task(s, ids[1])
        assert plain.suggestion_source == "model"
        # Accepting in one keystroke turns the suggestions into human labels.
        assert labeling.accept(s, ids[0], task.version, spans=task.spans, annotator="ada").saved
        # A person saying "no entities" is not overridden by the model.
        assert labeling.accept(s, ids[1], plain.version, spans=[], annotator="ada").saved
    with S.begin() as s:
        human = labeling.load_task(s, ids[0])
        assert human.spans == [(0, 3, "PER"), (8, 11, "LOC")] and human.suggestion_source is None
        assert sample_repo.annotations_of(s, ids[0], source="human").spans == human.spans
        empty = labeling.load_task(s, ids[1])
        assert empty.spans == [] and empty.suggestion_source is None


def test_classification_accept_and_suggested_categories(S):
    _, ids = _seed(S, ["Great match.", "Vote today."], task="classification", labels=("sport", "politics"))
    with S.begin() as s:
        sample_repo.replace_suggestions(s, ids[1], "model", categories=[("politics", 0.7)])
    with S.begin() as s:
        assert labeling.load_task(s, ids[1]).categories == ["politics"]
        assert labeling.accept(s, ids[0], 1, categories=["sport"], annotator="ada").saved
        with pytest.raises(ValueError, match="unknown label 'weather'"):
            labeling.accept(s, ids[1], 1, categories=["weather"])
    with S.begin() as s:
        assert labeling.load_task(s, ids[0]).categories == ["sport"]
        assert labeling.progress(s, _project(s)) == labeling.Progress(1, 2)


def test_progress_counts_per_split(S):
    _, ids = _seed(S, ["a", "b", "c"], splits=["train", "train", "dev"])
    with S.begin() as s:
        labeling.accept(s, ids[0], 1, spans=[])
        p = _project(s)
        assert labeling.progress(s, p, "train") == labeling.Progress(1, 2)
        assert labeling.progress(s, p, "dev").fraction == 0.0
        assert labeling.progress(s, p).total == 3


def test_samples_per_hour():
    assert labeling.samples_per_hour(0, 100.0, 200.0) is None
    assert labeling.samples_per_hour(3, None, 200.0) is None
    assert labeling.samples_per_hour(10, 0.0, 60.0) == pytest.approx(600.0)


def test_label_palette_keeps_project_order_colours_and_hotkeys(S):
    _seed(S, ["a"], labels=("PER", "LOC"))
    with S.begin() as s:
        palette = labeling.label_palette(s, _project(s))
    assert [(l["name"], l["hotkey"]) for l in palette] == [("PER", "1"), ("LOC", "2")]
    assert all(l["colour"].startswith("#") for l in palette)


def test_queue_order_matches_priority_then_id_across_levels_and_exclusions(S):
    import random

    _, ids = _seed(S, [f"w{i}" for i in range(40)])
    rng = random.Random(3)
    priorities = {i: rng.choice([0.0, 0.25, 0.5, 0.9]) for i in ids}
    with S.begin() as s:
        sample_repo.set_priorities(s, priorities)
        p = _project(s)
        excluded = set(ids[::5])
        expected = sorted((i for i in ids if i not in excluded), key=lambda i: (-priorities[i], i))
        assert sample_repo.queue_ids(s, p, limit=25, exclude=excluded) == expected[:25]
        assert sample_repo.queue_ids(s, p, limit=10**6, exclude=excluded) == expected  # the plain path agrees
        assert sample_repo.get_sample(s, ids[0]).version == 1  # reordering is not an edit


def test_a_new_queue_filter_may_serve_samples_seen_under_the_old_one(S):
    _, ids = _seed(S, ["Ann met Bob.", "Cara left."])
    with S.begin() as s:
        p = _project(s)
        h = labeling.advance(s, p, History(), QueueFilter())
        assert labeling.accept(s, h.current, 1, spans=[(0, 3, "PER")]).saved
        h = labeling.advance(s, p, h, QueueFilter())
        assert h.current == ids[1]
        review = QueueFilter(status="labeled")
        # Same filter: a seen sample is not served twice; a new filter starts afresh.
        assert labeling.advance(s, p, h, review).current is None
        fresh = labeling.advance(s, p, h.new_queue(), review)
        assert fresh.current == ids[0] and fresh.back().current == ids[1]
        assert labeling.advance(s, p, fresh, review).current is None


def test_overlapping_suggestions_are_reduced_to_spans_that_can_be_saved(S):
    _, ids = _seed(S, ["New York City Hall opened."])
    with S.begin() as s:
        sample_repo.replace_suggestions(
            s, ids[0], "llm", spans=[(4, 13, "LOC", 0.5), (0, 8, "LOC", 0.6), (0, 18, "LOC", 0.4), (19, 25, "PER", 0.2)]
        )
    with S.begin() as s:
        task = labeling.load_task(s, ids[0])
        assert task.spans == [(0, 18, "LOC"), (19, 25, "PER")]
        assert labeling.accept(s, ids[0], task.version, spans=task.spans).saved
