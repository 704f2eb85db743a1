"""Issue 12: files that were read wrong without a word. Each test failed on the code before
the fix (run it against commit 1fd4a66 to see); they use only the public import/export calls."""
import io
import json

import pytest

from core.data import exporter, importer
from core.data.formats import ParseOptions, detect_format, parse
from core.base.types import Span
from db import projects as project_repo
from db import samples as sample_repo

NER = ParseOptions("ner")
CONLL2003 = (
    "-DOCSTART- -X- -X- O\n\n"
    "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\ncall NN I-NP O\n\n"
    "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n"
)


def _project(S, name="p", task="ner", multilabel=False):
    with S.begin() as s:
        project_repo.create_project(s, name, task, multilabel=multilabel)


def _rows(S, name="p"):
    with S.begin() as s:
        p = project_repo.get_project(s, name)
        return list(sample_repo.iter_labeled(s, p, statuses=None))


def test_1_space_separated_conll_2003_in_a_txt_file_is_read_as_conll():
    data = CONLL2003.encode()
    assert detect_format("train.txt", data) == "conll"
    result = parse(data, "conll", NER)
    assert result.errors == [] and [r.text for r in result.records] == ["EU rejects German call", "Peter Blackburn"]
    assert [[r.text[s.start:s.end] for s in r.spans] for r in result.records] == [["EU", "German"], ["Peter Blackburn"]]


def test_2_bare_cr_line_endings_keep_every_sentence():
    data = "CRICKET\tO\r-\tO\rLEICESTERSHIRE\tB-ORG\r\rLONDON\tB-LOC\r1996-08-30\tO\r\rWest\tB-MISC\rIndian\tI-MISC\r".encode()
    result = parse(data, "conll", NER)
    assert result.errors == []
    assert [r.text for r in result.records] == ["CRICKET - LEICESTERSHIRE", "LONDON 1996-08-30", "West Indian"]
    assert [s.label for r in result.records for s in r.spans] == ["ORG", "LOC", "MISC"]
    text = parse(b"one\rtwo\rthree\r", "txt", NER)
    assert [r.text for r in text.records] == ["one", "two", "three"]


def test_3_conll_export_of_whitespace_tokens_imports_again_without_splitting_the_sentence(S):
    _project(S)
    record = {"text": "Hello \nAnna here", "tokens": [{"start": 0, "end": 5}, {"start": 5, "end": 7},
                                                     {"start": 7, "end": 11}, {"start": 12, "end": 16}],
              "spans": [{"start": 7, "end": 11, "label": "PER"}]}
    report = importer.import_bytes(importer.ImportRequest("p", "x.jsonl"), json.dumps(record).encode(), S)
    assert report["errors"] == []
    data, _ = exporter.export_bytes("p", "conll", S=S)
    assert data.decode() == "Hello\tO\nAnna\tB-PER\nhere\tO\n\n"
    _project(S, "copy")
    back = importer.import_bytes(importer.ImportRequest("copy", "x.conll"), data, S)
    assert back["errors"] == [] and back["imported"] == 1
    assert [(r.text, r.spans) for r in _rows(S, "copy")] == [("Hello Anna here", [(6, 10, "PER")])]


def test_4_prodigy_reject_is_never_a_label_ignore_is_skipped_and_repeats_fold(S):
    _project(S, task="classification")
    lines = [
        {"text": "docs please", "label": "DOCS", "answer": "accept", "_input_hash": 1, "_task_hash": 11},
        {"text": "a crash", "label": "DOCS", "answer": "reject", "_input_hash": 2, "_task_hash": 12},
        {"text": "unsure", "label": "DOCS", "answer": "ignore", "_input_hash": 3, "_task_hash": 13},
        {"text": "docs please", "label": "DOCS", "answer": "accept", "_input_hash": 1, "_task_hash": 11},
    ]
    data = "".join(json.dumps(l) + "\n" for l in lines).encode()
    report = importer.import_bytes(importer.ImportRequest("p", "x.jsonl"), data, S)
    assert report["errors"] == [] and report["imported"] == 3
    rows = {r.text: r for r in _rows(S)}
    assert (rows["docs please"].status, rows["docs please"].categories) == ("labeled", ["DOCS"])
    assert (rows["a crash"].status, rows["a crash"].categories) == ("unlabeled", [])
    assert (rows["unsure"].status, rows["unsure"].categories) == ("skipped", [])


def test_4_ner_teach_rejects_leave_no_span():
    lines = [
        {"text": "Apple hires Anna", "spans": [{"start": 0, "end": 5, "label": "ORG"}], "answer": "reject",
         "_input_hash": 5, "_task_hash": 51},
        {"text": "Apple hires Anna", "spans": [{"start": 12, "end": 16, "label": "PER"}], "answer": "accept",
         "_input_hash": 5, "_task_hash": 52},
    ]
    result = parse("".join(json.dumps(l) + "\n" for l in lines).encode(), "jsonl", NER)
    assert result.errors == [] and len(result.records) == 1
    assert result.records[0].spans == [Span(12, 16, "PER")] and result.records[0].status == "labeled"


def test_5_bmes_ioe_and_io_tags_are_read():
    bmes = parse("王\tB-PER\n小\tM-PER\n明\tE-PER\n在\tO\n京\tS-LOC\n".encode(), "conll", NER)
    ioe = parse(b"New\tI-LOC\nYork\tE-LOC\nis\tO\nbig\tE-X\n", "conll", NER)
    io_ = parse(b"New\tI-LOC\nYork\tI-LOC\nis\tO\nbig\tI-X\n", "conll", NER)
    assert bmes.errors == [] and [(s.start, s.end, s.label) for s in bmes.records[0].spans] == [(0, 3, "PER"), (4, 5, "LOC")]
    assert ioe.errors == [] and [(s.start, s.end) for s in ioe.records[0].spans] == [(0, 8), (12, 15)]
    assert io_.errors == [] and [(s.start, s.end) for s in io_.records[0].spans] == [(0, 8), (12, 15)]


def test_also_utf16_and_latin1_are_read():
    utf16 = parse("text,label\nnaïve,pos\n".encode("utf-16"), "csv", ParseOptions("classification"))
    assert utf16.errors == [] and utf16.records[0].text == "naïve"
    latin1 = parse("Café au lait\tO\nMünchen\tB-LOC\n".encode("latin-1"), "conll", NER)
    assert latin1.errors == [] and latin1.records[0].text == "Café au lait München"


@pytest.mark.parametrize("text, encoding", [
    ("C'est très bon, merci\tO\nEspaña\tB-LOC\n", "cp1252"),  # charset-normalizer alone said cp1250: "trčs"
    ("Привет\tO\nмир\tO\nМосква\tB-LOC\n", "cp1251"),  # ... and read this as Latin gibberish
    ("Zażółć\tO\ngęślą\tO\njaźń\tO\nKraków\tB-LOC\n", "cp1250"),
    ("Grüße\tO\naus\tO\nKöln\tB-LOC\n", "cp1252"),  # it named Windows-1250, which reads this alike
    ("Καλημέρα\tO\nΑθήνα\tB-LOC\n", "cp1253"),
])
def test_short_legacy_code_page_files_are_read_in_their_own_code_page(text, encoding):
    result = parse(text.encode(encoding), "conll", NER)
    words = [line.split("\t")[0] for line in text.splitlines()]
    assert result.errors == [] and result.records[0].text == " ".join(words)
    assert f"read as {encoding}" in result.warnings[0]["message"]  # never silent: the guess is named


def test_also_pretty_printed_and_array_json_are_read():
    pretty = json.dumps([{"text": "one two", "spans": []}, {"text": "three", "spans": []}], indent=2).encode()
    result = parse(pretty, detect_format("x.json"), NER)
    assert result.errors == [] and [r.text for r in result.records] == ["one two", "three"]


def test_also_headerless_tsv_and_case_of_column_names():
    cls = ParseOptions("classification")
    headerless = parse(b"I loved this film\tpositive\nNot for me at all\tnegative\n", "tsv", cls)
    assert headerless.errors == [] and [(r.text, r.categories) for r in headerless.records] == [
        ("I loved this film", ["positive"]), ("Not for me at all", ["negative"])]
    cased = parse(b"Text,Label\nhello,pos\n", "csv", cls)
    assert cased.errors == [] and cased.records[0].categories == ["pos"]


def test_also_two_empty_header_cells_are_named_not_refused():
    result = parse(b",text,label,\n0,hello,pos,x\n", "csv", ParseOptions("classification"))
    assert result.errors == [] and result.records[0].text == "hello"


def test_also_iob1_is_not_reported_as_repairs():
    # CoNLL-2003 as first distributed: I- begins entities; B- only between two of one type
    result = parse(b"Peter\tI-PER\nand\tO\nAnna\tI-PER\nBob\tB-PER\n", "conll", NER)
    assert [(s.start, s.end) for s in result.records[0].spans] == [(0, 5), (10, 14), (15, 18)]
    assert not any("B-" in w["message"] and "read as" in w["message"] for w in result.warnings)


def test_also_csv_export_keeps_meta_types_and_every_meta_column(S):
    _project(S, task="classification")
    data = b'{"text": "a", "categories": ["x"], "meta": {"n": 5}}\n{"text": "b", "categories": ["x"], "meta": {"src": "web"}}\n'
    importer.import_bytes(importer.ImportRequest("p", "x.jsonl"), data, S)
    csv_bytes, _ = exporter.export_bytes("p", "csv", S=S)
    header = csv_bytes.decode().splitlines()[0].split(",")
    assert "n" in header and "src" in header
    _project(S, "copy", task="classification")
    importer.import_bytes(importer.ImportRequest("copy", "x.csv"), csv_bytes, S)
    assert [r.meta for r in _rows(S, "copy")] == [{"n": 5}, {"src": "web"}]


def test_also_trailing_tab_and_padded_token_are_read():
    result = parse(b"Anna \tB-PER\t\nsings\tO\t\n", "conll", NER)
    assert result.errors == [] and result.records[0].text == "Anna sings"
    assert result.records[0].spans == [Span(0, 4, "PER")]


def test_also_a_second_import_of_the_same_file_finds_the_duplicates(S):
    _project(S)
    data = b"Anna\tB-PER\n\nBob\tB-PER\n"
    importer.import_bytes(importer.ImportRequest("p", "x.conll"), data, S)
    again = importer.import_bytes(importer.ImportRequest("p", "x.conll", duplicates="skip"), data, S)
    assert again["imported"] == 0 and again["duplicates"]["in_project"] == 2
    assert len(_rows(S)) == 2


def test_bytes_no_code_page_reads_plausibly_are_reported_not_imported_as_gibberish():
    import random

    noise = bytes(b for b in random.Random(0).randbytes(3000) if b)  # no NUL: not "binary"
    result = parse(noise, "txt", ParseOptions("classification"))
    assert result.records == [] and result.errors
    assert all("not valid UTF-8" in e.message for e in result.errors)


LEGACY_TEXTS = {  # one line each, in the code page such files come in
    "French": ("Un été très chaud numéro {i}, où il fait beau, à la mer, je préfère le thé", "cp1252"),
    "Spanish": ("El niño español {i} comió piñas en Añorbe, mañana", "cp1252"),
    "Portuguese": ("A informação {i} não está disponível, São Paulo, coração", "cp1252"),
    "German": ("Grüße aus Köln {i}, schön und süß, Straße München", "cp1252"),
    "Turkish": ("İstanbul çok güzel bir şehirdir {i} ve Ankara başkenttir, ağaç ılık, öğretmen değil", "cp1254"),
    "Polish": ("Zażółć gęślą jaźń {i} w Krakowie, źródło łąka, świat mówić", "cp1250"),
    "Czech": ("Příliš žluťoučký kůň {i} úpěl ďábelské ódy, řeka", "cp1250"),
    "Hungarian": ("Árvíztűrő tükörfúrógép {i}, Győr és Pécs", "cp1250"),
    "Lithuanian": ("Lietuvos {i} sostinė yra Vilnius, čia gyvena žmonės, ąžuolas", "cp1257"),
    "Russian": ("Москва {i} это столица России, а Париж столица Франции", "cp1251"),
    "Russian KOI8-R": ("Москва {i} это столица России, а Париж столица Франции", "koi8_r"),
    "Greek": ("Η Αθήνα {i} είναι η πρωτεύουσα της Ελλάδας και μεγάλη πόλη", "cp1253"),
}


@pytest.mark.parametrize("lines", [1, 2000])
@pytest.mark.parametrize("language", sorted(LEGACY_TEXTS))
def test_plain_text_in_a_legacy_code_page_reads_exactly(language, lines):
    # before the oddity ranking, French, Spanish and Portuguese came out as Windows-1250 at every length
    line, encoding = LEGACY_TEXTS[language]
    text = "".join(line.format(i=i) + "\n" for i in range(lines))
    result = parse(text.encode(encoding), "txt", ParseOptions("classification"))
    assert result.errors == [] and [r.text for r in result.records] == text.splitlines()


def test_chinese_in_gbk_is_read_not_reported_as_broken_utf8():
    # GBK bytes look like UTF-8 sequences here and there; every line used to be "not valid UTF-8"
    text = "北京\tB-LOC\n大学\tI-LOC\n，\tO\n上海\tB-LOC\n很\tO\n好\tO\n"
    result = parse(text.encode("gbk"), "conll", NER)
    assert result.errors == [] and result.records[0].text.replace(" ", "") == "北京大学，上海很好"
    assert [s.label for s in result.records[0].spans] == ["LOC", "LOC"]
    assert "read as gb18030" in result.warnings[0]["message"]
