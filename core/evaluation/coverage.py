"""What a score covers: how many samples and which ones.

Every stored score (a fine-tuned run's dev score, an ICL run's score, a cached evaluation)
carries ``n`` and ``sample_fingerprint``, a hash of the sorted sample ids it was computed on.
Two scores compare only when their fingerprints are equal: then they come from the same samples.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

FINGERPRINT_CHARS = 16


def sample_fingerprint(sample_ids: Iterable[int]) -> str:
    """Order-free hash of a set of sample ids (16 hex characters)."""
    ids = sorted({int(i) for i in sample_ids})
    return hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:FINGERPRINT_CHARS]


def coverage(sample_ids: Iterable[int | None]) -> dict:
    """``{"n": ..., "sample_fingerprint": ...}`` for the samples a score was computed on."""
    ids = [int(i) for i in sample_ids if i is not None]
    return {"n": len(ids), "sample_fingerprint": sample_fingerprint(ids)}
