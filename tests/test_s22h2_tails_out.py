"""`ntt._rs_encode_cols_par`'s full blocks (`_tails_out`: the 8 messages' radix-8 DIF
tails side by side, written straight into the codewords; the first radix-2 stage read
from the gathered messages, `_bfly_run_cp` / `_bfly_run_in`) against the pure-Python
twin `ntt.rs_encode_ref` and against `rs_encode` (`_rs_encode_par`, unchanged), with
edge values 0, 1, p − 1, p − 2, every size 2^0 … 2^13 and rates 1 … 3."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _kernel(Y, col, rate_log):
    """The parallel kernel itself (the wrapper takes the serial path for small inputs)."""
    k = Y.shape[0]
    log_k = k.bit_length() - 1
    tw, twist, _ = ntt._tables(log_k, rate_log)
    out = np.empty((k << rate_log, col.shape[0]), dtype=np.uint64)
    ntt._rs_encode_cols_par(Y, col, tw, twist, *ntt._twist_first(log_k, rate_log),
                            ntt._fast_rev(log_k), out)
    return out


def _fill(rng, k, W):
    Y = EDGE[rng.integers(0, 4, size=(k, W))]
    Y[:, 1] = P_INT - 1
    Y[:, 2] = 0
    Y[:, 3] = 1
    Y[:, 4] = EDGE[np.arange(k) % 4]
    Y[:, 5] = P_INT - 2
    Y[:, 6:] = rng.integers(0, P_INT, size=(k, W - 6), dtype=np.uint64)
    Y[0, 7] = P_INT - 1
    return Y


@pytest.mark.parametrize("k,rate_log", [(1, 1), (2, 2), (4, 1), (8, 1), (8, 3), (16, 2),
                                        (32, 1), (64, 2), (128, 1), (256, 1)])
def test_full_blocks_vs_python_reference(k, rate_log):
    rng = np.random.default_rng(k * 5 + rate_log)
    Y = _fill(rng, k, 20)
    # two full blocks (one with repeated and permuted columns) and a partial one
    col = np.array([0, 1, 2, 3, 4, 5, 6, 7, 7, 1, 1, 19, 2, 5, 4, 3, 8, 9, 10],
                   dtype=np.int64)
    got = _kernel(Y, col, rate_log)
    for r, c in enumerate(col):
        want = ntt.rs_encode_ref(Y[:, c], rate_log)
        assert [int(x) for x in got[:, r]] == want, (k, rate_log, r)


@pytest.mark.parametrize("log_k", list(range(0, 14)))
@pytest.mark.parametrize("rate_log", [1, 2])
def test_full_blocks_vs_rs_encode(log_k, rate_log):
    k = 1 << log_k
    rng = np.random.default_rng(log_k * 3 + rate_log)
    W = 2 * 24
    Y = _fill(rng, k, W)
    # interleaved components (stride 2, as `_commit_next`'s (R, 2T) view) and a tail
    col = np.concatenate([np.arange(0, W, 2), np.arange(1, W, 2), [3, 46, 5]]).astype(np.int64)
    want = ntt.rs_encode(np.ascontiguousarray(Y[:, col].T), rate_log)
    assert np.array_equal(_kernel(Y, col, rate_log), want)
    assert np.array_equal(ntt.rs_encode_cols(Y, col, rate_log), want)


def test_all_pm1_and_zero_blocks():
    for fill in (P_INT - 1, 0, 1, P_INT - 2):
        Y = np.full((512, 16), fill, dtype=np.uint64)
        col = np.arange(16, dtype=np.int64)
        want = ntt.rs_encode(np.ascontiguousarray(Y.T), 1)
        assert np.array_equal(_kernel(Y, col, 1), want)
