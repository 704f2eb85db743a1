"""Tokenizer coverage of a project's texts: computed on import and before training, cached.

``project_coverage`` answers "which share of this project's word tokens (characters, for
Chinese) does this model's tokenizer map to its unknown token?". The answer is cached in
``$TAGTUNE_HOME/cache/coverage/`` per project and tokenizer, and recomputed when the project's
samples change (their count, highest id or total text length). ``check_before_training`` turns
the figure into a warning (above 5%) or a refusal (above 30%, unless the vocabulary is
extended or the user forces training).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from core.base import settings
from core.text.coverage import REFUSE_SHARE, WARN_SHARE, Coverage, WordCounts, measure
from db import samples as sample_repo

BATCH = 4096  # distinct word tokens per tokenizer call
# Files whose content defines a tokenizer; their sizes and times key the cache.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt",
                   "sentencepiece.bpe.model", "spiece.model", "added_tokens.json", "special_tokens_map.json")


def unknown_checker(tokenizer) -> Callable[[list[str]], list[bool]]:
    """``check(words)``: for each word token, whether ``tokenizer`` maps any of it to its unknown
    token. Each word is tokenized on its own, as training does (``is_split_into_words``)."""
    unk = tokenizer.unk_token_id
    if unk is None:  # byte-level BPE (RoBERTa, GPT-2) has no unknown token: every text is covered
        return lambda words: [False] * len(words)

    def check(words: list[str]) -> list[bool]:
        out: list[bool] = []
        for start in range(0, len(words), BATCH):
            ids = tokenizer(words[start:start + BATCH], add_special_tokens=False)["input_ids"]
            out.extend(unk in row for row in ids)
        return out

    return check


def coverage_of(tokenizer, words: WordCounts) -> Coverage:
    """Coverage of ``words`` by ``tokenizer``, naming its unknown token."""
    return replace(measure(words, unknown_checker(tokenizer)), unknown_token=tokenizer.unk_token or "[UNK]")


def project_words(session, project, splits: list[str] | None = None) -> WordCounts:
    """Word-token counts of the project's samples (all splits unless ``splits``)."""
    return WordCounts.of(sample_repo.iter_texts(session, project, splits))


def project_coverage(session, project, model: str) -> Coverage:
    """Coverage of all the project's texts by ``model``'s tokenizer, from the cache when the
    samples have not changed since it was computed."""
    from core.train.model import load_tokenizer_of, model_source

    source = model_source(model)
    fingerprint = list(sample_repo.text_fingerprint(session, project))
    path = _cache_path(project, source)
    try:
        cached = json.loads(path.read_text())
        if cached["fingerprint"] == fingerprint:
            return Coverage.from_json(cached["coverage"])
    except (OSError, ValueError, KeyError):
        pass
    coverage = coverage_of(load_tokenizer_of(model), project_words(session, project))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"model": source, "fingerprint": fingerprint, "coverage": coverage.to_json()}))
    os.replace(tmp, path)  # readers never see half a file
    return coverage


def _cache_path(project, source: str) -> Path:
    ident = "|".join([settings.db_url(), str(project.id), str(project.created_at), _tokenizer_identity(source)])
    return settings.cache_dir() / "coverage" / f"{hashlib.sha1(ident.encode()).hexdigest()[:20]}.json"


def _tokenizer_identity(source: str) -> str:
    """A model id as is; a local folder by its path and its tokenizer files' sizes and times."""
    folder = Path(source)
    if not folder.is_dir():
        return source
    parts = [str(folder.resolve())]
    for name in TOKENIZER_FILES:
        f = folder / name
        if f.exists():
            st = f.stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


# ---- what the user is told ---------------------------------------------------------------------

def model_label(model: str) -> str:
    from core.runs.summary import _short_model

    return _short_model(model) or model


def warning(coverage: Coverage, model: str, project_name: str) -> str | None:
    """The warning shown above ``WARN_SHARE`` (None below it)."""
    if coverage.share <= WARN_SHARE:
        return None
    return (f"{model_label(model)} maps {coverage.figure()} of project {project_name!r} to "
            f"{coverage.unknown_token} ({coverage.detail()}): the model cannot tell them apart. Fix: turn on "
            f"vocabulary extension "
            f"(`--extend-vocabulary`, 'Extend vocabulary' on the Train page), run domain-adaptive pretraining "
            f"(`python cli.py pretrain {project_name}`), or pick a better-covering model "
            f"(`python cli.py models {project_name}`)")


def refusal(coverage: Coverage, model: str, project_name: str) -> str:
    return (f"refusing to train: {model_label(model)} maps {coverage.figure()} of project {project_name!r} "
            f"to {coverage.unknown_token} ({coverage.detail()}; more than {REFUSE_SHARE:.0%}), so the model would "
            f"learn almost "
            f"nothing from them. Turn on vocabulary extension (`--extend-vocabulary`), start from a model that "
            f"covers the text (`python cli.py models {project_name}` lists them), or train anyway with "
            f"`--ignore-coverage`")


def check_before_training(coverage: Coverage, config, project_name: str) -> str | None:
    """Raise ValueError (the refusal) above ``REFUSE_SHARE`` unless ``config.extend_vocabulary``
    or ``config.ignore_coverage``; otherwise return the warning, if any."""
    if coverage.share > REFUSE_SHARE and not (config.extend_vocabulary or config.ignore_coverage):
        raise ValueError(refusal(coverage, config.model, project_name))
    if config.extend_vocabulary:
        return None  # the run adds the uncovered characters/words; it reports coverage after
    return warning(coverage, config.model, project_name)


# ---- the run's record ----------------------------------------------------------------------------

def coverage_before_training(session, project, config) -> dict:
    """Coverage of the project by the run's starting model, checked (may raise the refusal);
    ``{"before": ..., "warning": ...}`` for the run's metrics."""
    model = config.model
    if config.continue_from is not None:
        from db import runs as run_repo

        model = run_repo.get_run(session, config.continue_from).checkpoint or model
    coverage = project_coverage(session, project, model)
    warned = check_before_training(coverage, config, project.name)
    return {"before": coverage.to_json(), **({"warning": warned} if warned else {})}


def coverage_after_training(session, project, record: dict, model_dir) -> dict:
    """``record`` (from ``coverage_before_training``) plus the coverage of all the project's
    texts by the exported tokenizer, which carries any vocabulary extension."""
    out = {k: v for k, v in record.items() if k != "warning"}
    if model_dir is not None:
        out["after"] = project_coverage(session, project, str(model_dir)).to_json()
    return out


def summary(session, project, model: str | None = None) -> dict:
    """Coverage of the project by ``model`` (default: the default encoder) as the CLI and the
    pages show it: figures, the sentence, and the warning above 5%."""
    model = model or settings.default_encoder()
    coverage = project_coverage(session, project, model)
    out = {"model": model_label(model), **coverage.to_json(), "text": coverage.describe()}
    warned = warning(coverage, model, project.name)
    if warned:
        out["warning"] = warned
    return out
