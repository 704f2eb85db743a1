"""A corpus of malformed input files (issue 11): every way a file can be bad that we know of,
each in several places of a file, for every import format.

    .venv/bin/python tests/malformed/generate.py OUT_DIR     # writes the files and cases.json

``generate(out)`` returns the cases: file name, project task, import options and the line the
first error must name (0: a problem with the whole file). bench/malformed_input.py imports
each through the real import path; tests/malformed/test_malformed.py runs a sample of them.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

GOOD_CONLL = "Anna\tB-PER\nsings\tO\n\n"
GOOD_JSONL = '{"text": "a good line", "spans": []}\n'
GOOD_CSV_ROW = "a good row,pos\n"


@dataclass
class Case:
    name: str
    task: str = "ner"
    line: int = 0  # the line the first error must name (0: the file as a whole)
    options: dict = field(default_factory=dict)
    multilabel: bool = False


def _conll(bad: str, before: int) -> tuple[str, int]:
    """``before`` good sentences (3 lines each), then the bad line."""
    return GOOD_CONLL * before + bad, 3 * before + 1


CONLL_BAD = {
    "unknown_tag": "in\tX-PER\n", "lowercase_tag": "in\tb-per\n", "no_type": "in\tB-\n", "one_column": "lonely\n",
    "blank_token": " \tB-PER\n", "tag_only": "\tO\n",
}
JSONL_BAD = {
    "truncated": '{"text": "cut", "spa', "not_object": "[1, 2]", "no_text": '{"spans": []}', "text_number": '{"text": 5}',
    "empty_text": '{"text": "  "}', "span_outside": '{"text": "abc", "spans": [{"start": 1, "end": 40, "label": "A"}]}',
    "span_no_label": '{"text": "abc", "spans": [{"start": 0, "end": 3}]}',
    "span_float": '{"text": "abc", "spans": [{"start": 0.5, "end": 3, "label": "A"}]}',
    "overlap": '{"text": "a b", "spans": [{"start": 0, "end": 3, "label": "A"}, {"start": 2, "end": 3, "label": "B"}]}',
    "bad_split": '{"text": "x", "split": "validation"}', "bad_status": '{"text": "x", "status": "done"}',
    "meta_list": '{"text": "x", "meta": [1]}', "deep": "[" * 50_000 + "]" * 50_000,
    "surrogate": '{"text": "x \\ud800 y"}', "nan": '{"text": "x", "meta": {"s": NaN}}',
    "infinity": '{"text": "x", "meta": {"s": Infinity}}', "nul": '{"text": "x \\u0000 y"}',
    "long_label": json.dumps({"text": "abc", "spans": [{"start": 0, "end": 3, "label": "L" * 300}]}),
    "tab_label": '{"text": "abc", "spans": [{"start": 0, "end": 3, "label": "A\\tB"}]}',
    "pipe_label": '{"text": "abc", "spans": [{"start": 0, "end": 3, "label": "A|B"}]}',
    "bad_answer": '{"text": "x", "answer": "maybe"}',
    "tokens_disorder": '{"text": "a b", "tokens": [{"start": 2, "end": 3}, {"start": 0, "end": 1}]}',
    "hf_no_names": '{"tokens": ["a", "b"], "ner_tags": [1, 0]}', "hf_count": '{"tokens": ["a", "b"], "ner_tags": ["O"]}',
    "ls_no_text": '{"data": {"n": 1, "m": 2}, "annotations": []}',
}
CSV_BAD = {
    "empty_text": ",pos\n", "too_many": "a,b,c,d\n", "bad_split_cell": None, "open_quote": '"never closed,pos\n',
    "pipe_in_label": "text here,a|b\n",
}


def generate(out: Path) -> list[Case]:
    out.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def write(name: str, data: bytes | str, case: Case) -> None:
        (out / name).write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        cases.append(case)

    for kind, bad in CONLL_BAD.items():
        for before in (0, 1, 7, 40):
            text, line = _conll(bad, before)
            name = f"conll_{kind}_{before}.conll"
            write(name, text + GOOD_CONLL, Case(name, "ner", line))
        cr = f"conll_{kind}_cr.conll"
        text, line = _conll(bad, 2)
        write(cr, (text + GOOD_CONLL).replace("\n", "\r"), Case(cr, "ner", line))
    for kind, bad in JSONL_BAD.items():
        for before in (0, 3, 60):
            name = f"jsonl_{kind}_{before}.jsonl"
            write(name, GOOD_JSONL * before + bad + "\n" + GOOD_JSONL, Case(name, "ner", before + 1))
    for kind, bad in CSV_BAD.items():
        for before in (0, 5):
            name = f"csv_{kind}_{before}.csv"
            if kind == "bad_split_cell":
                data = "text,label,split\n" + "ok,pos,train\n" * before + "x,pos,validation\n"
            else:
                data = "text,label\n" + GOOD_CSV_ROW * before + bad + GOOD_CSV_ROW
            write(name, data, Case(name, "classification", before + 2))
    write("csv_no_text_column.csv", "review,rating\nnice,5\n", Case("csv_no_text_column.csv", "classification", 1))
    write("csv_repeated_header.csv", "text,label,text\na,b,c\n", Case("csv_repeated_header.csv", "classification", 1))
    write("tsv_empty_text.tsv", "text\tlabel\nfine\tpos\n\tneg\n", Case("tsv_empty_text.tsv", "classification", 3))
    write("json_unclosed.json", '[\n{"text": "a"},\n{"text": "b"}\n', Case("json_unclosed.json", "ner", 4))
    write("json_missing_comma.json", '[\n{"text": "a"}\n{"text": "b"}\n]\n', Case("json_missing_comma.json", "ner", 3))
    write("json_element_not_object.json", '[\n{"text": "a"},\n"just a string"\n]\n',
          Case("json_element_not_object.json", "ner", 3))
    write("json_deep.json", "[\n" + "[" * 50_000 + "]" * 50_000 + "\n]\n", Case("json_deep.json", "ner", 2))
    write("fasttext_label_only.ft", "__label__pos fine\n__label__neg\n", Case("fasttext_label_only.ft", "classification", 2))
    write("fasttext_empty_label.ft", "__label__ text\n", Case("fasttext_empty_label.ft", "classification", 1))
    for fmt in ("conll", "jsonl", "csv", "txt", "json"):
        write(f"binary.{fmt}", bytes(range(256)) * 64, Case(f"binary.{fmt}", "ner" if fmt != "csv" else "classification"))
        write(f"empty.{fmt}", b"  \n\n", Case(f"empty.{fmt}", "ner" if fmt != "csv" else "classification"))
    write("not_a_workbook.xlsx", b"PK\x03\x04 this is not a zip", Case("not_a_workbook.xlsx", "classification"))
    write("not_parquet.parquet", b"PAR1 nope", Case("not_parquet.parquet", "ner"))
    write("utf8_broken.conll", "café\tO\n\n".encode() + b"bad\xff\tO\n", Case("utf8_broken.conll", "ner", 3))
    (out / "cases.json").write_text(json.dumps([asdict(c) for c in cases], indent=1))
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "malformed_corpus")
    print(f"{len(generate(target))} files in {target}")
