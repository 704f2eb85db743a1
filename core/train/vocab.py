"""Vocabulary extension: give the project's uncovered characters and words their own tokens.

``plan`` finds what the tokenizer cannot represent in the project's texts: every character it
maps to the unknown token on its own (for Chinese with an English WordPiece vocabulary: most of
them), and, for space-delimited scripts, the most frequent word tokens it mapped to the unknown
token. ``extend`` adds them to the tokenizer as added tokens (characters match anywhere, words
only as whole words), grows the input embeddings and initialises the new rows. Which weights
then train is the strategy's business (``core.train.strategies``: every strategy trains the new
rows).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.text.coverage import WordCounts, characters_of
from core.text.tokenize import is_cjk_char
from core.train.coverage import unknown_checker


@dataclass(frozen=True)
class NewVocabulary:
    """Tokens to add, as the tokenizer's normaliser writes them (e.g. lower-cased)."""

    characters: tuple[str, ...]
    words: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.characters) + len(self.words)

    def to_json(self) -> dict:
        return {"characters": len(self.characters), "words": len(self.words),
                "examples": list(self.characters[:10] + self.words[:10])}


@dataclass(frozen=True)
class Extension:
    vocabulary: NewVocabulary
    token_ids: tuple[int, ...]  # ids of the new tokens, characters then words
    rows_before: int            # embedding rows before the extension

    def note(self) -> str:
        return (f"vocabulary extended by {len(self.vocabulary.characters):,} characters and "
                f"{len(self.vocabulary.words):,} words ({self.rows_before:,} -> "
                f"{self.rows_before + len(self.token_ids):,} embedding rows)")


def plan(tokenizer, words: WordCounts, min_word_count: int = 3, max_words: int = 2000) -> NewVocabulary:
    """The uncovered characters of ``words`` (all of them, most frequent first) and the most
    frequent uncovered space-delimited words (at least ``min_word_count`` occurrences, at most
    ``max_words``)."""
    check = unknown_checker(tokenizer)
    types = sorted(words.counts)
    uncovered = [w for w, bad in zip(types, check(types)) if bad]
    char_count: dict[str, int] = {}
    for word in uncovered:
        for ch in word:
            char_count[ch] = char_count.get(ch, 0) + words.counts[word]
    normal = _normaliser(tokenizer)
    candidates = {c: normal(c) for c in characters_of(uncovered)}
    candidates = {c: n for c, n in candidates.items() if n}
    missing = [c for c, bad in zip(candidates, check([candidates[c] for c in candidates])) if bad]
    chars = _unique(candidates[c] for c in sorted(missing, key=lambda c: (-char_count[c], c)))
    multi = [w for w in uncovered if len(w) > 1 and not all(is_cjk_char(ch) for ch in w)
             and words.counts[w] >= min_word_count]
    multi.sort(key=lambda w: (-words.counts[w], w))
    known = set(chars)
    new_words = [w for w in _unique(normal(w) for w in multi) if w and w not in known][:max_words]
    return NewVocabulary(tuple(chars), tuple(new_words))


def extend(model, tokenizer, vocabulary: NewVocabulary, seed: int = 0) -> Extension:
    """Add ``vocabulary`` to ``tokenizer`` and ``model`` (in place) and initialise the new rows.

    Characters start as draws from a Gaussian with the mean and covariance of the existing
    embedding rows: they then look like ordinary tokens to the first LayerNorm and attention
    (a row far from the others would dominate or vanish there), yet each character is distinct
    from the first step. All-equal rows (the plain mean, transformers' ``mean_resizing``) would
    make every new character the same input until training pulled them apart, which for rare
    characters takes long. Words start as the mean of the rows of the pieces the tokenizer split
    them into before (characters included), which keeps what the model knew of the word.
    """
    from tokenizers import AddedToken

    embedding = model.get_input_embeddings()
    rows_before = embedding.weight.shape[0]
    # The word pieces are read before the words are added (after the characters: a word of new
    # characters then averages their rows).
    # normalized=True: the token is looked for in the normalised text, in the normalised form
    # plan() gave it, so upper-case or full-width spellings match too. (For CJK, BERT's
    # normaliser pads the character with spaces, which encodings' .tokens() then shows as
    # " 在 "; the id, the offsets and convert_ids_to_tokens are those of "在".)
    tokenizer.add_tokens([AddedToken(c, single_word=False, normalized=True) for c in vocabulary.characters])
    pieces = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in vocabulary.words]
    tokenizer.add_tokens([AddedToken(w, single_word=True, normalized=True) for w in vocabulary.words])
    char_ids = tokenizer.convert_tokens_to_ids(list(vocabulary.characters))
    word_ids = tokenizer.convert_tokens_to_ids(list(vocabulary.words))
    ids = tuple(char_ids) + tuple(word_ids)
    if not ids:
        return Extension(vocabulary, (), rows_before)
    model.resize_token_embeddings(max(rows_before, max(ids) + 1), mean_resizing=False)
    weight = model.get_input_embeddings().weight  # (rows, hidden)
    with torch.no_grad():
        old = weight[:rows_before].float()
        weight[list(char_ids)] = _gaussian_like(old, len(char_ids), seed).to(weight.dtype)
        for wid, piece_ids in zip(word_ids, pieces):
            weight[wid] = weight[piece_ids].float().mean(0).to(weight.dtype)
    return Extension(vocabulary, ids, rows_before)


def _gaussian_like(rows: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """``n`` draws from N(mean, covariance) of ``rows`` (rows, hidden) -> (n, hidden)."""
    if n == 0:
        return rows.new_zeros((0, rows.shape[1]))
    mean = rows.mean(0)
    centred = rows - mean
    covariance = centred.T @ centred / max(1, rows.shape[0] - 1)  # (hidden, hidden)
    jitter = 1e-6 * covariance.diagonal().mean() * torch.eye(rows.shape[1])
    factor = torch.linalg.cholesky(covariance + jitter)
    noise = torch.randn((n, rows.shape[1]), generator=torch.Generator().manual_seed(seed))
    return mean + noise @ factor.T


def _normaliser(tokenizer):
    """The tokenizer's own normalisation (lower-casing, accent stripping, ...) of a token, so an
    added token matches the normalised text it is looked for in."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    normalizer = getattr(backend, "normalizer", None)
    if normalizer is None:
        return lambda text: text.strip()
    return lambda text: normalizer.normalize_str(text).strip()


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def extend_for(model, tokenizer, config, words: WordCounts) -> Extension:
    """The extension a TrainConfig asks for (``vocabulary_min_count``, ``vocabulary_max_words``)."""
    vocabulary = plan(tokenizer, words, config.vocabulary_min_count, config.vocabulary_max_words)
    return extend(model, tokenizer, vocabulary, config.seed)
