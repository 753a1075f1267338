"""s34h3: the layer rounds folded in place — `e_gkr_fold_sums_ci` / `e_gkr_fold_sums_ci_s`
(the first 2m columns of a component-major stack folded at r into its first m columns,
then the next round's pair sums) against `e_gkr_fold_sums_c(_s)` into a fresh stack (the
same folded values, sums and E_{j+1}); edge values 0, 1, p − 1, p − 2 and limb edges, unit
and numerator trees, an unnamed table, a stack wider than 2m (columns ≥ m left as they
were), widths around `CI_HEAD` and the parallel steps, 1/2/3/5/256 pieces; the wrapper
`gkr_fold_sums_ci` over a chain of rounds as `_prove_layer` runs them."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

EDGE = [0, 1, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 64) - (1 << 33) + 1]
SLOT_SETS = {
    "mixed": np.array([[0, 1, 2, 3], [-1, -1, 4, 5]], np.int64),
    "spare": np.array([[-1, -1, 0, 1], [3, 4, 5, 6]], np.int64),   # table 2 unnamed
}
K = {"mixed": 6, "spare": 7}
RS = ((P_INT - 1, P_INT - 2), (0, 0), (1, 0), (12345, P_INT - 1))
H = KL.CI_HEAD


def _vals(kind, rng, shape):
    if kind == "edge":
        return rng.choice(np.array(EDGE, np.uint64), size=shape)
    a = rng.integers(0, P_INT, size=shape, dtype=np.uint64)   # about half edge values
    e = rng.choice(np.array(EDGE, np.uint64), size=shape)
    return np.where(rng.random(shape) < 0.5, e, a)


@pytest.mark.parametrize("slots", list(SLOT_SETS))
@pytest.mark.parametrize("kind", ["edge", "half"])
@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [1, 2, 6, KL.BLOCK + 6, H - 2, H + 2, 2 * H + 6, 5 * H + 10])
def test_fold_sums_ci_vs_fresh(slots, kind, want1, m):
    rng = np.random.default_rng(hash((slots, kind, want1, m)) % 2**32)
    S = SLOT_SETS[slots]
    k = K[slots]
    cap = 2 * m + 3   # wider than the input: the columns past 2m must stay
    W = _vals(kind, rng, (k, 4, cap))
    E = _vals(kind, rng, (m, 2))
    for r in RS[:2] if m > H else RS:
        r0, r1 = np.uint64(r[0]), np.uint64(r[1])
        wout = np.empty((k, 4, m), np.uint64)
        wen = np.empty((m // 2, 2), np.uint64)
        want = KL.e_gkr_fold_sums_c_s(W[:, :, :2 * m].copy(), True, r0, r1, wout, S, E,
                                      wen, want1)
        for nch in (0, 1, 2, 3, 5, 256):
            Wi = W.copy()
            en = np.empty((m // 2, 2), np.uint64)
            if nch == 0:
                got = KL.e_gkr_fold_sums_ci_s(Wi, r0, r1, S, E, en, want1)
            else:
                got = KL.e_gkr_fold_sums_ci(Wi, r0, r1, S, E, en, want1, nch)
            assert np.array_equal(got, want), (nch, r)
            assert np.array_equal(en, wen), (nch, r)
            assert np.array_equal(Wi[:, :, :m], wout), (nch, r)
            assert np.array_equal(Wi[:, :, m:], W[:, :, m:]), (nch, r)


@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("logm", [3, 14])   # below and above SMALL work
def test_gkr_fold_sums_ci_chain(want1, logm):
    """Rounds in a row as `_prove_layer` runs them: the stack folded in place round after
    round against `gkr_fold_sums_c` into fresh stacks, then `pairs_of_c` of the used
    columns."""
    rng = np.random.default_rng(11 + logm)
    S = SLOT_SETS["mixed"]
    k = K["mixed"]
    m = 1 << logm
    W = _vals("half", rng, (k, 4, 2 * m))
    E = _vals("half", rng, (m, 2))
    Wi = W.copy()
    e_old = e_new = E
    for i, r in enumerate(RS * 3):
        if e_old.shape[0] < 2:
            break
        W, s_old, e_old = KL.gkr_fold_sums_c(W, True, r, S, e_old, want1)
        s_new, e_new = KL.gkr_fold_sums_ci(Wi, r, S, e_new, want1)
        mm = W.shape[2]
        assert np.array_equal(s_new, s_old) and np.array_equal(e_new, e_old), i
        assert np.array_equal(Wi[:, :, :mm], W), i
        assert np.array_equal(KL.pairs_of_c(Wi[:, :, :mm]), KL.pairs_of_c(W)), i
    with pytest.raises(AssertionError):   # a stack narrower than 2m
        KL.gkr_fold_sums_ci(Wi[:, :, :1].copy(), RS[0], S, E, want1)
