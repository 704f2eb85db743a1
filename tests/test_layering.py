"""The layering of DESIGN.md, checked on the import statements of every module.

- core/ and db/ never import streamlit or ui; db/ imports neither core nor commands;
- core/ holds only domain folders (no module directly under core/ but __init__.py);
- core/base/ imports nothing else from core; core/text/ only core/base;
- core/ never imports the command line (commands/), which is presentation.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Every absolute module name a file imports, with its parents: ``core.base.types`` gives
    ``core``, ``core.base`` and ``core.base.types``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    found = set()
    for name in names:
        parts = name.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def _offenders(folder: str, banned: set[str], allowed: set[str] = frozenset()) -> list[str]:
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        hit = {m for m in _imports(path) & banned if not any(m == a or m.startswith(a + ".") for a in allowed)}
        if hit:
            out.append(f"{path.relative_to(ROOT)} imports {sorted(hit)}")
    return out


def _core_domains() -> set[str]:
    return {f"core.{p.name}" for p in (ROOT / "core").iterdir() if p.is_dir() and p.name != "__pycache__"}


def test_core_never_imports_streamlit_ui_or_the_command_line():
    assert _offenders("core", {"streamlit", "ui", "commands", "cli"}) == []


def test_db_imports_neither_core_nor_ui_nor_streamlit():
    assert _offenders("db", {"streamlit", "ui", "core", "commands"}) == []


def test_no_module_sits_directly_under_core():
    loose = sorted(p.name for p in (ROOT / "core").glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules directly under core/: {loose}; move each into its domain folder"


def test_base_imports_nothing_else_from_core():
    others = _core_domains() - {"core.base"}
    assert _offenders("core/base", others) == []


def test_text_imports_only_base_from_core():
    others = _core_domains() - {"core.base", "core.text"}
    assert _offenders("core/text", others) == []


def test_the_check_itself_sees_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import streamlit as st\nfrom core.train import config\n")
    assert {"streamlit", "core.train", "core.train.config"} <= _imports(bad)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("from core.icl.lm import load_lm\n")
    assert "core.icl" in _imports(tmp_path / "pkg" / "m.py")
