"""`cli.py predict`: per-word distributions and attention with the documented shapes."""
from __future__ import annotations

import json

import pytest
import torch

import cli
from core.inference import predict
from core.text.tokenize import word_offsets
from tests import tiny_runs as tm


@pytest.fixture
def ner_run(S, tmp_path):
    return tm.trained_ner_run(S, tmp_path, steps=40)[1]


def test_predict_with_attention(capsys, ner_run):
    text = "Erin flew to Lagos on Monday ."
    assert cli.main(["predict", str(ner_run), "--text", text, "--attention"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [t["text"] for t in out["tokens"]] == text.split()
    for tok in out["tokens"]:
        assert text[tok["start"] : tok["end"]] == tok["text"]
        assert len(tok["top"]) == 3 and tok["top"][0] == [tok["label"], tok["prob"]]
        # The full distribution over the labels sums to one; the top three are its largest entries.
        assert sum(tok["probs"].values()) == pytest.approx(1.0, abs=1e-5)
        assert tok["top"] == sorted(([l, p] for l, p in tok["probs"].items()), key=lambda x: -x[1])[:3]
    assert {(e["label"], e["text"]) for e in out["entities"]} == {("PER", "Erin"), ("LOC", "Lagos")}
    att = torch.tensor(out["attention"])
    layers, heads = 2, 2
    t = len(out["subwords"])  # [CLS] + subwords + [SEP]
    assert att.shape == (layers, heads, t, t)
    assert torch.allclose(att.sum(-1), torch.ones(layers, heads, t), atol=1e-5)


def out_checkpoint(run_id: int) -> str:
    from core.base.store import sessions
    from db import runs

    with sessions().begin() as s:
        return runs.get_run(s, run_id).checkpoint


def test_long_texts_are_windowed_and_every_word_predicted(ner_run):
    lm = predict.load(out_checkpoint(ner_run), "ner", max_length=12)
    text = " ".join(f"Alice flew to Paris on Monday ." for _ in range(6))
    (pred,) = predict.predict_texts(lm, [(text, word_offsets(text))])
    assert len(pred.windows) > 1
    assert all(len(w.input_ids) <= 12 for w in pred.windows)
    assert len(pred.tags) == len(word_offsets(text))
    # Neighbouring windows overlap (stride), so every word has context in some window.
    assert all(a.last_word >= b.first_word for a, b in zip(pred.windows, pred.windows[1:]))
    assert sum(1 for s in pred.spans() if s.label == "LOC") == 6


def test_word_attention_merges_subwords_and_keeps_rows_distributions(ner_run):
    lm = predict.load(out_checkpoint(ner_run), "ner")
    text = "Zyxwvut flew to Oslo"  # the first word splits into several subwords
    (window,) = predict.windows(lm, text, word_offsets(text))
    att = predict.attention(lm, window)
    merged, units = predict.word_attention(att, window)
    assert units == [None, 0, 1, 2, 3, None]
    assert merged.shape == (2, 2, 6, 6)
    assert torch.allclose(merged.sum(-1), torch.ones(2, 2, 6), atol=1e-5)
    first = [i for i, w in enumerate(window.word_ids) if w == 0]
    assert len(first) > 1
    assert torch.allclose(merged[..., 0, 1], att[..., 0, first].sum(-1))


def test_predict_refuses_runs_without_a_model(S, capsys):
    pid = tm.ner_project(S, "nomodel")
    from db import projects, runs

    with S.begin() as s:
        run = runs.create_run(s, projects.get_project_by_id(s, pid), "icl", {}, status="completed")
        run_id = run.id
    assert cli.main(["predict", str(run_id), "--text", "hi"]) == 1
    assert f"run {run_id} is a 'icl' run with no model checkpoint" in capsys.readouterr().err


def test_results_come_back_in_input_order_whatever_the_batching_and_progress_counts_texts(ner_run):
    lm = predict.load(out_checkpoint(ner_run), "ner")
    texts = [f"{name} flew to {place} on Monday" + " ." * (i % 5)
             for i, (name, place) in enumerate(zip(tm.NAMES * 3, tm.PLACES[::-1] * 3))] + [""]
    items = [(t, word_offsets(t)) for t in texts]
    calls = []
    batched = predict.predict_texts(lm, items, max_tokens=40, on_progress=lambda done, total: calls.append((done, total)))
    alone = [predict.predict_texts(lm, [item])[0] for item in items]
    assert [p.tags for p in batched] == [p.tags for p in alone]
    assert [p.text for p in batched] == texts and batched[-1].tags == []
    assert calls[0] == (1, len(texts)) and calls[-1] == (len(texts), len(texts))  # the empty text is done at once
    assert len(calls) > 3 and all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    # The model is left as it was found (training calls this on the model it trains).
    lm.model.train()
    predict.predict_texts(lm, items[:2])
    assert lm.model.training
    lm.model.eval()
