"""The one place core opens the database: a session factory for the configured URL,
and conversion of repository rows into core value types."""
from __future__ import annotations

import os

from sqlalchemy.orm import Session, sessionmaker

from core.base import settings
from core.base.types import Example, Span
from db.engine import session_factory
from db.samples import LabeledSample


def sessions(home: str | os.PathLike | None = None) -> sessionmaker[Session]:
    """Upgraded-schema sessionmaker for TAGTUNE_DB_URL / TAGTUNE_HOME. Use ``with S.begin():``."""
    return session_factory(settings.db_url(home))


def to_example(row: LabeledSample) -> Example:
    return Example(
        text=row.text,
        tokens=tuple((int(s), int(e)) for s, e in row.tokens),
        spans=tuple(Span(s, e, l) for s, e, l in row.spans),
        categories=tuple(row.categories),
        id=row.id,
        split=row.split,
        meta=row.meta or {},
    )
