"""core/ and db/ never import streamlit; db/ imports neither core nor ui (DESIGN.md)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _offenders(folder: str, banned: set[str]) -> list[str]:
    return [
        f"{p.relative_to(ROOT)} imports {sorted(_imports(p) & banned)}"
        for p in sorted((ROOT / folder).rglob("*.py"))
        if _imports(p) & banned
    ]


def test_core_never_imports_streamlit_or_ui():
    assert _offenders("core", {"streamlit", "ui"}) == []


def test_db_imports_neither_core_nor_ui_nor_streamlit():
    assert _offenders("db", {"streamlit", "ui", "core"}) == []


def test_the_check_itself_sees_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import streamlit as st\nfrom streamlit import x\n")
    assert _imports(bad) == {"streamlit"}
