"""`whir._fold_then_round` (a streamed pass's block: j folds, the last fused with the
round message) against the Python twins `whir_sumcheck.fold_ref` / `round_ref`."""

import numpy as np
import pytest

from zklora.kernels import whir_sumcheck as SC
from zklora.plugins.commitments import whir as W

P = (1 << 64) - (1 << 32) + 1


@pytest.mark.parametrize("base", [True, False])
@pytest.mark.parametrize("n,j", [(3, 1), (4, 2), (6, 3), (5, 0), (8, 4), (3, 2)])
def test_fold_then_round(base, n, j):
    rng = np.random.default_rng(n * 10 + j + base)
    N = 1 << n
    f = rng.integers(0, P, size=(N,) if base else (N, 2), dtype=np.uint64)
    w = rng.integers(0, P, size=(N, 2), dtype=np.uint64)
    rs = rng.integers(0, P, size=(j, 2), dtype=np.uint64)
    ef, ew = f, w
    for r in rs:
        ef, ew = SC.fold_ref(ef, r), SC.fold_ref(ew, r)
    for rounds in (True, False):
        fo, wo, h = W._fold_then_round(f, w, rs, rounds)
        assert np.array_equal(np.asarray(fo).reshape(ef.shape), ef)
        assert np.array_equal(wo, ew)
        if rounds and j and (N >> (j - 1)) >= 4:
            assert np.array_equal(h, SC.round_ref(ef, ew))
        else:
            assert h is None
