"""Alembic environment: runs on the connection handed over by db.engine.upgrade, or on
TAGTUNE_DB_URL when the `alembic` command is used by hand."""
import os

from alembic import context

from db.models import Base


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE in later migrations
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from db.engine import make_engine

    with make_engine(os.environ["TAGTUNE_DB_URL"]).begin() as conn:
        _run(conn)
