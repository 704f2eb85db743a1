"""IclConfig: the one configuration of an in-context-learning run (stored as Run.config).

An empty ``instruction`` / ``example`` is replaced by the task's default in __post_init__, so
the JSON stored on the run always holds the exact templates that produced its prompts.
"""
from __future__ import annotations

import json
import string
from dataclasses import asdict, dataclass, field, fields

from core.base.types import SPLITS, TASKS

SELECTIONS = ("random", "knn", "balanced")

# Placeholders each template may use (str.format names).
INSTRUCTION_FIELDS = ("labels", "descriptions")
EXAMPLE_FIELDS = ("text",)

DEFAULT_INSTRUCTION = {
    "classification": (
        "Classify the text into exactly one of these categories: {labels}.\n"
        "{descriptions}"
        "Answer with the category name only."
    ),
    "ner": (
        "Find the named entities in the text. Entity types: {labels}.\n"
        "{descriptions}"
        "Write one entity per line as `type: mention`, copying the mention exactly as it is written "
        "in the text. Write `none` if the text has no entity."
    ),
}
DEFAULT_EXAMPLE = {"classification": "Text: {text}\nCategory:", "ner": "Text: {text}\nEntities:"}
DEFAULT_MAX_NEW_TOKENS = {"classification": 8, "ner": 32}


def _placeholders(template: str, name: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ValueError(
            f"{name} template {template!r} is not a valid template ({exc}); write placeholders as "
            "{name} and literal braces as {{ and }}"
        ) from exc


@dataclass(frozen=True)
class IclConfig:
    """Few-shot prompting of a causal LM. ``lm`` empty means the packaged SmolLM2-135M-Instruct."""

    task: str = "classification"
    lm: str = ""
    shots: int = 4
    selection: str = "knn"
    instruction: str = ""
    example: str = ""
    # label -> description shown in the instruction; the runner fills it from Label.description.
    label_descriptions: dict = field(default_factory=dict, hash=False)
    max_new_tokens: int = 0  # 0: the task's default
    seed: int = 13
    calibrate: bool = False
    batch_size: int = 4
    split: str = "test"
    pool_split: str = "train"
    limit: int | None = None
    # Long texts make prompts slow on CPU: each text (demonstration or query) is cut to this many characters.
    max_text_chars: int = 600
    # Pre-annotator mode: run on unlabelled samples and store suggestions with source 'llm'.
    suggest: bool = False

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, found {self.task!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(
                f"selection must be one of {', '.join(SELECTIONS)}, found {self.selection!r}; "
                "pass --select random|knn|balanced"
            )
        self._check_int("shots", 0, 64)
        self._check_int("max_new_tokens", 0, 1024)
        self._check_int("batch_size", 1, 256)
        self._check_int("max_text_chars", 20, 100_000)
        if not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, found {self.seed!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise ValueError(f"limit must be a positive number of samples or empty, found {self.limit!r}")
        for name in ("split", "pool_split"):
            if getattr(self, name) not in SPLITS:
                raise ValueError(f"{name} must be one of {', '.join(SPLITS)}, found {getattr(self, name)!r}")
        if self.calibrate and self.task != "classification":
            raise ValueError(
                "calibration applies to classification only (it rescales label probabilities), "
                f"found task {self.task!r}; drop --calibrate"
            )
        if not isinstance(self.label_descriptions, dict):
            raise ValueError(f"label_descriptions must map label names to text, found {self.label_descriptions!r}")
        if not self.instruction:
            object.__setattr__(self, "instruction", DEFAULT_INSTRUCTION[self.task])
        if not self.example:
            object.__setattr__(self, "example", DEFAULT_EXAMPLE[self.task])
        if not self.max_new_tokens:
            object.__setattr__(self, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS[self.task])
        self._check_template("instruction", INSTRUCTION_FIELDS, required=())
        self._check_template("example", EXAMPLE_FIELDS, required=("text",))

    def _check_int(self, name: str, low: int, high: int) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}, found {value!r}")

    def _check_template(self, name: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
        found = _placeholders(getattr(self, name), name)
        unknown = sorted(found - set(allowed))
        if unknown:
            raise ValueError(
                f"{name} template has an unknown placeholder {{{unknown[0]}}}; "
                f"allowed: {', '.join('{' + a + '}' for a in allowed)}"
            )
        for need in required:
            if need not in found:
                raise ValueError(f"{name} template must contain {{{need}}}, found {getattr(self, name)!r}")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> IclConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown ICL setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}")
        return cls(**data)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)
