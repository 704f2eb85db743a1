"""The Alembic head schema is exactly db/models.py, CHECK constraints included.

Alembic's autogenerate compares tables, columns, indexes and foreign keys but not CHECK
constraints, so those are compared separately: the database the migrations build against one
that ``Base.metadata.create_all`` builds from the models, both read back the same way (SQLite:
the CREATE TABLE text in ``sqlite_master``; PostgreSQL: the inspector, whose text PostgreSQL has
already normalised). Set TAGTUNE_TEST_DB_URL to run this on a PostgreSQL server too.
"""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Engine, create_engine, inspect, make_url, text

from db.engine import make_engine, upgrade
from db.models import Base


@contextmanager
def fresh_engine(tmp_path, name: str) -> Iterator[Engine]:
    """An empty database: a SQLite file, or a new database on TAGTUNE_TEST_DB_URL's server."""
    url = os.environ.get("TAGTUNE_TEST_DB_URL")
    if not url:
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        yield engine
        engine.dispose()
        return
    db_name = f"tagtune_mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    engine = make_engine(make_url(url).set(database=db_name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


def _balanced(sql: str, open_at: int) -> str:
    """The text inside the parenthesis that opens at ``open_at``."""
    depth = 0
    for i in range(open_at, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            return sql[open_at + 1:i]
    raise ValueError(f"unbalanced parentheses in {sql!r}")


def _normalise(sql: str) -> str:
    return " ".join(sql.replace("\n", " ").split())


def check_constraints(engine: Engine, table: str) -> dict[str, str]:
    """{constraint name: its SQL} for one table, as the database stores it."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
        found = {}
        for match in re.finditer(r'CONSTRAINT\s+"?(\w+)"?\s+CHECK\s*\(', sql or "", re.IGNORECASE):
            found[match.group(1)] = _normalise(_balanced(sql, match.end() - 1))
        unnamed = len(re.findall(r"CHECK\s*\(", sql or "", re.IGNORECASE)) - len(found)
        assert unnamed == 0, f"table {table} has {unnamed} unnamed CHECK constraint(s); name every constraint"
        return found
    return {c["name"]: _normalise(c["sqltext"]) for c in inspect(engine).get_check_constraints(table)}


def test_head_schema_matches_the_models(tmp_path):
    with fresh_engine(tmp_path, "m") as engine:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"db/models.py and the migrations differ; add a migration: {diff}"


def test_head_check_constraints_match_the_models(tmp_path):
    with fresh_engine(tmp_path, "migrated") as migrated, fresh_engine(tmp_path, "models") as models:
        upgrade(migrated)
        Base.metadata.create_all(models)
        for table in Base.metadata.sorted_tables:
            declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
            from_models = check_constraints(models, table.name)
            assert set(from_models) == declared, table.name  # the reader sees every declared constraint
            assert check_constraints(migrated, table.name) == from_models, (
                f"CHECK constraints of table {table.name!r} differ between the migrations and db/models.py: "
                "add an Alembic revision that recreates them"
            )


def test_the_reader_sees_what_a_check_constraint_allows(tmp_path):
    with fresh_engine(tmp_path, "m") as engine:
        upgrade(engine)
        statuses = check_constraints(engine, "runs")["ck_runs_status"]
    assert "'queued'" in statuses and "'interrupted'" in statuses


def test_upgrade_is_idempotent_and_creates_every_table(tmp_path):
    with fresh_engine(tmp_path, "m") as engine:
        upgrade(engine)
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
