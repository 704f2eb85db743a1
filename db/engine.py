"""Engine and session factory from a SQLAlchemy URL, plus schema upgrade through Alembic."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the worker write metric rows while the UI reads; the busy timeout makes a
    # writer wait for the lock instead of failing with "database is locked".
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if ":///" in url and not url.endswith(":memory:"):
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=8)
def _cached(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    upgrade(engine)
    _ENGINES[url] = engine
    return engine, sessionmaker(engine, expire_on_commit=False)


def session_factory(url: str) -> sessionmaker[Session]:
    """One upgraded engine and sessionmaker per URL per process. Use ``with Session.begin():``."""
    return _cached(url)[1]


def engine_for(url: str) -> Engine:
    return _cached(url)[0]


def reset() -> None:
    """Close and forget cached engines (between tests with different URLs, or to reconnect)."""
    for engine in _engines():
        engine.dispose()
    _cached.cache_clear()


def _engines() -> list[Engine]:
    # lru_cache keeps no public list of its values; the engines are reachable through the
    # cached sessionmakers' binds only, so keep our own record.
    return list(_ENGINES.values())


def _after_fork_in_child() -> None:
    """A forked process must never use its parent's database connections: SQLAlchemy's pool and,
    for SQLite, the library's per-process lock bookkeeping would be shared with the parent
    (issue 11: a forked run's writes vanished when its worker was killed). Drop the inherited
    pools without closing the parent's connections (``close=False``) and open fresh engines on
    first use. Tagtune's run processes do not rely on this (they fork from a launcher that never
    opened the database, core/runs/launcher.py); it guards any other fork."""
    for engine in _engines():
        engine.dispose(close=False)
    _ENGINES.clear()
    _cached.cache_clear()


_ENGINES: dict[str, Engine] = {}
os.register_at_fork(after_in_child=_after_fork_in_child)
