"""CoNLL in (BIO, IOB1, IOBES; tabs or spaces; -DOCSTART-; stray blank lines) and BIO out."""
import io

import pytest

from core.data.formats import ParseOptions, parse
from core.data.formats.base import render_count
from core.data.formats.conll import REPAIR_WARNING, write_conll
from core.base.types import Span
from db.samples import LabeledSample

NER = ParseOptions("ner")


def _parse(text: str):
    return parse(text.encode("utf-8"), "conll", NER)


def test_bio_with_docstart_and_stray_blank_lines_keeps_the_file_tokens():
    result = _parse("-DOCSTART- O\n\nEmpire\tB-location\nState\tI-location\n&gt;\tO\n\t\n\n\nBob\tB-person\n")
    assert result.errors == []
    first, second = result.records
    assert first.text == "Empire State &gt;"
    assert first.tokens == [(0, 6), (7, 12), (13, 17)]
    assert first.spans == [Span(0, 12, "location")]
    assert (second.text, second.spans, second.line) == ("Bob", [Span(0, 3, "person")], 9)
    assert result.labels == ["location", "person"]


def test_space_separated_with_middle_columns_reads_token_first_and_tag_last():
    result = _parse("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n")
    assert result.errors == []
    assert result.records[0].spans == [Span(0, 2, "ORG"), Span(11, 17, "MISC")]


def test_iobes_and_iob1_read_into_the_same_spans():
    iobes = _parse("New\tB-LOC\nYork\tE-LOC\nis\tO\nbig\tS-X\n").records[0]
    iob1 = _parse("New\tI-LOC\nYork\tI-LOC\nis\tO\nbig\tI-X\n")
    assert iobes.spans == iob1.records[0].spans == [Span(0, 8, "LOC"), Span(12, 15, "X")]
    assert iob1.warnings == []  # a file that never uses B- is IOB1: I- opening an entity is the scheme


def test_i_after_o_is_repaired_and_reported_with_the_line_for_the_whole_file():
    # The repair sits in a sentence without any B-: the file-level scheme (BIO) decides.
    result = _parse("a\tO\nb\tI-person\n\nc\tB-x\nd\tI-y\n")
    assert [r.spans for r in result.records] == [[Span(2, 3, "person")], [Span(0, 1, "x"), Span(2, 3, "y")]]
    assert result.warnings == [{"message": render_count(REPAIR_WARNING, 2), "count": 2, "lines": [2, 5]}]
    assert result.warnings[0]["message"].startswith("2 I-/E- tags that opened an entity")


def test_cjk_tokens_join_without_spaces():
    record = _parse("北\tB-LOC\n京\tI-LOC\n很\tO\n大\tO\n").records[0]
    assert record.text == "北京很大"
    assert record.spans == [Span(0, 2, "LOC")]


def test_every_bad_line_is_reported_not_only_the_first():
    result = _parse("John\tB-person\nlives\tO\nin\tX-location\n\nBad\nline\tO\n\nok\tO\nend\tb-person\n")
    assert [(e.line, e.message.split(":")[0]) for e in result.errors] == [
        (3, "unknown tag 'X-location'"), (5, "too few columns"), (9, "unknown tag 'b-person'"),
    ]
    assert "M- (BMES)" in result.errors[0].message and "fix the tag" in result.errors[0].message
    assert result.records == [] and result.invalid == 3


def test_file_with_only_blank_lines_and_classification_projects_are_refused():
    assert _parse("\n\t\n").errors[0].line == 0
    other = parse(b"a\tO\n", "conll", ParseOptions("classification"))
    assert "NER project" in other.errors[0].message


def test_write_conll_gives_bio_whatever_the_input_scheme():
    record = _parse("New\tB-LOC\nYork\tE-LOC\nis\tO\nbig\tS-X\n").records[0]
    sample = LabeledSample(1, record.text, record.tokens, "train", "labeled", {}, 1,
                           [(s.start, s.end, s.label) for s in record.spans], [])
    out = io.StringIO()
    assert write_conll([sample], out) == 1
    assert out.getvalue() == "New\tB-LOC\nYork\tI-LOC\nis\tO\nbig\tB-X\n\n"


@pytest.mark.parametrize("line", ["\ufeffa\tO\n", "a\tO\r\n"])
def test_bom_and_crlf_are_not_part_of_tokens_or_tags(line):
    result = _parse(line)
    assert result.errors == [] and result.records[0].text == "a"
