"""`ntt.rs_encode_cols` (messages read as columns of a matrix, gathered in the kernel) and
`whir.twist_dft_tiles` (the streamed encoding's row blocks read from the column-codeword
tiles in place) against their references, with edge values 0, 1, p − 1, p − 2."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _matrix(rng, k: int, W: int, kind: str) -> np.ndarray:
    if kind == "edge":
        return EDGE[rng.integers(0, 4, size=(k, W))]
    if kind == "pm1":
        return np.full((k, W), P_INT - 1, dtype=np.uint64)
    return rng.integers(0, P_INT, size=(k, W), dtype=np.uint64)


@pytest.mark.parametrize("log_k,rate_log", [(3, 1), (6, 1), (7, 2), (11, 1)])
@pytest.mark.parametrize("kind", ["edge", "pm1", "random"])
def test_rs_encode_cols_matches_rs_encode(log_k, rate_log, kind):
    rng = np.random.default_rng(log_k * 7 + rate_log)
    k = 1 << log_k
    for W, col in [(40, np.arange(40)), (64, np.arange(64) * 0 + np.arange(64)[::-1]),
                   (70, rng.permutation(70)[:19]),
                   (2 * 32, (np.arange(32)[None, :] * 2 + np.arange(2)[:, None]).reshape(-1))]:
        Y = _matrix(rng, k, W, kind)
        col = np.asarray(col, dtype=np.int64)
        want = ntt.rs_encode(np.ascontiguousarray(Y[:, col].T), rate_log)
        got = ntt.rs_encode_cols(Y, col, rate_log)
        assert np.array_equal(got, want)
        out = np.empty_like(want)
        assert ntt.rs_encode_cols(Y, col, rate_log, out=out) is out
        assert np.array_equal(out, want)


def _kernel(Y, col, rate_log):
    """The parallel kernel itself (the wrapper takes the serial path for small inputs)."""
    k = Y.shape[0]
    log_k = k.bit_length() - 1
    tw, twist, _ = ntt._tables(log_k, rate_log)
    out = np.empty((k << rate_log, col.shape[0]), dtype=np.uint64)
    ntt._rs_encode_cols_par(Y, col, tw, twist, *ntt._twist_first(log_k, rate_log),
                            ntt._fast_rev(log_k), out)
    return out


@pytest.mark.parametrize("k,rate_log", [(8, 1), (32, 2), (64, 1), (128, 1)])
def test_rs_encode_cols_kernel_vs_python_reference(k, rate_log):
    """The kernel against the pure-Python twin (`ntt.rs_encode_ref` of each gathered
    column): full and partial blocks of ROW_BLOCK messages, repeated columns."""
    rng = np.random.default_rng(k + rate_log)
    Y = _matrix(rng, k, 24, "edge")
    Y[:, 5] = EDGE[np.arange(k) % 4]
    Y[:, 6] = P_INT - 1
    Y[:, 8] = 0
    for col in (np.array([5, 0, 23, 7, 7, 1, 2, 3, 9, 11, 4, 6, 8], dtype=np.int64),
                np.arange(8, dtype=np.int64), np.array([6], dtype=np.int64)):
        got = _kernel(Y, col, rate_log)
        for r, c in enumerate(col):
            assert [int(x) for x in got[:, r]] == ntt.rs_encode_ref(Y[:, c], rate_log)


def test_rs_encode_cols_checks():
    Y = np.zeros((8, 4), dtype=np.uint64)
    with pytest.raises(ValueError):
        ntt.rs_encode_cols(Y, np.array([4]), 1)
    with pytest.raises(ValueError):
        ntt.rs_encode_cols(np.asfortranarray(np.zeros((8, 4), dtype=np.uint64)),
                           np.array([0, 1]), 1)


def _tiles_case(m, d, k, lt, cb, ext, held, per, fill):
    from zklora.kernels import whir

    rng = np.random.default_rng(m * 31 + d * 7 + lt + cb)
    shape = (1 << m, 2) if ext else (1 << m,)
    if fill == "pm1":
        c = np.full(shape, P_INT - 1, dtype=np.uint64)
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
    (8, 9, 2, 5, 8, False, 1, 4),      # T < FAST_MIN: gathered row, `_dif_src`
    (8, 9, 2, 5, 32, True, 0, 16),     # one tile
    (8, 10, 2, 6, 8, False, 3, 8),     # T = FAST_MIN, 8 tiles, some held
    (8, 10, 3, 6, 16, True, 4, 4),     # all held
    (9, 10, 2, 7, 32, True, 0, 2),     # none held
    (9, 11, 3, 7, 64, False, 1, 16),   # two tiles
])
@pytest.mark.parametrize("fill", ["edge", "pm1"])
def test_twist_dft_tiles_vs_python_reference(m, d, k, lt, cb, ext, held, per, fill):
    """Every block of rows through `twist_dft_tiles` equals `twist_dft_block` on the
    assembled rows, and the leaves equal the pure-Python `encode_leaves_ref`."""
    from zklora.kernels import whir

    c, leaves = _tiles_case(m, d, k, lt, cb, ext, held, per, fill)
    ref = whir.encode_leaves_ref(c, d, k)
    assert np.array_equal(leaves.reshape(ref.shape), ref)


@pytest.mark.parametrize("held", [0, 5, 16])
def test_twist_dft_tiles_parallel(held):
    """A block large enough for the parallel split (several chunks of rows)."""
    from zklora.kernels import whir

    c, leaves = _tiles_case(14, 15, 4, 8, 16, False, held, 64, "edge")
    assert np.array_equal(leaves, whir._encode_leaves_cold(c, 15, 4))


def test_twist_dft_tiles_checks():
    from zklora.kernels import whir

    ram = np.zeros((1, 16, 8), dtype=np.uint64)
    wa = ntt.powers(ntt.root_of_unity(7), 16)
    out = np.zeros((32, 4), dtype=np.uint64)
    with pytest.raises(ValueError):
        whir.twist_dft_tiles(ram, np.zeros((0, 4, 8), dtype=np.uint64), 0, 4, 7, 2, 3, 4,
                             wa, out)   # T / cb = 2 tiles, one given
