"""The parallel Reed–Solomon encoder works on blocks of `ntt.ROW_BLOCK` rows: every row
count (whole blocks, a partial last block, fewer rows than a block) gives the serial
kernel's codewords, which `test_ligero.py` checks against the pure-Python reference."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt


@pytest.mark.parametrize("rows,log_k,rate_log", [(13, 12, 2), (3, 13, 1), (16, 11, 3),
                                                 (1000, 6, 2), (ntt.ROW_BLOCK + 1, 12, 0)])
def test_blocked_parallel_encoder_matches_serial(rows, log_k, rate_log):
    rng = np.random.default_rng(rows * 100 + log_k)
    M = rng.integers(0, ntt.P_INT, size=(rows, 1 << log_k), dtype=np.uint64)
    M[0, :4] = [ntt.P_INT - 1, 0, 1, ntt.P_INT - 2]
    out = ntt.rs_encode(M, rate_log)
    assert out.size >= ntt.SERIAL_BELOW  # the parallel kernel ran
    tw, twist, rev = ntt._tables(log_k, rate_log)
    want = np.empty_like(out)
    ntt._rs_encode_ser(M, tw, twist, rev, want)
    assert np.array_equal(out, want)
    assert int(out.max()) < ntt.P_INT  # canonical
