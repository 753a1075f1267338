"""s38h2: the lane encoder's codeword stores as non-temporal stores (`ntt.LANE_NT`,
`_lane_tails_nt`, an sfence a block): the same codewords as the ordinary stores, as
`_rs_encode_cols_par` and as the Python reference `rs_encode_ref`; the path is taken only
for a 64-byte aligned out; the stores are marked ``!nontemporal`` in the IR."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import ntt

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _Y(k: int, W: int, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed)
    Y = g.integers(0, P, size=(k, W), dtype=np.uint64)
    Y[: k // 4, : W // 2] = EDGE[g.integers(0, 4, size=(k // 4, W // 2))]
    Y[:, 0] = P - 1            # an all-(p − 1) message and an all-zero one
    Y[:, 1] = 0
    return Y


def _out(shape: tuple[int, int], offset: int = 0) -> np.ndarray:
    """A (n, rows) uint64 array at a 4096-byte aligned address + ``offset`` bytes,
    filled with a marker (every entry must be overwritten)."""
    n = shape[0] * shape[1]
    raw = np.empty(n + 1024, dtype=np.uint64)
    skip = (-raw.ctypes.data % 4096 + offset) // 8
    out = raw[skip:skip + n].reshape(shape)
    out[:] = np.uint64(0xDEADBEEF)
    return out


def _encode(Y, col, rl, *, lane: bool, nt: bool, offset: int = 0, spy=None):
    old = ntt.LANE, ntt.LANE_NT, ntt._rs_encode_lane_par
    ntt.LANE, ntt.LANE_NT = lane, nt
    if spy is not None:
        def wrap(*a):
            spy.append(a[-1])
            return old[2](*a)
        ntt._rs_encode_lane_par = wrap
    try:
        assert ntt._lane_ok(col, Y.shape[0], rl) == lane   # the path under test is taken
        out = _out((Y.shape[0] << rl, col.shape[0]), offset)
        assert ntt.rs_encode_cols(Y, col, rl, out=out) is out
        return out
    finally:
        ntt.LANE, ntt.LANE_NT, ntt._rs_encode_lane_par = old


@pytest.mark.parametrize("k, rl, cs", [(16, 1, 1), (32, 2, 1), (64, 3, 2), (128, 1, 1),
                                       (256, 2, 3), (512, 1, 1), (1024, 2, 2),
                                       (2048, 1, 1), (2048, 1, 2), (8192, 1, 1),
                                       (64, 5, 1)])
def test_nt_matches_ordinary_and_cols(k: int, rl: int, cs: int) -> None:
    rows = max(16, -(-(1 << 15) // (k << rl)) // 8 * 8 + 8)
    Y = _Y(k, rows * cs + 5, k + rl)
    col = np.arange(rows, dtype=np.int64) * cs + (3 if cs > 1 else 0)
    ref = _encode(Y, col, rl, lane=False, nt=False)
    seen: list = []
    got = _encode(Y, col, rl, lane=True, nt=True, spy=seen)
    assert seen == [True]                      # the non-temporal kernel ran
    assert np.array_equal(got, ref), (k, rl, cs)
    seen.clear()
    assert np.array_equal(_encode(Y, col, rl, lane=True, nt=False, spy=seen), ref)
    assert seen == [False]


def test_nt_matches_reference() -> None:
    k, rl, rows = 64, 2, 128
    Y = _Y(k, rows, 7)
    col = np.arange(rows, dtype=np.int64)
    seen: list = []
    got = _encode(Y, col, rl, lane=True, nt=True, spy=seen)
    assert seen == [True]
    for r in range(rows):
        assert [int(x) for x in got[:, r]] == ntt.rs_encode_ref(
            [int(x) for x in Y[:, col[r]]], rl), r


@pytest.mark.parametrize("offset", [8, 16, 32])
def test_unaligned_out_takes_ordinary_stores(offset: int) -> None:
    k, rl, rows = 256, 1, 128
    Y = _Y(k, rows, 3)
    col = np.arange(rows, dtype=np.int64)
    ref = _encode(Y, col, rl, lane=False, nt=False)
    seen: list = []
    assert np.array_equal(_encode(Y, col, rl, lane=True, nt=True, offset=offset, spy=seen),
                          ref)
    assert seen == [False]


def test_fresh_out_is_aligned_and_nt() -> None:
    k, rl, rows = 512, 1, 64
    Y = _Y(k, rows, 5)
    col = np.arange(rows, dtype=np.int64)
    got = ntt.rs_encode_cols(Y, col, rl)
    assert got.ctypes.data % 64 == 0 and got.flags.c_contiguous
    assert got.shape == (k << rl, rows)
    assert np.array_equal(got, _encode(Y, col, rl, lane=False, nt=False))


def test_nt_stores_marked_in_ir() -> None:
    @njit(no_cpython_wrapper=False)
    def f(buf, k, rev, out):
        ntt._lane_tails_nt(buf, k, rev, out, 8, 1, 0, 0)
        ntt._sfence()

    k = 16
    buf = np.arange(8 * k, dtype=np.uint64)
    rev = ntt._tables(4, 0)[2]
    out = _out((k, 8))
    f(buf, k, rev, out)
    ir = "\n".join(f.inspect_llvm().values())
    assert "!nontemporal" in ir and "llvm.x86.sse.sfence" in ir
    ref = _out((k, 8))
    njit(lambda b, k_, r, o: ntt._lane_tails(b, k_, r, o, 8, 1, 0, 0))(buf, k, rev, ref)
    assert np.array_equal(out, ref)
