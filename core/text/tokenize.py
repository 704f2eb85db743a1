"""Word tokenisation with character offsets.

Space-delimited scripts split on whitespace and punctuation (each punctuation mark is a
token, apostrophes inside a word stay: "don't"); CJK ideographs, kana and full-width
punctuation become one token per character so Chinese labels and trains per character.
"""
from __future__ import annotations

import re

_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(
    rf"(?P<cjk>[{_CJK}])"
    rf"|(?P<word>(?:(?![{_CJK}])\w)+(?:['’](?:(?![{_CJK}])\w)+)*)"
    r"|(?P<punct>\S)"
)


_CJK_CHAR = re.compile(f"[{_CJK}]")


def is_cjk_char(ch: str) -> bool:
    """True for one CJK ideograph, kana or full-width character (a word token of its own)."""
    return _CJK_CHAR.fullmatch(ch) is not None


def word_offsets(text: str) -> list[tuple[int, int]]:
    """Character offsets ``(start, end)`` of every word token in ``text``."""
    return [m.span() for m in _TOKEN.finditer(text)]


def words(text: str) -> list[str]:
    return [text[s:e] for s, e in word_offsets(text)]


def join_words(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Text and offsets for pre-tokenised input (CoNLL): words joined by one space.

    CJK runs are joined without spaces so a Chinese sentence reads as written.
    """
    text = " ".join(tokens)
    if _CJK_CHAR.search(text) is None:  # fast path (bulk CoNLL import): offsets follow from lengths
        offsets, pos = [], 0
        for tok in tokens:
            offsets.append((pos, pos + len(tok)))
            pos += len(tok) + 1
        return text, offsets
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    prev_cjk = False
    for tok in tokens:
        cjk = len(tok) == 1 and bool(_CJK_CHAR.match(tok))
        if parts and not (cjk and prev_cjk):
            parts.append(" ")
            pos += 1
        parts.append(tok)
        offsets.append((pos, pos + len(tok)))
        pos += len(tok)
        prev_cjk = cjk
    return "".join(parts), offsets
