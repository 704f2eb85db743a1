"""Issue 11 on every database (CI reruns tests/db on PostgreSQL): hostile files become
line-numbered errors and write nothing; errors are capped; concurrent imports of one new label."""
import json
import threading

import pytest

from core.data import importer
from core.data.formats.base import MAX_ERRORS, QUOTE_CHARS
from db import projects as project_repo
from db import samples as sample_repo


@pytest.fixture
def ner(S):
    with S.begin() as s:
        project_repo.create_project(s, "p", "ner", ["PER"])
    return S


def _count(S):
    with S.begin() as s:
        return sample_repo.list_samples(s, project_repo.get_project(s, "p"), limit=0)[1]


def _import(S, data: bytes, name="x.jsonl", **kw):
    return importer.import_bytes(importer.ImportRequest("p", name, **kw), data, S)


GOOD = b'{"text": "fine here", "spans": []}\n'
HOSTILE = {
    "deep JSON": (b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    "lone surrogate in text": (b'{"text": "bad \\ud800 here", "spans": []}\n', "lone surrogate"),
    "lone surrogate in a label": (b'{"text": "Anna", "spans": [{"start": 0, "end": 4, "label": "P\\udfffR"}]}\n',
                                  "lone surrogate"),
    "NUL in text": (b'{"text": "nul \\u0000 here", "spans": []}\n', "NUL character"),
    "NUL in meta": (b'{"text": "meta", "spans": [], "meta": {"k": "a\\u0000b"}}\n', "NUL character"),
    "NaN in meta": (b'{"text": "nan", "spans": [], "meta": {"score": NaN}}\n', "NaN is not valid JSON"),
    "Infinity in meta": (b'{"text": "inf", "spans": [], "meta": {"score": -Infinity}}\n', "-Infinity is not valid JSON"),
    "300-character label": (json.dumps({"text": "Anna", "spans": [{"start": 0, "end": 4, "label": "L" * 300}]}).encode()
                            + b"\n", "300 characters: expected at most 100"),
    "tab in a label": (b'{"text": "Anna", "spans": [{"start": 0, "end": 4, "label": "A\\tB"}]}\n', "CSV/CoNLL exports"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_records_are_line_numbered_errors_and_nothing_is_written(ner, case):
    data, message = HOSTILE[case]
    report = _import(ner, GOOD + data)
    assert report["imported"] == 0 and [e["line"] for e in report["errors"]] == [2]
    assert message in report["errors"][0]["message"]
    assert _count(ner) == 0
    kept = _import(ner, GOOD + data, skip_invalid=True)  # the rest still goes in
    assert kept["imported"] == 1 and _count(ner) == 1


def test_nul_in_a_conll_token_is_refused_too(ner):
    report = _import(ner, b"An\x00na\tB-PER\nsings\tO\n", "x.conll")
    assert report["imported"] == 0 and report["errors"][0]["line"] in (0, 1)


def test_errors_are_capped_counted_and_quotes_cut(ner):
    data = b"".join(b'{"text": "cut ' + b"x" * 50_000 + b'\n' for _ in range(3 * MAX_ERRORS))
    report = _import(ner, data)
    assert len(report["errors"]) == MAX_ERRORS and report["error_count"] == 3 * MAX_ERRORS
    assert report["errors"][0]["line"] == 1 and report["errors"][-1]["line"] == MAX_ERRORS
    assert max(len(e["message"]) for e in report["errors"]) < QUOTE_CHARS + 300
    wide = _import(ner, b'{"text": 1, "spans": ' + b"[" + b"1," * 30_000 + b"1]}\n")
    assert len(wide["errors"][0]["message"]) < QUOTE_CHARS + 300
    assert "more, listed in the report" in importer.failure_reason(report) and "299" in importer.failure_reason(report)


def test_two_imports_adding_the_same_new_label_at_once_both_succeed(ner, monkeypatch):
    original = importer.find_duplicates
    barrier = threading.Barrier(2, timeout=20)
    waited = set()

    def both_read_first(s, project, result):  # both have read the labels before either writes
        found = original(s, project, result)
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return found

    monkeypatch.setattr(importer, "find_duplicates", both_read_first)
    reports, failures = [], []

    def run(text: str) -> None:
        try:
            reports.append(_import(ner, f"{text}\tB-ORG\n".encode(), "x.conll"))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in ("Acme", "Initech")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == [] and sorted(r["imported"] for r in reports) == [1, 1]
    with ner.begin() as s:
        assert [l.name for l in project_repo.labels_of(s, project_repo.get_project(s, "p"))] == ["PER", "ORG"]
