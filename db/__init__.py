"""Database layer: SQLAlchemy 2 models, engine/session, repository functions, migrations.

Imports neither streamlit nor core (tests/test_layering.py checks)."""
