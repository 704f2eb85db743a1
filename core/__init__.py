"""Pure-Python core of Tagtune. Never imports streamlit (tests/test_layering.py checks)."""
