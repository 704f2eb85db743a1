import pytest

from tests.tiny_models import make_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer, 32-wide BERT with the MiniLM tokenizer (trains in seconds)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "bert")
