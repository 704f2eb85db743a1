"""Seconds to import and export 100,000 NER sentences (CoNLL), synthesised by repeating the
WNUT 2017 train split. Target (issue 2): under 10 s each on a 2-core machine.

    .venv/bin/python bench/import_export.py [--sentences N]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WNUT = ROOT.parent / "shared" / "data" / "wnut17" / "train.conll"


def synthesise(path: Path, sentences: int) -> int:
    blocks, current = [], []
    for line in WNUT.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    with path.open("w", encoding="utf-8") as out:
        for i in range(sentences):
            out.write(blocks[i % len(blocks)])
            out.write("\n\n")
    return sum(1 for _ in path.open(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=100_000)
    args = parser.parse_args()
    if not WNUT.exists():
        print(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TAGTUNE_HOME"] = tmp
        os.environ.pop("TAGTUNE_DB_URL", None)
        from core.data import exporter, importer
        from core.base.store import sessions
        from db import projects as project_repo

        source = Path(tmp) / "big.conll"
        lines = synthesise(source, args.sentences)
        S = sessions()
        with S.begin() as s:
            project_repo.create_project(s, "bench", "ner")
        start, cpu = time.perf_counter(), time.process_time()
        report = importer.import_path(importer.ImportRequest("bench", source.name), source, S)
        import_s, import_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert report["imported"] == args.sentences and not report["errors"], report
        start, cpu = time.perf_counter(), time.process_time()
        out = exporter.export_path("bench", Path(tmp) / "out.conll", S=S)
        export_s, export_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert out["exported"] == args.sentences
        size_mb = source.stat().st_size / 1e6
        print(f"sentences: {args.sentences:,} ({lines:,} lines, {size_mb:.1f} MB)")
        # CPU seconds too: on a shared machine the wall clock includes waiting for a core.
        print(f"import (parse + check + write, CoNLL): {import_s:.2f} s wall, {import_cpu:.2f} s CPU  [target < 10 s]")
        print(f"export (read + write, CoNLL):          {export_s:.2f} s wall, {export_cpu:.2f} s CPU  [target < 10 s]")
        print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
