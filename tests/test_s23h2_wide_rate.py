"""`ntt._rs_encode_cols_par`'s route by shape: full blocks with 128 ≤ k ≤ 256 whose 8
`_tails_out` output streams would lie ≥ 2 MiB apart ((k/8)·R·rows ≥ 2^18 words) take
the per-row `_dif_any` path read through ``rev`` (measured faster there), all others
`_tails_out`.  Both sides of the switch against `rs_encode` (`_rs_encode_par`) and a few
columns against the pure-Python twin `ntt.rs_encode_ref`, edge values 0, 1, p − 1,
p − 2 included."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _kernel(Y, col, rate_log):
    """The parallel kernel itself (the wrapper may take the serial path)."""
    k = Y.shape[0]
    log_k = k.bit_length() - 1
    tw, twist, _ = ntt._tables(log_k, rate_log)
    out = np.empty((k << rate_log, col.shape[0]), dtype=np.uint64)
    ntt._rs_encode_cols_par(Y, col, tw, twist, *ntt._twist_first(log_k, rate_log),
                            ntt._fast_rev(log_k), out)
    return out


# (k, rate_log, rows): (k/8)·2^rate_log·rows below / at 2^18, k at and around the range
@pytest.mark.parametrize("k,rate_log,rows", [(128, 5, 512), (128, 5, 256), (128, 4, 512),
                                             (256, 5, 256), (256, 4, 256), (64, 5, 1024),
                                             (512, 3, 512), (128, 5, 520)])
def test_route_vs_rs_encode_and_reference(k, rate_log, rows):
    rng = np.random.default_rng(k + 7 * rate_log + rows)
    W = rows + 3
    Y = rng.integers(0, P_INT, size=(k, W), dtype=np.uint64)
    Y[:, 0] = EDGE[np.arange(k) % 4]
    Y[:, 1] = P_INT - 1
    Y[:, 2] = 0
    Y[:, 3] = 1
    Y[:, 4] = P_INT - 2
    Y[:5, 5] = EDGE[[0, 1, 2, 3, 3]]
    col = (np.arange(rows, dtype=np.int64) * 5 + 2) % W
    col[:6] = [0, 1, 2, 3, 4, 5]
    got = _kernel(Y, col, rate_log)
    want = ntt.rs_encode(np.ascontiguousarray(Y[:, col].T), rate_log)
    assert np.array_equal(got, want), (k, rate_log, rows)
    assert np.array_equal(ntt.rs_encode_cols(Y, col, rate_log), want)
    for r in (0, 1, 2, 3, 4, 5, rows - 1):
        ref = ntt.rs_encode_ref(Y[:, col[r]], rate_log)
        assert [int(x) for x in got[:, r]] == ref, (k, rate_log, rows, r)
