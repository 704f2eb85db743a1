"""`cli.py` data commands as a user runs them: real files, exit codes, stdout/stderr.

The must-show checks on the WNUT import and the bad files run `cli.py` in a subprocess;
the rest call ``cli.main`` in-process (same parser and handlers, no interpreter start-up)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import cli as cli_module
from db.engine import reset
from tests.conftest import ROOT, shared_file

WNUT_COUNTS = {"person": 660, "location": 548, "group": 264, "corporation": 221, "product": 142, "creative-work": 140}


def cli(home: Path, *args: str, ok: bool = True) -> tuple[dict | None, str, int]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "--home", str(home), *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "TAGTUNE_NO_DEMO": "1"},
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return out, proc.stderr, proc.returncode


def run(capsys, *args: str, ok: bool = True) -> tuple[dict | None, str, int]:
    """``cli.main`` in this process, for the `home` fixture's TAGTUNE_HOME."""
    capsys.readouterr()
    code = cli_module.main([str(a) for a in args])
    out, err = capsys.readouterr()
    if ok:
        assert code == 0, err
    return (json.loads(out) if out.strip() else None), err, code


def _sentences(path: Path) -> list[list[str]]:
    """Sentences of a CoNLL file as lists of lines, ignoring -DOCSTART- and extra blank lines."""
    out, cur = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip() and not line.startswith("-DOCSTART-"):
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


@pytest.fixture(scope="module")
def wnut(tmp_path_factory):
    """One home with WNUT train imported (shared by the tests below: importing takes a few seconds)."""
    source = shared_file("wnut17", "train.conll")
    home = tmp_path_factory.mktemp("home")
    cli(home, "project", "create", "wnut", "--task", "ner")
    report, _, _ = cli(home, "import", "wnut", source, "--split", "train")
    return home, source, report


def test_wnut_train_imports_3394_samples_with_the_published_entity_counts(wnut):
    home, _, report = wnut
    assert (report["imported"], report["skipped"], report["errors"]) == (3394, 0, [])
    stats, _, _ = cli(home, "stats", "wnut")
    assert stats["samples"] == 3394 and stats["splits"]["train"] == 3394
    assert stats["labels"] == WNUT_COUNTS


def test_conll_export_gives_back_the_same_tokens_and_tags_line_for_line(wnut, tmp_path):
    home, source, _ = wnut
    report, _, _ = cli(home, "export", "wnut", tmp_path / "out.conll")
    assert report["exported"] == 3394
    assert _sentences(tmp_path / "out.conll") == _sentences(source)


def test_jsonl_export_then_import_round_trips(wnut, tmp_path, monkeypatch, capsys):
    home, _, _ = wnut
    monkeypatch.setenv("TAGTUNE_HOME", str(home))
    monkeypatch.delenv("TAGTUNE_DB_URL", raising=False)
    reset()
    run(capsys, "export", "wnut", tmp_path / "a.jsonl")
    run(capsys, "project", "create", "copy", "--task", "ner")
    run(capsys, "import", "copy", tmp_path / "a.jsonl")
    run(capsys, "export", "copy", tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert run(capsys, "stats", "copy")[0]["labels"] == WNUT_COUNTS
    reset()


def test_drug_reviews_import_600_and_round_trip_as_jsonl(home, tmp_path, capsys):
    source = shared_file("drugreviews", "train.tsv")
    run(capsys, "project", "create", "drugs", "--task", "classification")
    report, _, _ = run(capsys, "import", "drugs", source, "--text-column", "review", "--label-column", "rating")
    assert report["imported"] == 600
    assert run(capsys, "stats", "drugs")[0]["labels"] == {"positive": 385, "negative": 161, "neutral": 54}
    run(capsys, "export", "drugs", tmp_path / "a.jsonl")
    run(capsys, "project", "create", "copy", "--task", "classification")
    run(capsys, "import", "copy", tmp_path / "a.jsonl")
    run(capsys, "export", "copy", tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


BAD_FILES = {
    "unknown tag scheme": ("bad.conll", b"John\tB-person\nin\tX-person\n", "ner", [], 2, "unknown tag 'X-person'"),
    "too few columns": ("few.conll", b"John\tB-person\nlonely\n", "ner", [], 2, "too few columns"),
    "truncated JSONL line": ("t.jsonl", b'{"text": "ok", "spans": []}\n{"text": "cut", "sp', "ner", [], 2, "not valid JSON"),
    "span outside its text": ("o.jsonl", b'{"text": "abc", "spans": [{"start": 1, "end": 9, "label": "x"}]}\n', "ner",
                              [], 1, "outside its text"),
    "CSV without the named column": ("c.csv", b"review,score\nnice,5\n", "classification",
                                     ["--text-column", "review", "--label-column", "rating"], 1, "no column named 'rating'"),
    "binary file": ("b.conll", bytes(range(256)) * 8, "ner", [], 0, "binary file"),
    "empty file": ("e.jsonl", b"", "ner", [], 0, "the file is empty"),
}


IN_A_SUBPROCESS = {"unknown tag scheme", "binary file"}  # the rest run in-process: same code, faster


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_get_a_per_line_error_a_non_zero_exit_and_change_nothing(home, capsys, case):
    name, data, task, options, line, message = BAD_FILES[case]
    (home / name).write_bytes(data)
    (home / "good.txt").write_text("already here\n")
    run(capsys, "project", "create", "p", "--task", task)
    run(capsys, "import", "p", home / "good.txt")
    before = run(capsys, "stats", "p")[0]
    if case in IN_A_SUBPROCESS:
        report, stderr, code = cli(home, "import", "p", home / name, *options, ok=False)
    else:
        report, stderr, code = run(capsys, "import", "p", home / name, *options, ok=False)
    assert code == 1
    assert report["imported"] == 0 and report["errors"][0]["line"] == line
    assert message in report["errors"][0]["message"]
    assert stderr.startswith("error: nothing imported") and message in stderr and stderr.count("\n") == 1
    assert run(capsys, "stats", "p")[0] == before


def test_i_after_o_is_repaired_and_the_import_says_so(home, tmp_path, capsys):
    (tmp_path / "r.conll").write_text("I\tO\nmet\tO\nAnn\tI-person\n\nBob\tB-person\n")
    run(capsys, "project", "create", "p", "--task", "ner")
    report, _, _ = run(capsys, "import", "p", tmp_path / "r.conll")
    assert report["warnings"][0]["count"] == 1 and report["warnings"][0]["lines"] == [3]
    assert "read as B-" in report["warnings"][0]["message"]
    run(capsys, "export", "p", tmp_path / "out.conll")
    assert "Ann\tB-person" in (tmp_path / "out.conll").read_text()


def test_project_commands(home, capsys):
    created, _, _ = run(capsys, "project", "create", "c", "--task", "classification", "--labels", "a, b", "--multilabel")
    assert created == {"name": "c", "task": "classification", "multilabel": True, "labels": ["a", "b"], "samples": 0}
    _, stderr, code = run(capsys, "project", "create", "c", "--task", "ner", ok=False)
    assert code == 1 and "already exists" in stderr
    assert [p["name"] for p in run(capsys, "project", "list")[0]["projects"]] == ["c"]
    _, stderr, code = run(capsys, "stats", "nope", ok=False)
    assert code == 1 and "no project named 'nope'" in stderr


def test_cli_duplicates_tag_names_entities_and_bundles(home, tmp_path, capsys):
    run(capsys, "project", "create", "p", "--task", "ner")
    (tmp_path / "a.conll").write_text("AT&amp;T\tB-ORG\nrocks\tO\n")
    report, _, _ = run(capsys, "import", "p", tmp_path / "a.conll", "--decode-entities")
    assert report["imported"] == 1 and report["scheme"]["name"] == "BIO"
    again, _, _ = run(capsys, "import", "p", tmp_path / "a.conll", "--duplicates", "skip")
    assert again["imported"] == 0 and again["duplicates"]["in_project"] == 1
    (tmp_path / "hf.jsonl").write_text('{"tokens": ["Anna", "sings"], "ner_tags": [1, 0]}\n')
    _, stderr, code = run(capsys, "import", "p", tmp_path / "hf.jsonl", ok=False)
    assert code == 1 and "--tag-names" in stderr
    report, _, _ = run(capsys, "import", "p", tmp_path / "hf.jsonl", "--tag-names", "O,B-PER,I-PER")
    assert report["labels_added"] == ["PER"]
    run(capsys, "export", "p", tmp_path / "p.tagtune")
    copy, _, _ = run(capsys, "project", "import", tmp_path / "p.tagtune", "--name", "copy")
    assert copy["imported"] == 2 and copy["labels"] == ["ORG", "PER"]
    stats = run(capsys, "stats", "copy")[0]
    assert stats["labels"] == {"ORG": 1, "PER": 1}
    for fmt in ("json", "labelstudio", "hf"):
        out, _, _ = run(capsys, "export", "copy", tmp_path / f"x_{fmt}", "--format", fmt)
        assert out["exported"] == 2
