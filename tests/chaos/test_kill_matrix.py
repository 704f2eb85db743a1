"""kill -9 of the worker, a run's process and the app server while training, evaluating,
labelling and importing (issue 11): nothing stuck, nothing lost, nothing half-imported.
The matrix and its checks are in tests/chaos/matrix.py; bench/chaos.py prints the same figures."""
from __future__ import annotations

import pytest

from tests.chaos.matrix import ROLES, run_role, table

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("role", ROLES)
def test_kill_matrix(role, tmp_path):
    results = run_role(tmp_path / "lab", role)
    print("\n" + table(results))
    assert all(r.survived for r in results), "\n" + table(results)
    assert sum(r.annotations_lost for r in results) == 0 and sum(r.runs_stuck for r in results) == 0
