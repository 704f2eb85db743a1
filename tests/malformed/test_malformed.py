"""Every third file of the malformed corpus through the real import path: a report, never a
crash; nothing written; the first error names the expected line and says how to fix it.
(bench/malformed_input.py runs all of them and the 10 MB memory check.)"""
import pytest

from bench.malformed_input import FIX, _counts
from core.base.errors import UserError
from core.data import importer
from db import projects as project_repo
from tests.malformed.generate import generate


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("malformed")
    return folder, generate(folder)


def test_the_corpus_has_at_least_100_files(corpus):
    folder, cases = corpus
    assert len(cases) >= 100 and len({c.name for c in cases}) == len(cases)
    assert all((folder / c.name).is_file() for c in cases)


@pytest.mark.parametrize("index", range(0, 137, 3))
def test_malformed_file_is_refused_on_its_line_with_a_fix_and_writes_nothing(S, corpus, index):
    folder, cases = corpus
    case = cases[index]
    with S.begin() as s:
        project_repo.create_project(s, "p", case.task, multilabel=case.multilabel)
    before = _counts(S)
    try:
        errors = importer.import_path(importer.ImportRequest("p", case.name, **case.options), folder / case.name, S)["errors"]
    except UserError as exc:
        errors = [{"line": 0, "message": str(exc)}]
    assert _counts(S) == before
    assert errors and errors[0]["line"] == case.line, (case.name, errors[:1])
    assert FIX.search(errors[0]["message"]), errors[0]["message"]
