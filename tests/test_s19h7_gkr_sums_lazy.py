"""s19h7: the GKR layer sums (`e_gkr_sums`, `e_gkr_fold_sums` and their serial forms),
whose E·X products are summed per block as split integers (`_v_mul_sum`,
`_v_addmul_sum`) and whose A = p0·q1 + p1·q0 lanes take one reduction per Karatsuba
product pair (`_v_dot`), against the Python twin `ref_gkr_sums` on worst-case limbs
(every entry p − 1, or 2^64 − 1-adjacent canonical edges) over full blocks."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

SLOTS = np.array([[0, 1, 2, 3], [-1, -1, 4, 5], [1, 0, 5, 4]], np.int64)
EDGE = [P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 64) - (1 << 33) + 1, 0, 1]


def _tables(kind, rng, k, n):
    if kind == "pm1":
        return np.full((k, n, 2), P_INT - 1, np.uint64)
    if kind == "edge":
        return rng.choice(np.array(EDGE, np.uint64), size=(k, n, 2))
    return rng.integers(0, P_INT, size=(k, n, 2), dtype=np.uint64)


@pytest.mark.parametrize("kind", ["pm1", "edge", "rand"])
@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [KL.GBLOCK, 2 * KL.GBLOCK + 3])
def test_sums_vs_ref(kind, want1, m):
    rng = np.random.default_rng(7 + m + want1)
    W = _tables(kind, rng, 6, 2 * m)
    E = _tables(kind, rng, 1, m)[0]
    want, want_en = KL.ref_gkr_sums(W, W, SLOTS, E, want1)
    en = np.empty((m // 2, 2), np.uint64)
    assert np.array_equal(KL.e_gkr_sums_s(W, W, SLOTS, E, en, want1), want)
    assert np.array_equal(en, want_en)
    for nch in (1, 3):
        en = np.empty((m // 2, 2), np.uint64)
        assert np.array_equal(KL.e_gkr_sums(W, W, SLOTS, E, en, want1, nch), want)
        assert np.array_equal(en, want_en)


@pytest.mark.parametrize("kind", ["pm1", "edge"])
@pytest.mark.parametrize("want1", [False, True])
def test_fold_sums_vs_ref(kind, want1):
    m = KL.GBLOCK + 5
    rng = np.random.default_rng(11 + want1)
    W = _tables(kind, rng, 6, 4 * m)
    E = _tables(kind, rng, 1, m)[0]
    r = (int(P_INT - 1), int(P_INT - 2)) if kind == "pm1" else (12345, 678)
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    folded = np.empty((6, 2 * m, 2), np.uint64)
    KL.fold_into(W, r, folded)
    want, want_en = KL.ref_gkr_sums(folded, folded, SLOTS, E, want1)
    for nch in (0, 1, 3):
        out = np.empty_like(folded)
        en = np.empty((m // 2, 2), np.uint64)
        if nch == 0:
            got = KL.e_gkr_fold_sums_s(W, r0, r1, out, SLOTS, E, en, want1)
        else:
            got = KL.e_gkr_fold_sums(W, r0, r1, out, SLOTS, E, en, want1, nch)
        assert np.array_equal(out, folded)
        assert np.array_equal(got, want)
        assert np.array_equal(en, want_en)
