"""s41h1: `ntt.rs_encode_cols`' reused work array (``work``) and its use by
`Whir._encode_streamed` (the store's ``whir-rs-work`` buffer): the same codewords with
and without it, equal to the Python reference, and the kernel's buffers live in it."""

import numpy as np
import pytest

from zklora.kernels import ntt
from zklora.kernels import whir as K


@pytest.mark.parametrize("k,rows,rl", [(16, 8, 1), (64, 16, 2), (1 << 12, 8, 1),
                                       (256, 24, 1), (4096, 16, 1), (1 << 12, 256, 1),
                                       (1 << 11, 64, 2)])
def test_work_same_codewords(k, rows, rl):
    rng = np.random.default_rng(k + rows + rl)
    W = rows + 3
    Y = rng.integers(0, (1 << 64) - (1 << 32), size=(k, W), dtype=np.uint64)
    col = np.arange(rows, dtype=np.int64) + 1
    want = ntt.rs_encode(np.ascontiguousarray(Y[:, col].T), rl)
    plain = ntt.rs_encode_cols(Y, col, rl)
    # a work array at an odd offset, filled with junk: its content must not matter
    big = np.full(ntt.rs_work_size(k, rows) + 7, 0xDEADBEEF, dtype=np.uint64)
    wk = big[3:3 + ntt.rs_work_size(k, rows)]
    got = ntt.rs_encode_cols(Y, col, rl, work=wk)
    assert np.array_equal(plain, want)
    assert np.array_equal(got, want)
    again = ntt.rs_encode_cols(Y, col, rl, work=wk)   # reused as left by the last call
    assert np.array_equal(again, want)
    if ntt._lane_ok(col, k, rl) and (k << rl) * rows >= ntt.SERIAL_BELOW:
        assert not np.all(wk == 0xDEADBEEF)          # the kernel's buffers were in it
        assert np.all(big[:3] == 0xDEADBEEF) and np.all(big[-4:] == 0xDEADBEEF)


def test_reference_twin():
    """The lane kernel with a work array against the Python NTT reference (the same
    evaluations, in the kernel's order)."""
    rng = np.random.default_rng(5)
    k, rows, rl = 1 << 11, 16, 1
    assert ntt._lane_ok(np.arange(rows), k, rl) and (k << rl) * rows >= ntt.SERIAL_BELOW
    Y = rng.integers(0, (1 << 64) - (1 << 32), size=(k, rows), dtype=np.uint64)
    col = np.arange(rows, dtype=np.int64)
    got = ntt.rs_encode_cols(Y, col, rl, work=np.empty(ntt.rs_work_size(k, rows),
                                                        dtype=np.uint64))
    n = k << rl
    for r in range(rows):
        ev = K.np_ntt(Y[:, r].copy(), n.bit_length() - 1)
        assert sorted(got[:, r].tolist()) == sorted(ev.tolist())   # same evaluations


def test_small_or_bad_work_is_replaced():
    rng = np.random.default_rng(2)
    k, rows, rl = 64, 8, 1
    Y = rng.integers(0, 1 << 40, size=(k, rows), dtype=np.uint64)
    col = np.arange(rows, dtype=np.int64)
    want = ntt.rs_encode_cols(Y, col, rl)
    for wk in (np.zeros(ntt.rs_work_size(k, rows) - 1, dtype=np.uint64),
               np.zeros(ntt.rs_work_size(k, rows), dtype=np.int64),
               np.zeros((2, ntt.rs_work_size(k, rows)), dtype=np.uint64)):
        assert np.array_equal(ntt.rs_encode_cols(Y, col, rl, work=wk), want)


def test_encode_streamed_passes_store_buffer(monkeypatch, tmp_path):
    """A streamed commitment hands the encoder one reused work array (the same one for
    every tile) and commits to the same root as the unstreamed path."""
    from zklora.plugins.commitments import whir as Wm
    from zklora.zkcore import scratch
    from zklora.zkcore.plugins import registry

    seen = []
    orig = ntt.rs_encode_cols

    def spy(Y, col, rl, out=None, work=None):
        seen.append(None if work is None else work.ctypes.data)
        return orig(Y, col, rl, out=out, work=work)

    monkeypatch.setattr(ntt, "rs_encode_cols", spy)
    F = registry().field("goldilocks")
    w = Wm.Whir(F, {"direct_vars": 0})
    n = 14
    t = np.random.default_rng(3).integers(0, 1 << 60, size=1 << n, dtype=np.uint64)
    com0, _ = w.commit(t)
    with scratch.session(threshold=0) as store:
        assert store.wants(w.state_bytes(n))
        com1, _ = w.commit(t)
    assert com1 == com0
    assert seen and all(s is not None for s in seen)
    assert len(set(seen)) == 1
