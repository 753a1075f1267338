"""`kernels.h2_fold.fold_base_seq` (j folds of a base table in one pass) against
`sumcheck.fold_into` applied j times and against its pure-Python twin."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import h2_fold as H
from zklora.kernels import sumcheck as KS
from zklora.kernels.goldilocks import P_INT


def _seq(t, rs):
    for r in rs:
        out = np.empty((t.shape[0] // 2, 2), dtype=np.uint64)
        KS.fold_into(t, r, out)
        t = out
    return t


@pytest.mark.parametrize("n,j", [(1, 1), (4, 1), (6, 3), (10, 4), (13, 5), (11, 2),
                                 (9, 9), (12, 6)])
def test_fold_base_seq_matches_sequential_folds(n, j):
    rng = np.random.default_rng(n * 16 + j)
    t = rng.integers(0, P_INT, size=1 << n, dtype=np.uint64)
    t[:min(3, t.shape[0])] = [P_INT - 1, 0, P_INT - 1][:min(3, t.shape[0])]
    rs = rng.integers(0, P_INT, size=(j, 2), dtype=np.uint64)
    got = H.fold_base_seq(t, rs)
    assert np.array_equal(got, _seq(t, rs))
    if n <= 10:
        assert [tuple(int(x) for x in row) for row in got] == H.fold_base_seq_ref(t, rs)


def test_fold_base_seq_rejects_bad_shapes():
    with pytest.raises(ValueError):
        H.fold_base_seq(np.zeros(6, dtype=np.uint64), np.zeros((2, 2), dtype=np.uint64))
    with pytest.raises(ValueError):
        H.fold_base_seq(np.zeros(8, dtype=np.uint64), np.zeros((0, 2), dtype=np.uint64))
