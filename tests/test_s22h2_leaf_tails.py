"""`whir._twist_dft_tiles` with leaves of K = 16 (`_leaf_tails`: the radix-8 DIF tails of
each run of 64 entries write the run's 4 leaves straight into the block's leaves) against
`twist_dft_block` (the scatter through the `fast_perm` read table) and the pure-Python
twin `encode_leaves_ref`, with edge values 0, 1, p − 1, p − 2."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt, whir
from zklora.kernels.goldilocks import P_INT


def _case(m, d, k, lt, cb, ext, held, per, fill):
    rng = np.random.default_rng(m * 31 + d * 7 + lt + cb + held)
    shape = (1 << m, 2) if ext else (1 << m,)
    if fill == "pm1":
        c = np.full(shape, P_INT - 1, dtype=np.uint64)
    elif fill == "edge":
        c = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)[
            rng.integers(0, 4, size=shape)]
    else:
        c = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
        c.reshape(-1)[:8] = [0, 1, P_INT - 1, P_INT - 2, P_INT - 2, 1, 0, P_INT - 1]
    T, ncomp, K = 1 << lt, 2 if ext else 1, 1 << k
    Mx = np.empty((ncomp * T, (1 << m) // T), dtype=np.uint64)
    whir._split_rows(c.reshape(-1), T, ncomp, Mx)
    enc = ntt.rs_encode(Mx, d - m)   # (S, ncomp·T)
    S, nt, w = enc.shape[0], T // cb, ncomp * cb
    tiles = np.empty((nt, S, w), dtype=np.uint64)
    for j in range(nt):
        for comp in range(ncomp):
            tiles[j, :, comp * cb:(comp + 1) * cb] = enc[:, comp * T + j * cb:
                                                        comp * T + (j + 1) * cb]
    ram = np.ascontiguousarray(tiles[:held])
    wa = ntt.powers(ntt.root_of_unity(d), S)
    G = T // K
    leaves = np.empty(((1 << d) >> k, K * ncomp), dtype=np.uint64)
    for a0 in range(0, S, per):
        piece = np.ascontiguousarray(tiles[held:, a0:a0 + per]) if held < nt else \
            np.empty((0, per, w), dtype=np.uint64)
        got = np.empty((G * per, K * ncomp), dtype=np.uint64)
        whir.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, got)
        want = np.empty_like(got)
        whir.twist_dft_block(enc[a0:a0 + per], a0, d, k, lt, wa, want, local=True)
        assert np.array_equal(got, want)
        for g in range(G):
            leaves[a0 + g * S:a0 + g * S + per] = got[g * per:(g + 1) * per]
    return c, leaves


@pytest.mark.parametrize("m,d,k,lt,cb,ext,held,per", [
    (6, 7, 4, 6, 32, False, 1, 2),     # T = FAST_MIN: one run, 2 tiles
    (6, 7, 4, 6, 8, True, 0, 2),       # 8 tiles, none held, 2 components
    (7, 8, 4, 7, 16, False, 8, 2),     # all held
    (7, 9, 4, 7, 32, True, 2, 4),      # rate 1/4, some held
])
@pytest.mark.parametrize("fill", ["edge", "pm1", "random"])
def test_leaf_tails_vs_python_reference(m, d, k, lt, cb, ext, held, per, fill):
    c, leaves = _case(m, d, k, lt, cb, ext, held, per, fill)
    want = whir.encode_leaves_ref(c, d, k)
    assert np.array_equal(leaves.reshape(want.shape), want)


@pytest.mark.parametrize("m,d,k,lt,cb,ext,held,per", [
    (10, 11, 4, 8, 64, False, 2, 4),
    (10, 11, 4, 9, 128, True, 1, 2),
    (12, 13, 4, 10, 128, False, 3, 8),
    (12, 14, 4, 11, 256, True, 8, 4),
    (13, 14, 4, 13, 2048, False, 1, 1),
    (8, 9, 3, 7, 32, False, 1, 4),     # K = 8: the scatter path
])
@pytest.mark.parametrize("fill", ["edge", "random"])
def test_leaf_tails_vs_twist_dft_block(m, d, k, lt, cb, ext, held, per, fill):
    _case(m, d, k, lt, cb, ext, held, per, fill)
