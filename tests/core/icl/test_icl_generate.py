"""Generation for NER: per-token probabilities, line confidences, early stop on cancel."""
from __future__ import annotations

import pytest

from core.icl import ner
from core.icl.lm import load_lm
from tests.core.icl import tinylm


def test_generation_records_token_probabilities_and_stops_when_asked(home, tmp_path):
    lm = load_lm(str(tinylm.random_llama(tmp_path / "llama")))
    full = ner.generate(lm, ["the cat sat", "a much longer prompt about a dog"], max_new_tokens=12)
    assert len(full) == 2
    assert all(0 < p <= 1 for g in full for p in g.token_probs)
    assert "".join(full[0].token_texts) == full[0].text
    assert len(full[1].token_probs) > 4
    cut = ner.generate(lm, ["the cat sat"], max_new_tokens=12, should_stop=lambda: True)
    assert len(cut[0].token_probs) <= 4  # checked every 4 tokens


def test_line_confidence_is_the_mean_probability_of_its_tokens():
    gen = ner.Generated("person: Ann\nlocation: Rome", ["person", ":", " Ann", "\n", "location", ":", " Rome"],
                        [0.9, 0.9, 0.6, 0.5, 0.2, 0.4, 0.3])
    assert gen.confidence("ann") == pytest.approx((0.9 + 0.9 + 0.6) / 3)
    assert gen.confidence("Rome") == pytest.approx((0.2 + 0.4 + 0.3) / 3)
    assert gen.confidence("Paris") == 1.0
