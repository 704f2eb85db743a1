"""Chinese text exports and imports back unchanged: one token per character, spans on characters."""
from __future__ import annotations

import pytest

from core.data import exporter, importer
from db import projects as project_repo
from db import samples as sample_repo
from tests.zh_sample import ZH, seed_zh_project


def _rows(S, name):
    with S.begin() as s:
        project = project_repo.get_project(s, name)
        return [(r.text, r.tokens, sorted(r.spans)) for r in sample_repo.iter_labeled(s, project, statuses=None)]


@pytest.mark.parametrize("fmt", ["conll", "jsonl"])
def test_export_then_import_gives_back_the_chinese_samples(S, tmp_path, fmt):
    seed_zh_project(S, "zh", repeat=1, dev=0)
    data, report = exporter.export_bytes("zh", fmt, S=S)
    assert report["exported"] == len(ZH)
    if fmt == "conll":  # one character per line, BIO tags
        assert data.decode().startswith("王\tB-PER\n小\tI-PER\n明\tI-PER\n在\tO\n北\tB-ORG\n")
    with S.begin() as s:
        project_repo.create_project(s, "back", "ner", ["PER", "LOC", "ORG"], language="zh")
    done = importer.import_bytes(importer.ImportRequest("back", f"zh.{fmt}"), data, S)
    assert done["imported"] == len(ZH) and not done["errors"]
    assert _rows(S, "back") == _rows(S, "zh")
    assert _rows(S, "back")[0][0] == "王小明在北京大学读书。"  # joined without spaces
