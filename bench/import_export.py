"""Seconds to import and to export 100,000 NER sentences in every NER format, synthesised by
repeating the WNUT 2017 train split. Target (issues 2 and 12): under 10 s each, import and
export, for every format, on a 2-core machine.

The CoNLL file is imported first (tab separated), and the same sentences as CoNLL-2003 laid
out (`token POS chunk tag`, spaces, in a .txt file); the project is then exported in each
format (conll, jsonl, json, labelstudio, hf Parquet, bundle), and each export is imported into
a fresh project. Wall and CPU seconds are printed (on a shared machine the wall clock includes
waiting for a core: record the final figure on an idle machine).

    .venv/bin/python bench/import_export.py [--sentences N] [--formats conll,jsonl,...]
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
TARGET_S = 10.0
FORMATS = ("conll", "conll2003", "jsonl", "json", "labelstudio", "hf", "bundle")
SUFFIX = {"conll": ".conll", "conll2003": ".txt", "jsonl": ".jsonl", "json": ".json", "labelstudio": ".json",
          "hf": ".parquet", "bundle": ".tagtune"}


def synthesise(path: Path, sentences: int, conll2003: bool = False) -> int:
    blocks, current = [], []
    for line in WNUT.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            token, tag = line.split("\t")
            current.append(f"{token} NN I-NP {tag}" if conll2003 else line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    with path.open("w", encoding="utf-8") as out:
        if conll2003:
            out.write("-DOCSTART- -X- -X- O\n\n")
        for i in range(sentences):
            out.write(blocks[i % len(blocks)])
            out.write("\n\n")
    return sum(1 for _ in path.open(encoding="utf-8"))


def timed(fn):
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - start, time.process_time() - cpu


def main(argv: list[str] | tuple = ()) -> dict:
    """Run the bench; ``argv`` are its flags (none when another bench calls it)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"any of {','.join(FORMATS)}")
    args = parser.parse_args(list(argv))
    chosen = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not WNUT.exists():
        print(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TAGTUNE_HOME"] = tmp
        os.environ["TAGTUNE_NO_DEMO"] = "1"
        os.environ.pop("TAGTUNE_DB_URL", None)
        from core.base.store import sessions
        from core.data import exporter, importer
        from core.data.bundle import import_bundle
        from db import projects as project_repo

        S = sessions()
        n = args.sentences

        def fresh(name: str) -> None:
            with S.begin() as s:
                project_repo.create_project(s, name, "ner")

        def imported(name: str, path: Path, fmt: str | None = None) -> float:
            fresh(name)
            request = importer.ImportRequest(name, path.name, fmt=fmt)
            report, wall, cpu = timed(lambda: importer.import_path(request, path, S))
            assert report["imported"] == n and not report["errors"], (name, report["errors"][:3])
            return wall, cpu

        rows: dict[str, dict] = {}
        source = Path(tmp) / "big.conll"
        lines = synthesise(source, n)
        print(f"sentences: {n:,} ({lines:,} CoNLL lines, {source.stat().st_size / 1e6:.1f} MB); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        rows["conll"] = {"import": imported("conll", source)}
        if "conll2003" in chosen:
            spaced = Path(tmp) / "conll2003.txt"
            synthesise(spaced, n, conll2003=True)
            rows["conll2003"] = {"import": imported("conll2003", spaced)}
        for fmt in [f for f in chosen if f not in ("conll2003",)]:
            out = Path(tmp) / f"out_{fmt}{SUFFIX[fmt]}"
            report, wall, cpu = timed(lambda: exporter.export_path("conll", out, fmt, S=S))
            assert report["exported"] == n, report
            rows.setdefault(fmt, {})["export"] = (wall, cpu)
            if fmt == "conll":
                continue
            if fmt == "bundle":
                result, iwall, icpu = timed(lambda: import_bundle(out.read_bytes(), "from_bundle", S))
                assert result["imported"] == n and not result["errors"]
                rows[fmt]["import"] = (iwall, icpu)
            else:
                rows[fmt]["import"] = imported(f"from_{fmt}", out, "json" if fmt == "labelstudio" else
                                               "parquet" if fmt == "hf" else None)
    print(f"{'format':<12} {'import wall / CPU s':>22} {'export wall / CPU s':>22}")
    worst = {"import": (0.0, ""), "export": (0.0, "")}
    for fmt, row in rows.items():
        cells = []
        for kind in ("import", "export"):
            if kind in row:
                wall, cpu = row[kind]
                cells.append(f"{wall:8.2f} / {cpu:6.2f}")
                worst[kind] = max(worst[kind], (wall, fmt))
            else:
                cells.append(f"{'-':>17}")
        print(f"{fmt:<12} {cells[0]:>22} {cells[1]:>22}")
    verdicts = {}
    for kind in ("import", "export"):
        wall, fmt = worst[kind]
        verdicts[kind] = wall < TARGET_S
        print(f"slowest {kind} of {n:,} sentences: {wall:.2f} s wall ({fmt})  [target < {TARGET_S:.0f} s each]  "
              f"{'MET' if wall < TARGET_S else 'NOT MET'}")
    return {"rows": rows, "met": all(verdicts.values())}


if __name__ == "__main__":
    main(sys.argv[1:])
