"""Binary formats: Excel ``.xlsx`` (openpyxl) and Parquet in the Hugging Face datasets shape
(pyarrow).

xlsx: the first sheet, read like a CSV file (header row, text/label columns, meta); written
with every cell typed as a string, so a text such as ``=cmd|...`` is never a formula.
Parquet: rows are read like JSON records (``tokens`` + ``ner_tags``, or ``text`` + ``label``);
class names come from ``--tag-names`` or the ``huggingface`` features the datasets library
stores in the file's schema metadata. The export writes that metadata too, so
``datasets.load_dataset("parquet", ...)`` gets ClassLabel names back.
"""
from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterable, Iterator

from core.data.formats.base import FILE_LEVEL, LineError, ParseOptions, ParseResult
from core.data.formats.tabular import parse_rows, table_rows
from core.text.spans import spans_to_bio


def parse_xlsx(data: bytes, options: ParseOptions) -> ParseResult:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException: not a workbook
        return ParseResult([], [LineError(FILE_LEVEL, f"not an Excel .xlsx workbook ({type(exc).__name__}); save the "
                                                      "sheet as .xlsx, or export it as CSV")])
    sheet = book.worksheets[0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_text(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            yield number, cells

    try:
        return parse_rows(rows(), options, "Excel")
    finally:
        book.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_xlsx(samples: Iterable, out: io.BufferedIOBase) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("samples")
    count = -1
    for row in table_rows(samples):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(out)
    return count


# ---- Hugging Face datasets (Parquet) ------------------------------------------------------------------

def hf_names(features: dict) -> tuple[str, ...] | None:
    """ClassLabel names of ``ner_tags``/``tags`` (a sequence) or ``label``/``labels`` in a features dict."""
    for key in ("ner_tags", "tags", "label", "labels"):
        feature = features.get(key)
        while isinstance(feature, dict) and "names" not in feature and "feature" in feature:
            feature = feature["feature"]
        if isinstance(feature, list) and feature:
            feature = feature[0]
        if isinstance(feature, dict) and isinstance(feature.get("names"), list):
            return tuple(str(n) for n in feature["names"])
    return None


def features_of(info: dict) -> dict | None:
    """The features dict inside a dataset_info.json, a dataset_infos.json or Parquet metadata."""
    if not isinstance(info, dict):
        return None
    if isinstance(info.get("features"), dict):
        return info["features"]
    for value in info.values():
        if isinstance(value, dict):
            found = features_of(value)
            if found:
                return found
    return None


def parse_parquet(data: bytes, options: ParseOptions) -> ParseResult:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.data.formats.jsonl import Reader

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        return ParseResult([], [LineError(FILE_LEVEL, f"not a Parquet file ({exc}); export the dataset with "
                                                      "to_parquet() or as JSONL")])
    if options.tag_names is None:
        meta = (table.schema.metadata or {}).get(b"huggingface")
        if meta:
            features = features_of(json.loads(meta))
            names = hf_names(features or {})
            if names:
                options = dataclasses.replace(options, tag_names=names)
    reader = Reader(options)
    for number, row in enumerate(table.to_pylist(), start=1):
        reader.add(row, number)
    return reader.result()


def write_hf(samples: Iterable, out: io.BufferedIOBase, task: str, labels: list[str], multilabel: bool) -> int:
    """Parquet with ``tokens``/``ner_tags`` (NER, BIO ids) or ``text``/``label`` (classification),
    a ``split`` column, and ClassLabel names in the ``huggingface`` schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.data.formats.conll import conll_tokens

    rows = [s for s in samples if s.status == "labeled"]
    if task == "ner":
        names = ["O", *(f"{p}-{l}" for l in labels for p in ("B", "I"))]
        index = {n: i for i, n in enumerate(names)}
        tokens, tags = [], []
        for s in rows:
            kept = conll_tokens(s)
            from core.base.types import Span

            bio = spans_to_bio([o for _, o in kept], [Span(a, b, l) for a, b, l in s.spans])
            tokens.append([w for w, _ in kept])
            tags.append([index[t] for t in bio])
        columns = {"tokens": tokens, "ner_tags": tags}
        features = {"tokens": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
                    "ner_tags": {"feature": {"names": names, "_type": "ClassLabel"}, "_type": "Sequence"}}
    else:
        index = {n: i for i, n in enumerate(labels)}
        columns = {"text": [s.text for s in rows]}
        if multilabel:
            columns["labels"] = [[index[c] for c in s.categories] for s in rows]
            features = {"text": {"dtype": "string", "_type": "Value"},
                        "labels": {"feature": {"names": labels, "_type": "ClassLabel"}, "_type": "Sequence"}}
        else:
            columns["label"] = [index[s.categories[0]] if s.categories else -1 for s in rows]
            features = {"text": {"dtype": "string", "_type": "Value"},
                        "label": {"names": labels, "_type": "ClassLabel"}}
    columns["split"] = [s.split for s in rows]
    features["split"] = {"dtype": "string", "_type": "Value"}
    table = pa.table(columns)
    table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    pq.write_table(table, out)
    return len(rows)
