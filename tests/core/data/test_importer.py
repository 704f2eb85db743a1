"""Imports are all or nothing, add the labels they find, and report repairs."""
import json

import pytest

from core.data import importer
from core.base.errors import UserError
from db import projects as project_repo
from db import samples as sample_repo


@pytest.fixture
def ner(S):
    with S.begin() as s:
        project_repo.create_project(s, "ner", "ner", ["person"])
    return S


def _stats(S, name="ner"):
    with S.begin() as s:
        return sample_repo.stats(s, project_repo.get_project(s, name))


def _request(**kw):
    return importer.ImportRequest(kw.pop("project", "ner"), kw.pop("filename", "f.conll"), **kw)


GOOD = b"John\tB-person\nlives\tO\n\nParis\tB-location\n"
BAD = GOOD + b"\nx\tX-thing\n\ny\n"


def test_clean_file_is_written_with_new_labels_added_after_existing_ones(ner):
    report = importer.import_bytes(_request(split="train"), GOOD, ner)
    assert (report["imported"], report["skipped"], report["errors"]) == (2, 0, [])
    assert report["labels_added"] == ["location"]
    stats = _stats(ner)
    assert stats["splits"]["train"] == 2 and stats["labeled"] == 2
    assert list(stats["labels"]) == ["person", "location"]


def test_a_bad_file_writes_nothing_and_reports_every_bad_line(ner):
    before = _stats(ner)
    report = importer.import_bytes(_request(), BAD, ner)
    assert report["imported"] == 0 and [e["line"] for e in report["errors"]] == [6, 8]
    assert _stats(ner) == before
    assert "line 6" in importer.failure_reason(report) and "--skip-invalid" in importer.failure_reason(report)


def test_skip_invalid_writes_the_good_records_and_counts_the_rest(ner):
    report = importer.import_bytes(_request(skip_invalid=True), BAD, ner)
    assert (report["imported"], report["skipped"], len(report["errors"])) == (2, 2, 2)
    assert _stats(ner)["samples"] == 2


def test_repairs_are_reported_and_spans_stored_as_seqeval_reads_them(ner):
    report = importer.import_bytes(_request(), b"a\tB-person\n\nb\tO\nc\tI-person\n", ner)
    assert report["warnings"][0]["count"] == 1 and "read as B-" in report["warnings"][0]["message"]
    with ner.begin() as s:
        rows = list(sample_repo.iter_labeled(s, project_repo.get_project(s, "ner")))
    assert rows[1].spans == [(2, 3, "person")]


def test_preview_shows_what_would_happen_and_writes_nothing(ner):
    data = b"".join(json.dumps({"text": t, "spans": []}).encode() + b"\n" for t in ("one", "two"))
    preview = importer.preview(_request(filename="x.jsonl"), data, ner)
    assert (preview["format"], preview["records"], preview["errors"]) == ("jsonl", 2, [])
    assert preview["rows"][0] == {"line": 1, "text": "one", "labels": [], "status": "labeled", "split": "unassigned"}
    assert _stats(ner)["samples"] == 0


def test_requests_are_checked_before_anything_is_read(ner):
    with pytest.raises(UserError, match="unknown split 'validation'"):
        _request(split="validation")
    with pytest.raises(LookupError, match="no project named 'nope'"):
        importer.import_bytes(_request(project="nope"), GOOD, ner)
    with pytest.raises(UserError, match="no file at"):
        importer.import_path(_request(), "/no/such/file.conll", ner)


def test_import_into_a_single_label_project_refuses_labels_with_a_pipe(S):
    # `|` separates labels in CSV exports: a label holding one could not come back (issue 11)
    with S.begin() as s:
        project_repo.create_project(s, "cls", "classification")
    report = importer.import_bytes(_request(project="cls", filename="x.csv"), b"text,label\na,x|y\nb,y\n", S)
    assert [e["line"] for e in report["errors"]] == [2] and "contains '|'" in report["errors"][0]["message"]
    assert _stats(S, "cls")["samples"] == 0
    with S.begin() as s:
        project_repo.create_project(s, "multi", "classification", multilabel=True)
    importer.import_bytes(_request(project="multi", filename="x.csv"), b"text,label\na,x|y\nb,y\n", S)
    assert _stats(S, "multi")["labels"] == {"x": 1, "y": 2}
