"""What every parser returns, and the checks they share (decoding, spans, categories).

Parsers never stop at the first problem: each bad line becomes a ``LineError`` and the
parser carries on, so the person fixing the file sees every problem at once. Line numbers
are 1-based physical lines of the file; ``line 0`` is a problem with the file as a whole.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.text.spans import snap
from core.base.types import SPLITS, Span
from db.projects import LABEL_MAX, label_problem

FILE_LEVEL = 0  # the line number of an error about the whole file (empty, binary, ...)
MAX_WARNING_LINES = 10
MAX_ERRORS = 100  # errors listed; the rest are counted (a 10 MB file of bad lines stays small)
QUOTE_CHARS = 200  # a quoted line or value is cut to this many characters
MAX_META_DEPTH = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr`` of a value for an error message, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        return repr(text[:limit]) + f"… ({len(text):,} characters)"
    return repr(text)


@dataclass
class Record:
    """One sample read from a file, not yet in the database."""

    line: int
    text: str
    tokens: list[tuple[int, int]]
    spans: list[Span] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    status: str = "labeled"
    split: str | None = None  # None: the importer's --split, else 'unassigned'
    meta: dict = field(default_factory=dict)
    # Who annotated and when, where the file says (our exports, Label Studio, bundles).
    annotator: str | None = None
    annotated_at: str | None = None  # ISO 8601
    seconds: float | None = None


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class ParseOptions:
    task: str = "ner"  # 'ner' | 'classification': decides what a label column means
    multilabel: bool = False
    text_column: str | None = None
    label_column: str | None = None
    tag_names: tuple[str, ...] | None = None  # Hugging Face ids -> names (ner_tags / label)
    decode_entities: bool = False  # &amp; -> &, &#039; -> ' in texts


class Errors:
    """The first ``MAX_ERRORS`` problems in file order, and how many there were in all."""

    def __init__(self, items: Iterable[LineError] = ()) -> None:
        self.items: list[LineError] = []
        self.total = 0
        for e in items:
            self.append(e)

    def append(self, error: LineError) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(error)

    def extend(self, errors: Iterable[LineError]) -> None:
        for e in errors:
            self.append(e)

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, index):
        return self.items[index]

    def __eq__(self, other) -> bool:  # tests compare with lists
        return list(self.items) == list(other) if isinstance(other, list) else NotImplemented

    def __repr__(self) -> str:
        return f"Errors({self.items!r}, total={self.total})"

    def merged(self, other: Errors) -> Errors:
        """Both lists in line order (each holds its own first errors, so the merge is the first)."""
        out = Errors()
        out.items = sorted([*self.items, *other.items], key=lambda e: e.line)[:MAX_ERRORS]
        out.total = self.total + other.total
        return out


class Warnings:
    """Counts of things the parser repaired or assumed, with the first lines they happened on.

    A message may hold ``{n}`` (the count) and ``{s}`` (plural ending); otherwise the count
    is put in front."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, list[int]]] = {}

    def add(self, message: str, line: int, count: int = 1) -> None:
        total, lines = self._seen.get(message, (0, []))
        if len(lines) < MAX_WARNING_LINES:
            lines.append(line)
        self._seen[message] = (total + count, lines)

    def as_list(self) -> list[dict]:
        return [
            {"message": render_count(message, count), "count": count, "lines": lines}
            for message, (count, lines) in self._seen.items()
        ]


def render_count(message: str, count: int) -> str:
    if "{n}" in message:
        return message.replace("{n}", f"{count:,}").replace("{s}", "" if count == 1 else "s")
    return message


@dataclass
class ParseResult:
    records: list[Record]
    errors: Errors | list[LineError]
    warnings: list[dict] = field(default_factory=list)
    invalid: int = 0  # records left out because of an error
    scheme: str | None = None  # the tag scheme read (CoNLL, Hugging Face ner_tags)
    merged: int = 0  # records folded into another (Prodigy answers on one input)

    def __post_init__(self) -> None:
        if not isinstance(self.errors, Errors):
            self.errors = Errors(self.errors)

    @property
    def labels(self) -> list[str]:
        """Every label used, in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self.records:
            for s in r.spans:
                seen.setdefault(s.label, None)
            for c in r.categories:
                seen.setdefault(c, None)
        return list(seen)


# Without a "text" (or "label") column or key, the first of these names present is taken, and the
# import says which (GLUE's "sentence", IMDB's "review"/"sentiment", tweet corpora's "tweet"/"class").
TEXT_NAMES = ("sentence", "review", "content", "tweet", "comment", "body", "document", "utterance", "message")
LABEL_NAMES = ("category", "categories", "class", "sentiment", "intent", "topic", "emotion", "target")


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


@dataclass
class Decoded:
    text: str | None
    errors: list[LineError]
    encoding: str = "utf-8"
    warning: str | None = None


def decode(data: bytes) -> Decoded:
    """The text of a file: UTF-8 (a BOM is dropped), UTF-16/32 with a BOM, else the encoding
    charset-normalizer detects (with a warning naming it). None plus errors when it is not text.

    A file that is UTF-8 with a few broken bytes is not re-guessed: its bad lines are reported
    one by one (replaced by U+FFFD so the other lines can still be checked).
    """
    if not data.strip():
        return Decoded(None, [LineError(FILE_LEVEL, "the file is empty: expected at least one sample; pick another file")])
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom):].decode(encoding), [], encoding)
            except UnicodeDecodeError as exc:
                return Decoded(None, [LineError(FILE_LEVEL, f"the file starts with a {encoding} byte-order mark but is "
                                                 f"not valid {encoding} (byte {exc.start}); save it again as UTF-8")])
    if b"\x00" not in data[:65536]:
        try:
            return Decoded(data.decode("utf-8"), [])
        except UnicodeDecodeError:
            pass
        if _UTF8_MULTIBYTE.search(data) and _mostly_utf8(data, errors := _utf8_errors(data)):
            return Decoded(data.decode("utf-8", errors="replace"), errors)  # UTF-8 with broken bytes
    guess = _detect(data)
    if guess is None:
        if b"\x00" in data[:65536]:
            return Decoded(None, [LineError(
                FILE_LEVEL,
                "this is a binary file (it contains NUL bytes): expected text such as CoNLL, JSONL, "
                "CSV/TSV or plain text; export the data as text first",
            )])
        return Decoded(data.decode("utf-8", errors="replace"), _utf8_errors(data))
    text, encoding = guess
    return Decoded(text, [], encoding, f"the file is not UTF-8: read as {encoding} (detected by charset-normalizer); "
                                       "check a few samples, or save the file as UTF-8 to be sure")


# Single-byte code pages tried when charset-normalizer finds nothing (it often does on short or
# tab-separated files), and the order among equally plausible readings: Western Windows first.
_CODE_PAGES = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "koi8_r", "cp1255", "cp1256")
_WORD_JOINERS = set("'’‘ʼ·-")


def _detect(data: bytes) -> tuple[str, str] | None:
    """The most plausible non-UTF-8 reading of ``data``, or None.

    charset-normalizer ranks the candidates; on short files it cannot tell single-byte code
    pages apart (French "très" from Excel came out as Windows-1250 "trčs") or finds none (a
    Russian CoNLL file in Windows-1251). Its equally ranked guesses and our list of common code
    pages are ordered by ``_oddities`` (fewest first); ties go to its guesses, then to Western
    Windows."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data[:1_000_000]))
    if matches and matches[0].encoding in ("utf_8", "ascii"):
        return None
    # its near ties: on a 10 MB French file it put Windows-1250 ("Croatian", coherence 0.486)
    # before Windows-1252 (0.466)
    ranked = [m.encoding for m in matches
              if m.chaos <= matches[0].chaos + 0.01 and m.coherence >= matches[0].coherence - 0.03]
    sample = data[:65536]
    readings = []
    for order, encoding in enumerate([*ranked, *(c for c in _CODE_PAGES if c not in ranked)]):
        try:
            text = sample.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        # ties: charset-normalizer's own guesses first (its language model saw the whole file),
        # Windows-1252 first among them, then in its order; then our list in its order
        priority = (encoding not in ranked, encoding != "cp1252", order)
        readings.append((_oddities(text), priority, encoding))
    words = sum(not w.isascii() for w in sample.split())
    # a reading odd in over a third of its non-ASCII words is a guess, not a reading: the caller
    # then reports the lines that are not UTF-8 instead of importing gibberish
    for _odd, _priority, encoding in sorted(r for r in readings if 3 * r[0] <= words):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if "\x00" in text:  # still binary once decoded
            return None
        return text, _common_name(data, text, encoding).replace("_", "-")
    return None


def _common_name(data: bytes, text: str, encoding: str) -> str:
    """The most common code page that reads ``data`` as ``text`` (charset-normalizer reports
    German Windows-1252 as Windows-1250 when both read it alike; the warning should not)."""
    for alias in _CODE_PAGES[:_CODE_PAGES.index(encoding)] if encoding in _CODE_PAGES else _CODE_PAGES:
        try:
            if data.decode(alias) == text:
                return alias
        except UnicodeDecodeError:
            continue
    return encoding


def _oddities(text: str) -> int:
    """What a wrong code page leaves in words: letters of two alphabets in one word ("Ďđčâĺň" is
    Latin, Cyrillic read as Windows-1250 is not), a capital after a small letter next to a
    non-ASCII one (KOI8-R read as Windows-1251 swaps case), symbols or digits between letters
    ("Ã©", "³"), and Latin words without one ASCII letter."""
    import unicodedata

    odd = 0
    for word in text.split():
        if word.isascii():
            continue
        scripts = set()
        for i, c in enumerate(word):
            if c.isalpha():
                scripts.add(unicodedata.name(c, "?").split(" ")[0])
                if i and c.isupper() and word[i - 1].islower() and not (c.isascii() and word[i - 1].isascii()):
                    odd += 1
            elif ord(c) > 127 and c not in _WORD_JOINERS and 0 < i < len(word) - 1 \
                    and word[i - 1].isalpha() and word[i + 1].isalpha() and not unicodedata.category(c).startswith("M") \
                    and unicodedata.east_asian_width(c) not in ("F", "W"):  # "，" between Han characters is normal
                odd += 1
        odd += len(scripts - {"LATIN"}) + ("LATIN" in scripts) - 1 if scripts else 0
        letters = [c for c in word if c.isalpha()]
        if scripts == {"LATIN"} and len(letters) >= 3 and not any(c.isascii() for c in letters):
            odd += 1  # Latin words are rarely all accents ("été"); Cyrillic read as Latin always is
    return odd


def _mostly_utf8(data: bytes, errors: list[LineError]) -> bool:
    """UTF-8 with broken bytes, not another encoding: at least a tenth of the lines holding
    non-ASCII bytes are valid UTF-8. (GBK Chinese is full of byte pairs that look like UTF-8
    sequences, and was read as UTF-8 broken on every line; whole GBK lines are almost never
    valid UTF-8.)"""
    foreign = sum(not line.isascii() for line in data.split(b"\n"))
    return (foreign - len(errors)) * 10 >= foreign


def _utf8_errors(data: bytes) -> list[LineError]:
    errors = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(LineError(number, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                                            "save the file as UTF-8"))
    return errors


def iter_lines(text: str) -> Iterable[tuple[int, str]]:
    """``(number, line)`` for every physical line; LF, CRLF and bare CR all end a line, so a
    file saved with old Mac line endings is not read as one line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # one list of lines: ~60 bytes a line more than a generator, and twice as fast to walk
    return enumerate(text.split("\n"), start=1)


def text_problem(text: str) -> str | None:
    if "\x00" in text:
        return f"the text holds a NUL character (at {text.index(chr(0))}); databases cannot store it: remove it"
    bad = _SURROGATE.search(text)
    if bad:
        return (f"the text holds a lone surrogate {bad.group()!r} at {bad.start()} (half of a broken character); "
                "fix the character or remove it")
    return None


def meta_problem(value, depth: int = 0) -> str | None:
    """Values a JSON column cannot store the same way on SQLite and PostgreSQL."""
    if depth > MAX_META_DEPTH:
        return f"meta is nested more than {MAX_META_DEPTH} levels deep; flatten it"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"meta holds {value!r}, which JSON cannot store; use null or a string"
    if isinstance(value, str):
        problem = text_problem(value)
        return f"a meta value: {problem}" if problem else None
    if isinstance(value, dict):
        for k, v in value.items():
            problem = meta_problem(str(k), depth + 1) or meta_problem(v, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for v in value:
            problem = meta_problem(v, depth + 1)
            if problem:
                return problem
    return None


def record_problem(record: Record) -> str | None:
    """Checks every format shares, so SQLite and PostgreSQL store exactly the same files."""
    problem = text_problem(record.text)
    if problem:
        return problem
    for name in {*(s.label for s in record.spans), *record.categories}:
        problem = label_problem(name)
        if problem:
            return problem
    if record.annotator is not None and len(record.annotator) > LABEL_MAX:
        return f"annotator name has {len(record.annotator)} characters: expected at most {LABEL_MAX}; shorten it"
    return meta_problem(record.meta)


def check_split(value, line: int) -> tuple[str | None, LineError | None]:
    if value is None or value == "":
        return None, None
    if value not in SPLITS:
        return None, LineError(line, f"unknown split {quote(value)}: expected one of {', '.join(SPLITS)}; "
                                 "fix the split or leave it empty")
    return value, None


def check_text(value, line: int, where: str = "'text'") -> tuple[str | None, LineError | None]:
    if not isinstance(value, str):
        found = "nothing" if value is None else type(value).__name__
        return None, LineError(line, f"expected a string in {where}, found {found}; give each sample its text")
    if not value.strip():
        return None, LineError(line, f"the text in {where} is empty; remove the line or give it a text")
    return value, None


def snap_spans(
    text: str,
    tokens: list[tuple[int, int]],
    raw: Iterable[tuple[object, object, object]],
    line: int,
    warnings: Warnings,
) -> tuple[list[Span], list[LineError]]:
    """Check character spans against the text, widen them to word tokens, refuse overlaps."""
    spans: list[Span] = []
    errors: list[LineError] = []
    for start, end, label in raw:
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            errors.append(LineError(line, f"span offsets must be integers, found start={quote(start)} "
                                    f"end={quote(end)}; fix the offsets"))
            continue
        if not isinstance(label, str) or not label.strip():
            errors.append(LineError(line, f"span [{start}, {end}) has no label (found {quote(label)}); give it a label name"))
            continue
        if not 0 <= start < end <= len(text):
            errors.append(
                LineError(
                    line,
                    f"span [{start}, {end}) {label!r} is outside its text of {len(text)} characters: expected "
                    f"0 <= start < end <= {len(text)}; fix the offsets",
                )
            )
            continue
        snapped = snap(tokens, start, end)
        if snapped is None:
            errors.append(
                LineError(line, f"span [{start}, {end}) {label!r} = {text[start:end]!r} touches no word token; remove it")
            )
            continue
        if snapped != (start, end):
            warnings.add("{n} span{s} widened to whole word tokens", line)
        spans.append(Span(snapped[0], snapped[1], label.strip()))
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            errors.append(
                LineError(
                    line,
                    f"spans overlap: {a.label} {text[a.start:a.end]!r} [{a.start}, {a.end}) and {b.label} "
                    f"{text[b.start:b.end]!r} [{b.start}, {b.end}); NER spans must not overlap, keep one",
                )
            )
    return spans, errors


def check_categories(values: list, line: int, options: ParseOptions) -> tuple[list[str], list[LineError]]:
    cats: list[str] = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            return [], [LineError(line, f"expected label names as strings, found {v!r}")]
        if v.strip() not in cats:
            cats.append(v.strip())
    if len(cats) > 1 and not options.multilabel:
        return [], [
            LineError(
                line,
                f"found {len(cats)} labels {cats} but the project is single-label: keep one, or create the "
                "project with --multilabel",
            )
        ]
    return cats, []


_ENTITY = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")


def remap_offsets(record: Record, _unused: str | None = None) -> None:
    """Decode HTML entities (``&amp;``, ``&#039;``) in a record's text and move its tokens and
    spans with the characters. Tokens derived from the text are derived again from the new
    text (``&amp;`` was three word tokens); tokens given by the file keep their boundaries."""
    import html

    from core.text.tokenize import word_offsets

    old = record.text
    derived = record.tokens == word_offsets(old)
    parts: list[str] = []
    newpos = [0] * (len(old) + 1)  # new offset of every old offset
    pos = last = 0
    for m in _ENTITY.finditer(old):
        plain = old[last:m.start()]
        for i in range(len(plain)):
            newpos[last + i] = pos + i
        parts.append(plain)
        pos += len(plain)
        repl = html.unescape(m.group())
        for i in range(m.start(), m.end()):  # inside an entity: where its replacement ends
            newpos[i] = pos if i == m.start() else pos + len(repl)
        parts.append(repl)
        pos += len(repl)
        last = m.end()
    tail = old[last:]
    for i in range(len(tail) + 1):
        newpos[last + i] = pos + i
    record.text = "".join(parts) + tail
    if derived:
        record.tokens = word_offsets(record.text)
    else:
        record.tokens = [(newpos[s], newpos[e]) for s, e in record.tokens if newpos[e] > newpos[s]]
    spans = []
    for sp in record.spans:
        snapped = snap(record.tokens, newpos[sp.start], newpos[sp.end])
        if snapped:
            spans.append(Span(snapped[0], snapped[1], sp.label))
    record.spans = spans
