"""Shared fixtures: a fresh Tagtune home and database per test (file SQLite in tmp_path)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

# Tests never reach a hub: everything loads from installed packages or temp folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A temporary TAGTUNE_HOME with its own SQLite file and TAGTUNE_DB_URL unset.
    (tests/db/conftest.py runs the repository tests on PostgreSQL when TAGTUNE_TEST_DB_URL is set.)"""
    from db.engine import reset

    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("TAGTUNE_HOME", str(path))
    monkeypatch.delenv("TAGTUNE_DB_URL", raising=False)
    reset()
    yield path
    reset()


@pytest.fixture
def S(home):
    """A sessionmaker on the fresh database; use ``with S.begin() as s:``."""
    from core.base.store import sessions

    return sessions()


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test cleanly when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (see ../shared/data/README.md)")
    return path


def pytest_unconfigure(config) -> None:
    """Whatever a failed or timed-out test left running (a run's process, a worker, a server, a
    browser) must not keep the session from exiting: CI waits on this process, and
    multiprocessing joins its children at exit."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass
