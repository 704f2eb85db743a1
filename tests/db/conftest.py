"""Repository tests run on SQLite by default, and on a real PostgreSQL when
TAGTUNE_TEST_DB_URL names a server (each test gets a fresh database there), e.g.

    TAGTUNE_TEST_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m pytest tests/db -q
"""
from __future__ import annotations

import os
import uuid

import pytest


@pytest.fixture
def S(home, monkeypatch):
    url = os.environ.get("TAGTUNE_TEST_DB_URL")
    if not url:
        from core.base.store import sessions

        yield sessions()
        return
    from sqlalchemy import create_engine, make_url, text

    from db.engine import engine_for, reset, session_factory

    name = f"tagtune_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("TAGTUNE_DB_URL", test_url)  # core.store.sessions() follows it too
    reset()
    try:
        yield session_factory(test_url)
    finally:
        engine_for(test_url).dispose()
        reset()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
