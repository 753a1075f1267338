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
    ntt._rs_encode_cols_par(Y, col, tw, twist, ntt._fast_rev(log_k), out)
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
