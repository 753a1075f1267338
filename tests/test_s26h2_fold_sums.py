"""s26h2: `e_gkr_fold_sums` / `e_gkr_fold_sums_s` (fold every table at r, then the next
round's pair sums; a fused block-by-block form was measured in session 26 and reverted,
docs/perf/session26.md s26h2).  Against the Python twins
(`ref_multi_fold` for the fold, `ref_gkr_sums` for the sums) on edge values (0, 1, p − 1,
p − 2, limb edges), with tables no slot names (folded on their own), tables named twice,
unit and numerator trees, partial blocks and 1/2/3/5 chunks."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

EDGE = [0, 1, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 64) - (1 << 33) + 1]
SLOT_SETS = {
    "mixed": np.array([[0, 1, 2, 3], [-1, -1, 4, 5]], np.int64),
    "spare": np.array([[-1, -1, 0, 1], [3, 4, 5, 6]], np.int64),   # table 2 unnamed
    "twice": np.array([[0, 1, 2, 3], [1, 0, 3, 2], [-1, -1, 5, 4]], np.int64),
    "unit": np.array([[-1, -1, 0, 1]], np.int64),
}
K = {"mixed": 6, "spare": 7, "twice": 6, "unit": 3}   # "unit": table 2 unnamed


def _vals(kind, rng, shape):
    if kind == "pm1":
        return np.full(shape, P_INT - 1, np.uint64)
    if kind == "edge":
        return rng.choice(np.array(EDGE, np.uint64), size=shape)
    if kind == "half":   # about half the entries edge values
        a = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
        e = rng.choice(np.array(EDGE, np.uint64), size=shape)
        return np.where(rng.random(shape) < 0.5, e, a)
    return rng.integers(0, P_INT, size=shape, dtype=np.uint64)


@pytest.mark.parametrize("slots", list(SLOT_SETS))
@pytest.mark.parametrize("kind", ["pm1", "edge", "half", "zero"])
@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [6, KL.GBLOCK + 5, 2 * KL.GBLOCK + 2])
def test_fold_sums_vs_ref(slots, kind, want1, m):
    rng = np.random.default_rng(hash((slots, kind, want1, m)) % 2**32)
    S = SLOT_SETS[slots]
    k = K[slots]
    if kind == "zero":
        W = np.zeros((k, 4 * m, 2), np.uint64)
        E = np.zeros((m, 2), np.uint64)
    else:
        W = _vals(kind, rng, (k, 4 * m, 2))
        E = _vals(kind, rng, (m, 2))
    for r in ((P_INT - 1, P_INT - 2), (0, 0), (1, 0), (12345, P_INT - 1)):
        folded = KL.ref_multi_fold(W, [r])
        want, want_en = KL.ref_gkr_sums(folded, folded, S, E, want1)
        r0, r1 = np.uint64(r[0]), np.uint64(r[1])
        for nch in (0, 1, 2, 3, 5):
            out = np.full((k, 2 * m, 2), 3, np.uint64)
            en = np.empty((m // 2, 2), np.uint64)
            if nch == 0:
                got = KL.e_gkr_fold_sums_s(W, r0, r1, out, S, E, en, want1)
            else:
                got = KL.e_gkr_fold_sums(W, r0, r1, out, S, E, en, want1, nch)
            assert np.array_equal(out, folded), (r, nch)
            assert np.array_equal(got, want), (r, nch)
            assert np.array_equal(en, want_en), (r, nch)


def test_gkr_fold_sums_wrapper_matches_sums_of_fold():
    """`gkr_fold_sums` (parallel path) = `fold_into`, then `gkr_sums` of the fold."""
    rng = np.random.default_rng(5)
    S = SLOT_SETS["mixed"]
    m = 1 << 12
    W = _vals("half", rng, (6, 4 * m, 2))
    E = _vals("rand", rng, (m, 2))
    r = tuple(int(x) for x in rng.integers(0, P_INT, size=2, dtype=np.uint64))
    for want1 in (False, True):
        out, sums, en = KL.gkr_fold_sums(W, r, S, E, want1)
        ref = np.empty((6, 2 * m, 2), np.uint64)
        KL.fold_into(W, r, ref)
        want, want_en = KL.gkr_sums(ref, ref, S, E, want1)
        assert np.array_equal(out, ref)
        assert np.array_equal(sums, want)
        assert np.array_equal(en, want_en)

