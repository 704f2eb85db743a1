"""Label Studio, Hugging Face (JSONL/Parquet), fastText, Excel, project bundles, tag schemes,
duplicates, HTML entities and CSV formula neutralisation."""
import io
import json

import pytest

from core.base.errors import UserError
from core.data import exporter, importer
from core.data.bundle import import_bundle
from core.data.formats import ParseOptions, parse
from core.data.formats.tabular import neutralise, restore
from core.text.spans import SchemeDetector, tags_to_spans
from db import projects as project_repo
from db import samples as sample_repo

NER = ParseOptions("ner")
CLS = ParseOptions("classification")


def _project(S, name="p", task="ner", labels=(), multilabel=False):
    with S.begin() as s:
        project_repo.create_project(s, name, task, list(labels), multilabel=multilabel)


def _rows(S, name="p", source="human"):
    with S.begin() as s:
        return list(sample_repo.iter_labeled(s, project_repo.get_project(s, name), statuses=None, source=source))


@pytest.mark.parametrize("tags,scheme,entities", [
    (["B-A", "I-A", "O", "B-B"], "BIO", [(0, 2, "A"), (3, 4, "B")]),
    (["I-A", "I-A", "B-A", "O"], "IOB1", [(0, 2, "A"), (2, 3, "A")]),
    (["I-A", "I-A", "O", "I-B"], "IO", [(0, 2, "A"), (3, 4, "B")]),
    (["I-A", "E-A", "O", "E-B"], "IOE2", [(0, 2, "A"), (3, 4, "B")]),
    (["I-A", "E-A", "I-A", "O"], "IOE1", [(0, 2, "A"), (2, 3, "A")]),
    (["B-A", "E-A", "O", "S-B"], "IOBES", [(0, 2, "A"), (3, 4, "B")]),
    (["B-A", "M-A", "E-A", "S-B"], "BMES", [(0, 3, "A"), (3, 4, "B")]),
    (["B-A", "M-A", "E-A", "W-B"], "BMEWO", [(0, 3, "A"), (3, 4, "B")]),
    (["B-A", "L-A", "O", "U-B"], "BILOU", [(0, 2, "A"), (3, 4, "B")]),
])
def test_each_scheme_is_named_and_decoded_by_seqeval(tags, scheme, entities):
    detector = SchemeDetector()
    detector.add(tags)
    assert detector.report().scheme == scheme
    spans = tags_to_spans([(i, i + 1) for i in range(len(tags))], tags).spans
    assert [(s.start, s.end, s.label) for s in spans] == entities


def test_label_studio_tasks_and_json_min_read_spans_choices_annotator_time(S):
    task = {"id": 7, "data": {"text": "Anna met Bob", "source": "mail"},
            "annotations": [{"completed_by": {"email": "a@x.org"}, "created_at": "2024-01-30T02:40:43Z", "lead_time": 4.5,
                             "result": [{"type": "labels", "value": {"start": 0, "end": 4, "labels": ["PER"]}},
                                        {"type": "relation", "from_id": "a", "to_id": "b"}]}],
            "predictions": [{"result": []}]}
    result = parse(json.dumps([task]).encode(), "json", NER)
    record = result.records[0]
    assert (record.text, [(s.start, s.end, s.label) for s in record.spans]) == ("Anna met Bob", [(0, 4, "PER")])
    assert (record.annotator, record.annotated_at, record.seconds) == ("a@x.org", "2024-01-30T02:40:43", 4.5)
    assert record.meta == {"source": "mail", "label_studio_id": 7}
    assert any("another kind" in w["message"] for w in result.warnings)
    assert any("predictions" in w["message"] for w in result.warnings)
    minimal = [{"text": "good film", "sentiment": "Positive", "annotator": "b@x.org", "annotation_id": 3,
                "created_at": "2024-01-01T00:00:00Z", "lead_time": 2.0, "id": 1}]
    cls = parse(json.dumps(minimal).encode(), "json", CLS).records[0]
    assert (cls.categories, cls.annotator, cls.seconds, cls.meta) == (["Positive"], "b@x.org", 2.0, {"id": 1})
    cancelled = dict(task, annotations=[{"was_cancelled": True, "result": []}])
    assert parse(json.dumps(cancelled).encode(), "json", NER).records[0].status == "skipped"


def test_hugging_face_jsonl_ids_need_names_and_take_them_from_tag_names_or_dataset_info(S, tmp_path):
    line = json.dumps({"id": "0", "tokens": ["EU", "rejects", "German", "call"], "ner_tags": [3, 0, 7, 0]}) + "\n"
    missing = parse(line.encode(), "jsonl", NER)
    assert "--tag-names" in missing.errors[0].message
    names = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
    record = parse(line.encode(), "jsonl", ParseOptions("ner", tag_names=names)).records[0]
    assert [(record.text[s.start:s.end], s.label) for s in record.spans] == [("EU", "ORG"), ("German", "MISC")]
    info = {"features": {"tokens": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
                         "ner_tags": {"feature": {"names": list(names), "_type": "ClassLabel"}, "_type": "Sequence"}}}
    (tmp_path / "dataset_info.json").write_text(json.dumps(info))
    assert importer.tag_names(str(tmp_path / "dataset_info.json")) == names
    assert importer.tag_names("O,B-X,I-X") == ("O", "B-X", "I-X")


def test_parquet_export_carries_classlabel_names_and_imports_back(S):
    _project(S)
    importer.import_bytes(importer.ImportRequest("p", "x.conll", split="train"), b"Anna\tB-PER\nin\tO\nRome\tB-LOC\n", S)
    data, report = exporter.export_bytes("p", "hf", S=S)
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["ner_tags"]["feature"]["names"] == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    assert table.to_pylist() == [{"tokens": ["Anna", "in", "Rome"], "ner_tags": [1, 0, 3], "split": "train"}]
    _project(S, "copy")
    back = importer.import_bytes(importer.ImportRequest("copy", "x.parquet"), data, S)
    assert back["errors"] == [] and [(r.text, r.spans, r.split) for r in _rows(S, "copy")] == [
        ("Anna in Rome", [(0, 4, "PER"), (8, 12, "LOC")], "train")]


def test_fasttext_and_xlsx_round_trip_classification(S):
    _project(S, task="classification")
    importer.import_bytes(importer.ImportRequest("p", "x.txt", fmt="fasttext"),
                          b"__label__pos great film\n__label__neg =cmd|' /C calc'!A0\nno label here\n", S)
    assert [(r.text, r.categories) for r in _rows(S)] == [
        ("great film", ["pos"]), ("=cmd|' /C calc'!A0", ["neg"]), ("no label here", [])]
    for fmt, name in (("xlsx", "x.xlsx"), ("fasttext", "x.ft")):
        data, _ = exporter.export_bytes("p", fmt, S=S)
        _project(S, f"copy_{fmt}", task="classification")
        assert importer.import_bytes(importer.ImportRequest(f"copy_{fmt}", name), data, S)["errors"] == []
        assert [(r.text, r.categories) for r in _rows(S, f"copy_{fmt}")] == [(r.text, r.categories) for r in _rows(S)]
    from openpyxl import load_workbook

    data, _ = exporter.export_bytes("p", "xlsx", S=S)
    cell = load_workbook(io.BytesIO(data)).worksheets[0]["A3"]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"  # text, never a formula


def test_csv_export_neutralises_formulas_and_import_restores_them(S):
    for cell in ("=1+2", "+1", "-5 degrees", "@SUM(A1)", "\tx", "'=x", "''", "'Tis", "plain", "'"):
        assert restore(neutralise(cell)) == cell
    assert neutralise("=HYPERLINK(\"http://x\")").startswith("'=")
    _project(S, task="classification")
    importer.import_bytes(importer.ImportRequest("p", "x.jsonl"),
                          b'{"text": "=cmd|\' /C calc\'!A0", "categories": ["-neg"]}\n', S)
    data, _ = exporter.export_bytes("p", "csv", S=S)
    assert data.decode().splitlines()[1].startswith("'=cmd|") and ",'-neg," in data.decode()
    _project(S, "copy", task="classification")
    importer.import_bytes(importer.ImportRequest("copy", "x.csv"), data, S)
    assert [(r.text, r.categories) for r in _rows(S, "copy")] == [("=cmd|' /C calc'!A0", ["-neg"])]


def test_bundle_moves_a_project_losslessly(S, tmp_path):
    from core.data.bundle import write_bundle

    with S.begin() as s:
        p = project_repo.create_project(s, "src", "ner", [project_repo.LabelSpec("PER", "#112233", "q", "people"),
                                                          project_repo.LabelSpec("LOC", "#445566", None, "")])
        sample_repo.add_samples(s, p, [
            sample_repo.NewSample("Anna in Rome", [(0, 4), (5, 7), (8, 12)], "train", "labeled", [(0, 4, "PER")],
                                  meta={"n": 1}, annotator="ann", seconds=3.5, priority=0.7),
            sample_repo.NewSample("todo", [(0, 4)], "unassigned", "unlabeled"),
        ])
        sid = sample_repo.list_samples(s, p)[0][1].id
        sample_repo.replace_suggestions(s, sid, "model", [(0, 4, "LOC", 0.25)])
        project_repo.set_import_option(s, p, "decode_entities", True)
    first = io.StringIO()
    write_bundle("src", first, S)
    report = import_bundle(first.getvalue().encode(), "copy", S)
    assert report["errors"] == [] and report["imported"] == 2
    again = io.StringIO()
    write_bundle("copy", again, S)
    strip = lambda text: [l for l in text.splitlines()][1:]  # the first line names the project
    assert strip(again.getvalue()) == strip(first.getvalue())
    head = json.loads(again.getvalue().splitlines()[0])
    assert head["labels"] == [{"name": "PER", "colour": "#112233", "hotkey": "q", "description": "people"},
                              {"name": "LOC", "colour": "#445566", "hotkey": "2", "description": ""}]
    assert head["project"]["import_options"] == {"decode_entities": True}
    model = _rows(S, "copy", source="model")
    assert [m.spans for m in model] == [[], [(0, 4, "LOC")]]
    with pytest.raises(UserError, match="already exists"):
        import_bundle(first.getvalue().encode(), "copy", S)
    broken = first.getvalue().replace('"label": "PER"', '"label": "NOPE"').encode()
    assert import_bundle(broken, "other", S)["errors"][0]["line"] == 2
    with S.begin() as s:
        assert [p.name for p in project_repo.list_projects(s)] == ["copy", "src"]


def test_exports_carry_annotator_time_and_source(S):
    _project(S, task="classification", labels=["pos"])
    importer.import_bytes(importer.ImportRequest("p", "x.jsonl"), json.dumps(
        {"text": "nice", "categories": ["pos"], "annotator": "maria", "annotated_at": "2025-03-01T10:00:00",
         "seconds": 7.0}).encode(), S)
    record = json.loads(exporter.export_bytes("p", "jsonl", S=S)[0])
    assert (record["annotator"], record["annotated_at"], record["seconds"], record["annotation_source"]) == (
        "maria", "2025-03-01T10:00:00", 7.0, "human")
    header, row = exporter.export_bytes("p", "csv", S=S)[0].decode().splitlines()
    assert header.startswith("text,label,split,annotator,annotated_at") and "maria,2025-03-01T10:00:00" in row
    task = json.loads(exporter.export_bytes("p", "labelstudio", S=S)[0])[0]
    assert task["annotations"][0]["completed_by"] == "maria" and task["annotations"][0]["lead_time"] == 7.0


def test_duplicates_are_counted_in_the_preview_and_skipped_on_request(S):
    _project(S, task="classification")
    importer.import_bytes(importer.ImportRequest("p", "a.txt"), b"Hello  world\n", S)
    data = b"Hello world\nnew one\nnew one\n"
    preview = importer.preview(importer.ImportRequest("p", "b.txt"), data, S)
    assert preview["duplicates"] == {"in_project": 1, "in_file": 1, "action": "keep", "skipped": 0}
    report = importer.import_bytes(importer.ImportRequest("p", "b.txt", duplicates="skip"), data, S)
    assert report["imported"] == 1 and report["duplicates"]["skipped"] == 2
    assert [r.text for r in _rows(S)] == ["Hello  world", "new one"]


def test_html_entities_are_decoded_on_request_and_remembered_per_project(S):
    _project(S)
    data = b"AT&amp;T\tB-ORG\nisn&#039;t\tO\nhere\tO\n"
    importer.import_bytes(importer.ImportRequest("p", "a.conll"), data, S)
    assert _rows(S)[0].text == "AT&amp;T isn&#039;t here"  # off by default
    importer.import_bytes(importer.ImportRequest("p", "b.conll", decode_entities=True), data, S)
    decoded = _rows(S)[1]
    assert decoded.text == "AT&T isn't here" and decoded.spans == [(0, 4, "ORG")]
    importer.import_bytes(importer.ImportRequest("p", "c.txt"), b"Tom &amp; Jerry\n", S)  # remembered
    assert _rows(S)[2].text == "Tom & Jerry" and _rows(S)[2].tokens == [[0, 3], [4, 5], [6, 11]]
