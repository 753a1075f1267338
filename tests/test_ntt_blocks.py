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


@pytest.mark.parametrize("log_k", range(0, 8))
def test_dif_every_size_matches_reference_edge_values(log_k):
    """The DIF transform (vectorised stages, fused radix-8 tail, the small-size path) at
    every size up to 2^7 and every rate ≤ 2, on p − 1 everywhere (carries in every
    addition), zeros, and a mix: the naive evaluation at the roots of unity."""
    k = 1 << log_k
    rng = np.random.default_rng(log_k)
    mix = rng.integers(0, ntt.P_INT, size=k, dtype=np.uint64)
    mix[: min(k, 3)] = [ntt.P_INT - 1, 0, 1][: min(k, 3)]
    for row in (np.full(k, ntt.P_INT - 1, dtype=np.uint64), np.zeros(k, dtype=np.uint64), mix):
        for rate_log in (0, 1, 2):
            got = ntt.rs_encode(row.reshape(1, -1), rate_log)[:, 0]
            assert [int(x) for x in got] == ntt.rs_encode_ref(row, rate_log)


def test_stage_twiddles_layout():
    tw = ntt.stage_twiddles(5)
    for h in (1, 2, 4, 8, 16):
        w = ntt.root_of_unity(h.bit_length())  # a primitive 2h-th root
        assert [int(x) for x in tw[h:2 * h]] == [pow(w, j, ntt.P_INT) for j in range(h)]
