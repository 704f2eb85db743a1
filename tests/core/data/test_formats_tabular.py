"""CSV/TSV classification, plain text, decoding (binary, empty, bad UTF-8) and detection."""
import pytest

from core.base.errors import UserError
from core.data.formats import ParseOptions, detect_format, parse
from tests.conftest import shared_file

CLS = ParseOptions("classification")


def test_drug_reviews_keep_quotes_entities_and_spacing_exactly():
    path = shared_file("drugreviews", "train.tsv")
    result = parse(path.read_bytes(), "tsv", ParseOptions("classification", text_column="review", label_column="rating"))
    assert result.errors == [] and len(result.records) == 600
    first = result.records[0]
    assert first.text.startswith('"I recently received') and first.text.endswith('pain. "')
    assert any("&#039;" in r.text for r in result.records)
    assert any("  " in r.text for r in result.records)
    assert first.categories == ["positive"]
    assert first.meta["drugName"] == "Nubain" and "review" not in first.meta
    assert result.labels == ["positive", "negative", "neutral"]


def test_csv_errors_name_the_line_and_the_columns():
    data = b'text,label\n"fine",pos\nshort\n"a,b",neg,extra\n,neg\n'
    result = parse(data, "csv", CLS)
    assert [(e.line, e.message.split(":")[0]) for e in result.errors] == [
        (4, "too many columns"), (5, "the text in column 'text' is empty; remove the line or give it a text"),
    ]
    # a short row is padded with empty cells (pandas does the same), and the import says so
    assert [(r.text, r.status) for r in result.records] == [("fine", "labeled"), ("short", "unlabeled")]
    assert result.warnings[-1]["message"].startswith("1 row had fewer cells than the header")
    missing = parse(b"passage,rating\nx,y\n", "csv", ParseOptions("classification", label_column="score"))
    assert missing.errors[0].line == 1
    assert "no column named 'text'" in missing.errors[0].message and "--text-column" in missing.errors[0].message


def test_multilabel_cells_split_on_pipe_and_empty_cells_are_unlabelled():
    data = b"text,label,split\na,x|y,train\nb,,test\nc,\"Birth Control, Acne\",dev\n"
    records = parse(data, "csv", ParseOptions("classification", multilabel=True)).records
    assert [(r.categories, r.status, r.split) for r in records] == [
        (["x", "y"], "labeled", "train"), ([], "unlabeled", "test"), (["Birth Control, Acne"], "labeled", "dev"),
    ]


def test_no_label_column_imports_unlabelled_and_says_so():
    result = parse(b"text\nhello\n", "csv", CLS)
    assert result.records[0].status == "unlabeled"
    assert result.warnings[0]["message"].startswith("1 row will be imported unlabelled: no label column")
    assert "--" not in result.warnings[0]["message"]  # shown on the Data page too: no command-line flag


def test_plain_text_keeps_each_line_exactly():
    result = parse(b"  two  spaces &amp; more \n\nsecond\r\n", "txt", CLS)
    assert [(r.line, r.text, r.status) for r in result.records] == [
        (1, "  two  spaces &amp; more ", "unlabeled"), (3, "second", "unlabeled"),
    ]


@pytest.mark.parametrize("fmt", ["conll", "jsonl", "csv", "tsv", "txt"])
def test_binary_and_empty_files_are_file_level_errors(fmt):
    binary = parse(bytes(range(256)) * 4, fmt, ParseOptions("ner"))
    assert binary.errors[0].line == 0 and "binary file" in binary.errors[0].message
    empty = parse(b"  \n", fmt, ParseOptions("ner"))
    assert empty.errors[0].line == 0 and "empty" in empty.errors[0].message


def test_utf8_with_broken_bytes_reports_each_bad_line_and_leaves_it_out():
    # valid UTF-8 (é) beside broken bytes: a damaged UTF-8 file, not another encoding
    result = parse("café\tO\n\n".encode() + b"bad\xff\tO\n\nworse\xfe\tO\n", "conll", ParseOptions("ner"))
    assert [e.line for e in result.errors] == [3, 5]
    assert "not valid UTF-8" in result.errors[0].message
    assert [r.text for r in result.records] == ["café"]


def test_format_from_extension_and_conll_sniffed_in_txt():
    assert detect_format("a.conll") == "conll" and detect_format("x.JSONL") == "jsonl"
    assert detect_format("train.txt", b"EU\tB-ORG\nrejects\tO\n") == "conll"
    assert detect_format("notes.txt", b"I like it. O\nsecond line\n") == "txt"
    with pytest.raises(UserError, match="pass --format"):
        detect_format("data.docx")


def test_semicolon_and_pipe_csv_files_are_read_by_their_header_and_say_so():
    # Excel in a decimal-comma locale, saved in Windows-1252: "é" is byte 0xE9
    excel = parse(b'text;label\n"caf\xe9, tr\xe8s bon";pos\nbad; really;neg\n', "csv", CLS)
    assert excel.errors[0].line == 3 and excel.errors[0].message.startswith("too many columns")
    assert [(r.text, r.categories) for r in excel.records] == [("café, très bon", ["pos"])]
    assert any("separates its columns with ';', not commas" in w["message"] for w in excel.warnings)
    piped = parse(b"text|label\nok, fine; good|pos\n", "csv", CLS)
    assert [(r.text, r.categories) for r in piped.records] == [("ok, fine; good", ["pos"])]
    # a header with commas, or one column whatever its rows hold, stays comma-separated
    for data in (b"text,label\na;b,pos\n", b"text\nhello; world\n"):
        result = parse(data, "csv", CLS)
        assert not any("separates its columns" in w["message"] for w in result.warnings)
    assert parse(b"text\nhello; world\n", "csv", CLS).records[0].text == "hello; world"


def test_excels_sep_line_names_the_delimiter_and_is_not_the_header():
    result = parse(b"sep=;\ntext;label\ngood, really;pos\n;neg\n", "csv", CLS)
    assert [(r.text, r.categories) for r in result.records] == [("good, really", ["pos"])]
    assert result.errors[0].line == 4  # numbered as in the file, the sep= line counted


def test_common_text_and_label_column_names_are_taken_and_named_when_text_and_label_are_missing():
    glue = parse(b"sentence\tlabel\nit is good\t1\n", "tsv", CLS)
    assert [(r.text, r.categories) for r in glue.records] == [("it is good", ["1"])]
    assert glue.warnings[0]["message"].startswith("no 'text' column: the texts are read from 'sentence'")
    imdb = parse(b"review,sentiment\nGreat film,positive\n", "csv", CLS)
    assert [(r.text, r.categories) for r in imdb.records] == [("Great film", ["positive"])]
    assert [w["message"].split(";")[0] for w in imdb.warnings] == [
        "no 'text' column: the texts are read from 'review'", "no 'label' column: the labels are read from 'sentiment'"]
    # a named column wins, and NER projects never take a label column by its name
    chosen = parse(b"review,comment,class\na,b,x\n", "csv", ParseOptions("classification", text_column="comment"))
    assert [(r.text, r.categories) for r in chosen.records] == [("b", ["x"])]
    ner = parse(b"sentence,category\nJohn lives here,x\n", "csv", ParseOptions("ner"))
    assert ner.errors == [] and [r.text for r in ner.records] == ["John lives here"]
