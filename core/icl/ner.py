"""NER by generation: the LM writes `type: mention` lines; we read them tolerantly and keep
only mentions that occur in the text, as character spans snapped to word tokens.

Small LMs write messy lists: bullets, numbering, quotes, `mention (type)`, JSON objects or
lists, other casing, "PER"/"ORG" for the project's labels. Whatever cannot be read as a
(label, mention) pair is ignored; a pair whose mention is not in the text is dropped and
counted as hallucinated, one whose type maps to no label is dropped as an unknown label.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from core.icl.classify import encode
from core.icl.lm import LoadedLM
from core.text.spans import snap
from core.base.types import Span

# Common NER type names -> words that mean them; a word maps to the first project label of its
# group (so "ORG" finds "corporation" in WNUT, or "organization" where a project has that).
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("person", "per", "people", "name", "human", "individual", "artist", "actor", "celebrity"),
    ("location", "loc", "place", "city", "country", "gpe", "geo", "region", "state", "facility", "fac"),
    ("organization", "organisation", "org", "corporation", "company", "corp", "business", "brand", "group"),
    ("group", "band", "team", "organization", "organisation", "org"),
    ("product", "prod", "device", "software", "app", "item"),
    ("creativework", "work", "title", "movie", "film", "song", "book", "show", "album", "game", "art"),
    ("misc", "miscellaneous", "other"),
)
_BULLET = re.compile(r"^\s*(?:[-*•·>]+|\d+[.)]|[a-z][.)](?=\s))\s*", re.I)
_QUOTES = "\"'`“”‘’«»"
_NOTHING = {"none", "no entities", "no entity", "n/a", "nothing", "[]", "{}", "-", "无", "没有"}


@dataclass
class Parsed:
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (project label, mention)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (type as written, mention)


@dataclass
class Located:
    spans: list[Span]
    dropped: list[tuple[str, str]]  # (label, mention) not found in the text: hallucinated
    unknown: list[tuple[str, str]]


def _key(word: str) -> str:
    """Letters and digits of any script, case-folded: "P.E.R." -> "per", "人名" -> "人名"."""
    return re.sub(r"[\W_]", "", word.casefold())


def label_matcher(labels: list[str]):
    """A function mapping a written type ("PER", "Persons", "creative work") to a project label or None."""
    exact = {_key(l): l for l in labels}
    synonyms: dict[str, str] = {}
    for group in SYNONYMS:
        target = next((exact[_key(w)] for w in group if _key(w) in exact), None)
        for word in group:
            if target is not None:
                synonyms.setdefault(_key(word), target)

    def match(written: str) -> str | None:
        key = _key(written)
        if not key:
            return None
        for candidate in (key, key[:-1] if key.endswith("s") else key, key[:-2] if key.endswith("es") else key):
            if candidate in exact:
                return exact[candidate]
            if candidate in synonyms:
                return synonyms[candidate]
        prefixed = [l for k, l in exact.items() if len(key) >= 3 and (k.startswith(key) or key.startswith(k))]
        return prefixed[0] if len(prefixed) == 1 else None

    return match


def _clean(mention: str) -> str:
    mention = mention.strip().strip(",;").strip()
    while len(mention) >= 2 and mention[0] in _QUOTES and mention[-1] in _QUOTES:
        mention = mention[1:-1].strip()
    return mention.strip(_QUOTES).strip()


def _json_pairs(raw: str) -> list[tuple[str, str]] | None:
    """Pairs from a JSON object/list in the output ({"person": ["A"]}, [{"type":..,"text":..}]), else None."""
    match = re.search(r"[\[{].*[\]}]", raw, re.S)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    pairs: list[tuple[str, str]] = []
    if isinstance(data, dict):
        data = [data] if {"type", "label", "entity"} & set(data) else [{"type": k, "text": v} for k, v in data.items()]
    if not isinstance(data, list):
        return None
    for item in data:
        if not isinstance(item, dict):
            continue
        kind = item.get("type") or item.get("label") or item.get("entity_type") or ""
        texts = item.get("text") or item.get("mention") or item.get("entity") or item.get("value") or []
        for text in texts if isinstance(texts, list) else [texts]:
            if isinstance(kind, str) and isinstance(text, str):
                pairs.append((kind, text))
    return pairs


def _line_pair(line: str, is_label) -> tuple[str, str] | None:
    line = _BULLET.sub("", line).strip()
    if not line or _key(line) in {_key(n) for n in _NOTHING}:
        return None
    paren = re.fullmatch(r"(.+?)\s*[(\[]([^()\[\]]+)[)\]]", line)  # "Paris (location)"
    if paren and is_label(paren.group(2)):
        return paren.group(2), paren.group(1)
    for sep in (":", "：", " - ", " – ", "=", "\t"):  # "：" is the full-width colon of Chinese text
        if sep in line:
            left, right = (part.strip() for part in line.split(sep, 1))
            left_key = _clean(left)
            if is_label(left_key) or not is_label(_clean(right)):
                return left_key, right
            return _clean(right), left  # "Paris: location"
    return None


def parse(raw: str, labels: list[str]) -> Parsed:
    """(label, mention) pairs from a generated answer; see the module docstring for what is accepted."""
    match = label_matcher(labels)
    pairs = _json_pairs(raw)
    if pairs is None:
        pairs = []
        for line in raw.splitlines():
            found = _line_pair(line, lambda w: match(w) is not None)
            if found:
                pairs.append(found)
    result = Parsed()
    for kind, mention in pairs:
        mention = _clean(mention)
        if not mention or _key(mention) in {_key(n) for n in _NOTHING}:
            continue
        label = match(_clean(kind))
        (result.pairs if label else result.unknown).append((label or kind, mention))
    return result


def _occurrences(text: str, mention: str) -> list[tuple[int, int]]:
    """Case-insensitive matches of the mention in the text, any run of whitespace matching any other."""
    pattern = r"\s+".join(re.escape(part) for part in mention.split())
    return [m.span() for m in re.finditer(pattern, text, re.I)] if pattern else []


def locate(text: str, tokens, parsed: Parsed) -> Located:
    """Character spans for the parsed mentions, snapped to word tokens, without overlaps.

    Every occurrence of a mention is labelled (an entity named twice is an entity twice).
    Occurrences that start and end on token boundaries win over ones inside a longer word;
    longer mentions win over the shorter ones they overlap.
    """
    starts, ends = {s for s, _ in tokens}, {e for _, e in tokens}
    candidates: list[Span] = []
    dropped: list[tuple[str, str]] = []
    for label, mention in parsed.pairs:
        parts = [mention]
        if not _occurrences(text, mention) and re.search(r"[,;]", mention):
            parts = [p for p in (_clean(p) for p in re.split(r"[,;]", mention)) if p]  # "person: A, B"
        for part in parts:
            chosen = _place(text, tokens, part, starts, ends)
            if chosen:
                candidates += [Span(s, e, label) for s, e in chosen]
            else:
                dropped.append((label, part))
    spans: list[Span] = []
    for span in sorted(set(candidates), key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= kept.start or span.start >= kept.end for kept in spans):
            spans.append(span)
    return Located(sorted(spans), dropped, parsed.unknown)


def _place(text: str, tokens, mention: str, starts: set[int], ends: set[int]) -> list[tuple[int, int]]:
    found = _occurrences(text, mention)
    aligned = [(s, e) for s, e in found if s in starts and e in ends]
    if aligned:
        return aligned
    snapped = snap(tokens, *found[0]) if found else None
    return [snapped] if snapped else []


@dataclass
class Generated:
    text: str
    token_texts: list[str]  # decoded text of each generated token
    token_probs: list[float]  # probability the model gave each generated token

    def confidence(self, mention: str) -> float:
        """Mean probability of the generated tokens of the line that names ``mention`` (1.0 if unknown)."""
        pos, spans = 0, []
        for piece, prob in zip(self.token_texts, self.token_probs):
            spans.append((pos, pos + len(piece), prob))
            pos += len(piece)
        where = self.text.casefold().find(mention.casefold())
        if where < 0 or not spans:
            return 1.0
        line_start = self.text.rfind("\n", 0, where) + 1
        line_end = self.text.find("\n", where)
        line_end = len(self.text) if line_end < 0 else line_end
        probs = [p for s, e, p in spans if s < line_end and e > line_start]
        return float(sum(probs) / len(probs)) if probs else 1.0


class _StopWhen(StoppingCriteria):
    """Ends generation when ``should_stop()`` says so (a cancelled run), checked every few tokens."""

    def __init__(self, should_stop: Callable[[], bool], every: int = 4):
        self.should_stop, self.every, self.calls = should_stop, every, 0

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        self.calls += 1
        stop = self.calls % self.every == 0 and self.should_stop()
        return torch.full((input_ids.shape[0],), bool(stop), dtype=torch.bool, device=input_ids.device)


@torch.no_grad()
def generate(
    lm: LoadedLM, prompts_text: list[str], max_new_tokens: int, should_stop: Callable[[], bool] | None = None
) -> list[Generated]:
    """Greedy answers for a batch of prompts (left-padded), with each token's probability."""
    encoded = [encode(lm, p) for p in prompts_text]
    width = max(len(e) for e in encoded)
    pad = lm.tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(e)) + e for e in encoded])  # (B, T), left-padded
    mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in encoded])
    ids, mask = ids.to(lm.model.device), mask.to(lm.model.device)
    stops = _stop_ids(lm)
    out = lm.model.generate(
        input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
        output_scores=True, return_dict_in_generate=True, eos_token_id=stops, pad_token_id=pad,
        stopping_criteria=StoppingCriteriaList([_StopWhen(should_stop)]) if should_stop else None,
    )
    new = out.sequences[:, width:]  # (B, N)
    probs = torch.stack(out.scores, dim=1).float().softmax(-1)  # (B, N, V)
    results = []
    for b in range(len(encoded)):
        token_ids, token_probs = [], []
        for t, tid in enumerate(new[b].tolist()):
            if tid in stops or tid == pad:
                break
            token_ids.append(tid)
            token_probs.append(float(probs[b, t, tid]))
        texts = _piece_texts(lm.tokenizer, token_ids)
        results.append(Generated("".join(texts), texts, token_probs))
    return results


def _stop_ids(lm: LoadedLM) -> list[int]:
    tok = lm.tokenizer
    stops = {tok.eos_token_id} if tok.eos_token_id is not None else set()
    for name in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<end_of_turn>"):
        tid = tok.convert_tokens_to_ids(name) if name in tok.get_vocab() else None
        if tid is not None:
            stops.add(tid)
    configured = lm.model.generation_config.eos_token_id
    stops |= set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    return sorted(stops)


def _piece_texts(tokenizer, token_ids: list[int]) -> list[str]:
    """Decoded text contributed by each token, joining to the decoded whole.

    Byte-level tokenizers (SmolLM2, GPT-2) spread one Chinese character over several tokens;
    a prefix that ends inside a character decodes to a trailing U+FFFD. That tail is held back
    until the token that completes the character, which then contributes the character."""
    texts, emitted = [], ""
    for i in range(len(token_ids)):
        current = tokenizer.decode(token_ids[: i + 1], skip_special_tokens=True)
        stable = current if i == len(token_ids) - 1 else current.rstrip("\ufffd")
        if stable.startswith(emitted):
            texts.append(stable[len(emitted):])
            emitted = stable
        else:  # a decoder that rewrites earlier text (rare): give this token the whole difference
            texts.append(stable)
            emitted += stable
    return texts
