"""JSONL: Prodigy and doccano spans, classification labels, split/status/meta, bad lines."""
import io
import json

from core.data.formats import ParseOptions, parse
from core.data.formats.jsonl import write_jsonl
from core.base.types import Span

NER = ParseOptions("ner")
CLS = ParseOptions("classification")
MULTI = ParseOptions("classification", multilabel=True)


def _lines(*objs) -> bytes:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs).encode("utf-8")


def test_prodigy_and_doccano_spans_snap_to_word_tokens():
    result = parse(_lines(
        {"text": "I love New York!", "spans": [{"start": 7, "end": 15, "label": "LOC"}]},
        {"text": "Visit Paris now", "label": [[6, 11, "LOC"]]},
        {"text": "Visit Paris now", "entities": [{"start_offset": 7, "end_offset": 9, "label": "LOC"}]},
    ), "jsonl", NER)
    assert result.errors == []
    assert [r.spans for r in result.records] == [[Span(7, 15, "LOC")], [Span(6, 11, "LOC")], [Span(6, 11, "LOC")]]
    assert result.warnings[0]["message"] == "1 span widened to whole word tokens"
    assert result.warnings[0]["lines"] == [3]


def test_bad_lines_are_all_reported_with_their_numbers():
    result = parse(_lines(
        {"text": "hello world", "spans": [{"start": 0, "end": 5, "label": "A"}]},
        {"text": "abc", "spans": [{"start": 0, "end": 40, "label": "A"}]},
        '{"text": "trunc", "spa',
        {"text": "x y", "label": [[1, 2, "B"]]},
        [1, 2],
        {"spans": []},
        {"text": "a b", "spans": [{"start": 0, "end": 3, "label": "A"}, {"start": 2, "end": 3, "label": "B"}]},
    ), "jsonl", NER)
    messages = {e.line: e.message for e in result.errors}
    assert sorted(messages) == [2, 3, 4, 5, 6, 7]
    assert "outside its text of 3 characters" in messages[2]
    assert "not valid JSON" in messages[3] and "truncated" in messages[3]
    assert "touches no word token" in messages[4]
    assert "expected a JSON object" in messages[5]
    assert "expected a string in 'text', found nothing" in messages[6]
    assert "spans overlap" in messages[7]
    assert len(result.records) == 1 and result.invalid == 6


def test_classification_labels_in_every_shape():
    result = parse(_lines(
        {"text": "good", "label": "pos"},
        {"text": "bad", "categories": ["neg"]},
        {"text": "meh", "cats": {"neu": 0.9, "pos": 0.1}},
        {"text": "new"},
        {"text": "empty", "label": ""},
    ), "jsonl", CLS)
    assert result.errors == []
    assert [(r.categories, r.status) for r in result.records] == [
        (["pos"], "labeled"), (["neg"], "labeled"), (["neu"], "labeled"), ([], "unlabeled"), ([], "unlabeled"),
    ]


def test_single_label_projects_refuse_two_labels_multilabel_projects_take_them():
    data = _lines({"text": "both", "labels": ["a", "b", "a"]})
    assert "single-label" in parse(data, "jsonl", CLS).errors[0].message
    assert parse(data, "jsonl", MULTI).records[0].categories == ["a", "b"]


def test_named_columns_split_status_meta_and_extra_keys():
    result = parse(_lines(
        {"review": "fine", "rating": "pos", "split": "dev", "status": "skipped", "meta": {"a": 1}, "drug": "x",
         "_input_hash": 5},
        {"review": "odd", "rating": "pos", "split": "validation"},
    ), "jsonl", ParseOptions("classification", text_column="review", label_column="rating"))
    record = result.records[0]
    assert (record.split, record.status, record.meta) == ("dev", "skipped", {"a": 1, "drug": "x"})
    assert "unknown split 'validation'" in result.errors[0].message


def test_written_records_read_back_identically():
    from db.samples import LabeledSample

    tokens = [(0, 1), (2, 11), (12, 15)]  # tokens the tokenizer would not give: kept as written
    sample = LabeledSample(1, "@ paulwalk &gt;", tokens, "test", "labeled", {"k": "v"}, 1, [(2, 11, "person")], [])
    out = io.StringIO()
    write_jsonl([sample], out, "ner")
    record = parse(out.getvalue().encode(), "jsonl", NER).records[0]
    assert (record.text, record.tokens, record.spans) == (sample.text, tokens, [Span(2, 11, "person")])
    assert (record.split, record.status, record.meta) == ("test", "labeled", {"k": "v"})


def test_spans_given_only_by_token_indexes_take_their_offsets_from_the_records_tokens():
    tokens = [{"text": w, "start": s, "end": s + len(w), "id": i}
              for i, (w, s) in enumerate([("John", 0), ("lives", 5), ("in", 11), ("New", 14), ("York", 18)])]
    record = {"text": "John lives in New York", "tokens": tokens, "answer": "accept",
              "spans": [{"token_start": 0, "token_end": 0, "label": "PER"},
                        {"token_start": 3, "token_end": 4, "label": "LOC"}]}
    result = parse(json.dumps(record).encode(), "jsonl", NER)
    assert result.errors == [] and [(s.start, s.end, s.label) for s in result.records[0].spans] == [
        (0, 4, "PER"), (14, 22, "LOC")]
    pairs = {**record, "tokens": [[t["start"], t["end"]] for t in tokens]}  # offsets as pairs count too
    assert [(s.start, s.end) for s in parse(json.dumps(pairs).encode(), "jsonl", NER).records[0].spans] == [
        (0, 4), (14, 22)]
    beyond = {**record, "spans": [{"token_start": 4, "token_end": 5, "label": "LOC"}]}
    no_tokens = {"text": record["text"], "spans": [{"token_start": 0, "token_end": 0, "label": "PER"}]}
    errors = parse(f"{json.dumps(beyond)}\n{json.dumps(no_tokens)}\n".encode(), "jsonl", NER).errors
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (1, "span token_start='4' token_end='5' does not name tokens of this record"),
        (2, "a span gives token_start/token_end but no start/end, and the record has no 'tokens' with offsets to "
            "resolve them")]


def test_records_without_a_text_key_take_a_common_name_and_say_so():
    data = b'{"sentence": "it is good", "label": 1}\n{"sentence": "bad", "label": 0}\n{"label": 1}\n'
    result = parse(data, "jsonl", ParseOptions("classification", tag_names=("neg", "pos")))
    assert [(r.text, r.categories) for r in result.records] == [("it is good", ["pos"]), ("bad", ["neg"])]
    assert result.warnings[0]["message"] == ("2 records had no 'text' key: the texts are read from 'sentence'; "
                                             "choose another text column if that is wrong")
    assert [(e.line, e.message.split(";")[0]) for e in result.errors] == [
        (3, "expected a string in 'text', found nothing")]
