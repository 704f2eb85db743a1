"""One object that turns examples into ICL predictions: select demonstrations, build the
prompt, score labels or generate and parse. Used by the runner, the ICL page and the bench."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.icl import classify, ner, prompts
from core.icl.config import IclConfig
from core.icl.lm import LoadedLM, Progress, load_lm
from core.icl.select import Selector
from core.base.types import Example


@dataclass
class IclPrediction:
    output: dict  # {"spans": [[s, e, label], ...]} or {"categories": [...], "scores": {label: p}}
    raw: str  # the generated text (NER) or the label log-likelihoods (classification)
    seconds: float
    prompt: str
    demos: list[Example]
    dropped: list[tuple[str, str]] = field(default_factory=list)  # hallucinated (label, mention)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (type as written, mention)
    confidences: list[float] = field(default_factory=list)  # per span (NER) or per category


@dataclass
class PromptParts:
    chat: list[dict]
    prompt: str
    demos: list[Example]


class IclPredictor:
    def __init__(
        self,
        config: IclConfig,
        labels: list[str],
        pool: list[Example],
        project_id: int | None = None,
        multilabel: bool = False,
        progress: Progress | None = None,
        lm: LoadedLM | None = None,
    ):
        if not labels:
            raise ValueError("the project has no labels; add labels before prompting")
        self.config = config
        self.labels = labels
        self.multilabel = multilabel
        self.lm = lm or load_lm(config.lm, progress)
        self.selector = Selector(config, pool, project_id)
        self._content_free: dict[tuple, dict[str, float]] = {}

    def prepare(self, examples: list[Example]) -> None:
        self.selector.prepare(examples)

    def parts(self, example: Example) -> PromptParts:
        demos = self.selector.demos(example)
        shown = [prompts.demo_of(d, self.config) for d in demos]
        chat = prompts.messages(self.config, self.labels, shown, example.text)
        return PromptParts(chat, prompts.render(self.lm.tokenizer, chat), demos)

    def predict(self, examples: list[Example], should_stop: Callable[[], bool] | None = None) -> list[IclPrediction]:
        """Predictions in order; ``should_stop`` (checked during generation) lets a cancel end a batch early."""
        if self.config.task == "classification":
            return [self._classify(ex) for ex in examples]
        return self._extract(examples, should_stop)

    def _classify(self, example: Example) -> IclPrediction:
        start = time.perf_counter()
        parts = self.parts(example)
        content_free = self._content_free_probs(parts.demos) if self.config.calibrate else None
        scored = classify.classify(
            self.lm, parts.chat, self.labels, self.config.batch_size, content_free, self.multilabel
        )
        output = {"categories": scored.predicted, "scores": scored.probs}
        return IclPrediction(
            output, scored.raw(), time.perf_counter() - start, parts.prompt, parts.demos,
            confidences=[scored.probs[l] for l in scored.predicted],
        )

    def _content_free_probs(self, demos: list[Example]) -> dict[str, float]:
        # Fixed demonstration sets (random, balanced) need one content-free pass per run; knn one per query.
        key = tuple(d.id if d.id is not None else d.text for d in demos)
        if key not in self._content_free:
            shown = [prompts.demo_of(d, self.config) for d in demos]
            blank = prompts.messages(self.config, self.labels, shown, classify.CONTENT_FREE)
            self._content_free[key] = classify.content_free_probs(self.lm, blank, self.labels, self.config.batch_size)
        return self._content_free[key]

    def _extract(self, examples: list[Example], should_stop: Callable[[], bool] | None = None) -> list[IclPrediction]:
        start = time.perf_counter()
        parts = [self.parts(ex) for ex in examples]
        generated = ner.generate(self.lm, [p.prompt for p in parts], self.config.max_new_tokens, should_stop)
        each = (time.perf_counter() - start) / max(len(examples), 1)
        out = []
        for ex, part, gen in zip(examples, parts, generated):
            located = ner.locate(ex.text, ex.tokens, ner.parse(gen.text, self.labels))
            confidences = [gen.confidence(ex.text[s.start:s.end]) for s in located.spans]
            out.append(IclPrediction(
                {"spans": [[s.start, s.end, s.label] for s in located.spans]}, gen.text, each,
                part.prompt, part.demos, located.dropped, located.unknown, confidences,
            ))
        return out
