"""Real public files (tests/fixtures/real_files, sources and licences in SOURCES.md) in and out.

For each file: import it; the sample count and every span's text (or every sample's labels)
equal what a small reader written here, independently of core/, says the file holds; then
export the project in every format that can carry it, import each export into a new project,
and compare: the same samples and annotations come back. Files with deliberate problems (the
doccano tests' overlapping spans, two labels in a single-label project, a label with a tab)
must fail on exactly the lines the reader names, and change nothing.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from core.data import exporter, importer
from core.data.bundle import import_bundle
from db import projects as project_repo
from db import samples as sample_repo

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real_files"


# ---- the independent reader ---------------------------------------------------------------------------

def _conll(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(words joined by spaces, [(entity words, type)]) per sentence, decoding any B/I/E/S/M/L/U tags:
    an entity starts at B/S/U, or at I/E/M/L when the previous token is O, another type or an end."""
    out, words, tags = [], [], []
    lines = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in lines + [""]:
        cols = line.split()
        if not cols or cols[0] == "-DOCSTART-":
            if words:
                out.append((" ".join(words), _entities(words, tags)))
            words, tags = [], []
            continue
        words.append(cols[0])
        tags.append(cols[-1])
    return out


def _entities(words, tags):
    ents, cur, kind, closed = [], [], None, True
    for word, tag in zip(words, tags):
        prefix, t = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        starts = prefix in "BSU" or (prefix in "IEML" and (t != kind or closed))
        if (starts or prefix == "O") and cur:
            ents.append((" ".join(cur), kind))
            cur = []
        if prefix == "O":
            kind, closed = None, True
            continue
        cur.append(word)
        kind, closed = t, prefix in "ESLU"
        if closed:
            ents.append((" ".join(cur), kind))
            cur = []
    if cur:
        ents.append((" ".join(cur), kind))
    return ents


def _widen(text: str, start: int, end: int) -> str:
    """A span's text as a reader sees it: outer spaces dropped, widened to whole words."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return text[start:end]


def _json_values(path: Path) -> list:
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(l) for l in raw.splitlines() if l.strip()]
    value = json.loads(raw)
    return value if isinstance(value, list) else [value]


def _spans_of(obj) -> tuple[str, list[tuple[str, str]]]:
    if isinstance(obj, list):  # spaCy (text, {"entities": ...})
        text, spans = obj[0], obj[1]["entities"]
    elif "data" in obj:  # Label Studio task
        text = obj["data"]["text"]
        result = (obj.get("annotations") or obj.get("completions"))[0]["result"]
        spans = [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result]
    else:  # doccano
        text, spans = obj["text"], obj.get("label", obj.get("labels"))
    return text, sorted({(_widen(text, s, e), l) for s, e, l in spans})


def expected(name: str) -> list[tuple[str, list]]:
    """(text, sorted labels or (span text, label) pairs) per sample, in file order."""
    path = REAL / name
    if path.suffix in (".conll", ".iob", ".bmes"):
        return [(text, sorted(ents)) for text, ents in _conll(path)]
    if name.startswith("prodigy_"):  # accept: the label; reject: no label; ignore: skipped, no label
        return [(o["text"], [o["label"]] if o["answer"] == "accept" else []) for o in _json_values(path)]
    if path.suffix == ".csv":
        return [(r["text"], [r["label"]] if r.get("label") else []) for r in csv.DictReader(io.StringIO(path.read_text()))]
    if name.endswith("fasttext.txt"):
        out = []
        for line in path.read_text().splitlines():
            labels = re.findall(r"__label__(\S+)", line)
            out.append((re.sub(r"^(__label__\S+ )+", "", line), labels))
        return out
    if path.suffix == ".txt":
        return [(l, []) for l in path.read_text().splitlines() if l.strip()]
    values = _json_values(path)
    if isinstance(values[0], dict) and isinstance(values[0].get("labels", values[0].get("label")), list) and \
            values[0].get("labels", values[0].get("label")) and isinstance(values[0].get("labels", values[0].get("label"))[0], str):
        return [(o["text"], sorted(o.get("labels", o.get("label")))) for o in values]
    return [_spans_of(o) for o in values]


# ---- the corpus -----------------------------------------------------------------------------------------

# name -> (task, multilabel, import options, lines that must fail (None: imports cleanly))
CORPUS = {
    "doccano_sequence_labeling_example.conll": ("ner", False, {}, None),
    "doccano_labeling.conll": ("ner", False, {}, None),
    "doccano_labeling.trailing.conll": ("ner", False, {}, None),
    "spacy_ner-token-per-line.iob": ("ner", False, {}, None),
    "ncrfpp_ner.test.bmes": ("ner", False, {}, None),
    "labelstudio_completions_348.json": ("ner", False, {}, None),
    "doccano_labeling.spacy.json": ("ner", False, {}, None),
    "doccano_example_overlapping.jsonl": ("ner", False, {}, None),  # one span given twice is one span
    "doccano_example.txt": ("ner", False, {}, None),
    "doccano_text_classification_example.jsonl": ("classification", True, {}, None),
    "doccano_text_classification_example.json": ("classification", True, {}, None),
    "doccano_classification.json": ("classification", True, {}, None),
    "doccano_example_out_of_order_columns.csv": ("classification", False, {}, None),
    "doccano_example_ragged.csv": ("classification", False, {}, None),
    "prodigy_annotated_github-issues-DOCUMENTATION-textcat.jsonl": ("classification", False, {}, None),
    # deliberate problems
    "doccano_sequence_labeling_example.jsonl": ("ner", False, {}, [1]),  # LOC and ORG on one word
    "doccano_labeling.json": ("ner", False, {}, [2]),
    "doccano_text_classification_example.csv": ("classification", False, {}, [4]),  # empty text
    "doccano_example_fasttext.txt": ("classification", False, {}, [2, 4]),  # two labels; no text
    "labelstudio_csv_test2.json": ("classification", False, {"text_column": "title"}, [2]),  # tab in a label
}


def _project(S, name: str, task: str, multilabel: bool) -> None:
    with S.begin() as s:
        project_repo.create_project(s, name, task, multilabel=multilabel)


def dump(S, name: str) -> list[dict]:
    with S.begin() as s:
        p = project_repo.get_project(s, name)
        return [
            {"text": x.text, "tokens": [tuple(t) for t in x.tokens], "split": x.split, "status": x.status,
             "meta": x.meta, "spans": x.spans, "categories": x.categories, "annotator": x.annotator,
             "annotated_at": x.annotated_at}
            for x in sample_repo.iter_labeled(s, p, statuses=None)
        ]


def view(sample: dict) -> tuple[str, list]:
    text = sample["text"]
    return text, sorted((text[a:b], l) for a, b, l in sample["spans"]) if sample["spans"] else sorted(sample["categories"])


def test_the_corpus_has_twenty_files_each_with_its_source_and_licence():
    sources = (REAL / "SOURCES.md").read_text()
    files = sorted(p.name for p in REAL.iterdir() if p.name != "SOURCES.md")
    assert len(files) >= 20 and sorted(CORPUS) == files
    for name in files:
        row = next((l for l in sources.splitlines() if f"`{name}`" in l), "")
        assert re.search(r"[0-9a-f]{40}", row) and re.search(r"MIT|Apache-2\.0", row), name


@pytest.mark.parametrize("name", [n for n, c in CORPUS.items() if c[3] is not None])
def test_files_with_problems_fail_on_the_lines_a_reader_names_and_write_nothing(S, name):
    task, multilabel, options, lines = CORPUS[name]
    _project(S, "p", task, multilabel)
    report = importer.import_path(importer.ImportRequest("p", name, **options), REAL / name, S)
    assert report["imported"] == 0 and [e["line"] for e in report["errors"]] == lines
    assert dump(S, "p") == []


@pytest.mark.parametrize("name", [n for n, c in CORPUS.items() if c[3] is None])
def test_real_file_imports_as_a_reader_says_and_round_trips_through_every_format(S, name, tmp_path):
    task, multilabel, options, _ = CORPUS[name]
    _project(S, "src", task, multilabel)
    report = importer.import_path(importer.ImportRequest("src", name, **options), REAL / name, S)
    assert report["errors"] == [], report["errors"][:3]
    first = dump(S, "src")
    got = [view(x) for x in first]
    assert len(got) == len(expected(name)) and got == expected(name)
    for fmt in exporter.formats_for(task):
        out = tmp_path / f"out_{fmt}{'.tagtune' if fmt == 'bundle' else ''}"
        written = exporter.export_path("src", out, fmt, S=S)
        if written["exported"] == 0:  # nothing labelled: CoNLL/HF leave unlabelled samples out
            assert fmt in exporter.LABELLED_ONLY and carried(fmt, first) == []
            continue
        copy = f"copy_{fmt}"
        if fmt == "bundle":
            assert import_bundle(out.read_bytes(), copy, S)["errors"] == []
        else:
            _project(S, copy, task, multilabel)
            back = importer.import_path(importer.ImportRequest(copy, out.name, fmt=_import_fmt(fmt)), out, S)
            assert back["errors"] == [], (fmt, back["errors"][:3])
        assert carried(fmt, dump(S, copy)) == carried(fmt, first), fmt


def _words(x: dict, start: int, end: int) -> list[str]:
    """The non-blank word tokens inside [start, end): what CoNLL keeps (it re-joins them with spaces)."""
    return [x["text"][a:b] for a, b in x["tokens"] if a >= start and b <= end and x["text"][a:b].strip()]


def _import_fmt(fmt: str) -> str:
    return {"labelstudio": "json", "hf": "parquet"}.get(fmt, fmt)


def carried(fmt: str, samples: list[dict]) -> list:
    """What a format carries of each sample (README "Formats" says which fields)."""
    if fmt in ("jsonl", "json", "bundle"):
        return samples
    if fmt in ("conll", "hf"):  # labelled samples, as words and word-level entities
        rows = [x for x in samples if x["status"] == "labeled"]
        return [(_words(x, 0, len(x["text"])), sorted((l, _words(x, a, b)) for a, b, l in x["spans"]),
                 x["split"] if fmt == "hf" else None) for x in rows]
    if fmt == "labelstudio":
        return [{k: v for k, v in x.items() if k not in ("tokens",)} for x in samples]
    if fmt == "fasttext":
        return [(x["text"], x["categories"], x["status"] == "labeled") for x in samples]
    # csv, tsv, xlsx: everything but tokens; skipped reads back as unlabelled
    return [{**{k: v for k, v in x.items() if k != "tokens"}, "status": "labeled" if x["status"] == "labeled"
             else "unlabeled"} for x in samples]
