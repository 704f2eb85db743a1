"""What the sample inspector shows, as plain data: gold vs predicted, per-token rows,
attention of a window (subword or word level), and which samples to walk through."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from sqlalchemy.orm import Session, sessionmaker

from core.inference import predict
from core.base.errors import UserError
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

SpanT = tuple[int, int, str]


def prob_text(p: float) -> str:
    """A probability for people, never a misleading "0.00" for a label the model still gives
    0.3%: 0.87, 0.014, 3.1e-04, and 0 only for an exact zero."""
    p = float(p)
    if p >= 0.1:
        return f"{p:.2f}"
    if p >= 0.001:
        return f"{p:.3f}"
    return f"{p:.1e}" if p > 0 else "0"


@dataclass
class SampleView:
    sample_id: int
    text: str
    tokens: list[tuple[int, int]]
    split: str
    task: str
    run_kind: str
    gold_spans: list[SpanT] = field(default_factory=list)
    pred_spans: list[SpanT] = field(default_factory=list)
    gold_categories: list[str] = field(default_factory=list)
    pred_categories: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    token_rows: list[dict] = field(default_factory=list)  # NER: word, subwords, label, prob, top 3
    windows: int = 0
    has_model: bool = False

    @property
    def only_gold(self) -> list[SpanT]:
        return sorted(set(self.gold_spans) - set(self.pred_spans))

    @property
    def only_predicted(self) -> list[SpanT]:
        return sorted(set(self.pred_spans) - set(self.gold_spans))


def run_info(S: sessionmaker[Session], run_id: int) -> tuple[object, str]:
    """The run (detached, without its metrics) and its project's task."""
    with S.begin() as s:
        run = run_repo.get_run(s, run_id, metrics=False)
        task = project_repo.get_project_by_id(s, run.project_id).task
        s.expunge(run)
        return run, task


def sample_view(S: sessionmaker[Session], run_id: int, sample_id: int) -> SampleView:
    run, task = run_info(S, run_id)
    with S.begin() as s:
        row = sample_repo.annotations_of(s, sample_id)
        if sample_repo.get_sample(s, sample_id).project_id != run.project_id:
            raise UserError(f"sample {sample_id} is not in the project of run {run_id}; pick a sample of that project")
        stored = {p.sample_id: p.output for p in run_repo.predictions(s, run_id)} if run.kind == "icl" else {}
    view = SampleView(
        sample_id, row.text, [tuple(t) for t in row.tokens], row.split, task, run.kind,
        gold_spans=[tuple(x) for x in row.spans], gold_categories=list(row.categories),
    )
    if run.kind == "icl":
        out = stored.get(sample_id) or {}
        view.pred_spans = [(int(a), int(b), str(c)) for a, b, c in out.get("spans", [])]
        view.pred_categories = list(out.get("categories", []))
        view.scores = dict(out.get("scores") or {})
        return view
    lm = predict.load_run(run, task)
    (pred,) = predict.predict_texts(lm, [(view.text, view.tokens)])
    view.has_model, view.windows = True, len(pred.windows)
    if task == "ner":
        view.pred_spans = [(sp.start, sp.end, sp.label) for sp in pred.spans()]
        gold_tags = _gold_tags(view)
        for i, ((s, e), tag, dist, subs) in enumerate(zip(pred.tokens, pred.tags, pred.probs, pred.subwords)):
            top = predict.top_k(lm.labels, dist)
            view.token_rows.append({
                "#": i, "word": view.text[s:e], "subwords": " ".join(subs), "gold": gold_tags[i],
                "predicted": tag, "prob": round(max(dist), 4),
                "top 3": ", ".join(f"{l} {prob_text(p)}" for l, p in top), "ok": gold_tags[i] == tag,
            })
    else:
        view.pred_categories, view.scores = pred.categories, pred.scores
    return view


def _gold_tags(view: SampleView) -> list[str]:
    from core.text.spans import spans_to_bio
    from core.base.types import Span

    return spans_to_bio(view.tokens, [Span(*x) for x in view.gold_spans])


@dataclass
class AttentionData:
    labels: list[str]  # axis labels: subwords, or words with special tokens
    weights: torch.Tensor  # (layers, heads, T, T), rows sum to one
    window: int
    windows: int
    # The word (index into the sample's words, as in the token table) of each row; None: special token.
    word_ids: list[int | None] = field(default_factory=list)


def attention_data(S: sessionmaker[Session], run_id: int, sample_id: int, window: int = 0, words: bool = False) -> AttentionData:
    run, task = run_info(S, run_id)
    with S.begin() as s:
        sample = sample_repo.get_sample(s, sample_id)
        text, tokens = sample.text, [tuple(t) for t in sample.tokens]
    lm = predict.load_run(run, task)
    wins = predict.windows(lm, text, tokens)
    if not wins:
        raise UserError(f"sample {sample_id} has no words; nothing to attend to")
    window = min(max(window, 0), len(wins) - 1)
    win = wins[window]
    att = predict.attention(lm, win)  # (layers, heads, T, T)
    if not words:
        return AttentionData(win.subwords, att, window, len(wins), list(win.word_ids))
    merged, units = predict.word_attention(att, win)  # (layers, heads, W, W)
    specials = iter(s for s, w in zip(win.subwords, win.word_ids) if w is None)
    labels = [next(specials) if u is None else text[tokens[u][0] : tokens[u][1]] for u in units]
    return AttentionData(labels, merged, window, len(wins), list(units))


def walk_ids(S: sessionmaker[Session], run_id: int, split: str, kind: str | None = None) -> list[int]:
    """Samples to step through: those behind an error kind of the cached evaluation of ``split``
    (any kind when None), else every labelled sample of the split."""
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        ev = ((run.metrics or {}).get("eval") or {}).get(split)
        if ev:
            res = ev["default"]
            if ev["task"] == "ner":
                groups = res["errors"]["samples"]
                ids = groups.get(kind, []) if kind else sorted({i for v in groups.values() for i in v})
            else:
                ids = res.get("mistake_ids", [])
            if ids:
                return list(ids)
        project = project_repo.get_project_by_id(s, run.project_id)
        return [r.id for r in sample_repo.iter_labeled(s, project, splits=[split])]
