"""s37h7: `blake3_numba._compress_lanes` (the LANES-message BLAKE3 compression every lane
kernel calls) is marked "prefer-vector-width"="512" (`jit_util._wide512`: one zmm register
a state word instead of two ymm); an uncached compile of it carries the mark and gives the
``blake3`` package's digests (one-block messages), as do the lane kernels through it."""

import blake3
import numpy as np
from numba import njit

from zklora.kernels import blake3_numba as B

MARK = '"prefer-vector-width"="512"'


def _ir(f):
    return "\n".join(f.inspect_llvm().values())


def _one_block(rng, nbytes):
    """LANES messages of nbytes ≤ 64 bytes: their words in the lane layout, the
    messages, and the digests the compression of their one block gives."""
    msgs = [rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes() for _ in range(B.LANES)]
    m = np.zeros(16 * B.LANES, np.uint32)
    for j, s in enumerate(msgs):
        w = np.frombuffer(s + bytes(64 - nbytes), dtype="<u4")
        m[j::B.LANES] = w
    cv = np.empty(8 * B.LANES, np.uint32)
    for k in range(8):
        cv[k * B.LANES:(k + 1) * B.LANES] = np.uint32(B._IV[k])
    ref = [blake3.blake3(s).digest() for s in msgs]
    return cv, m, ref


def _digests(cv):
    return [cv[j::B.LANES].astype("<u4").tobytes() for j in range(B.LANES)]


def test_compress_lanes_marked_and_blake3():
    fresh = njit(cache=False, nogil=True)(B._compress_lanes.py_func)
    rng = np.random.default_rng(377)
    for nbytes in (8, 33, 64):
        cv, m, ref = _one_block(rng, nbytes)
        c1, c2 = cv.copy(), cv.copy()
        flags = B.CHUNK_START | B.CHUNK_END | B.ROOT
        fresh(c1, m, nbytes, flags)
        B._compress_lanes(c2, m, nbytes, flags)
        assert _digests(c1) == ref
        assert np.array_equal(c1, c2)
    assert MARK in _ir(fresh)


def test_lane_kernel_through_marked_compress():
    rng = np.random.default_rng(378)
    n, nw = 2 * B.LANES, 16  # 128-byte rows: two blocks, the second chained
    data = rng.integers(0, 2**64, size=(n, nw), dtype=np.uint64)
    out = np.zeros((n, 32), np.uint8)
    B._hash_rows32_lanes(data.view(np.uint32), out.reshape(-1), 32)
    assert [bytes(r) for r in out] == [blake3.blake3(r.tobytes()).digest() for r in data]


def _ref_mobius_low(t, lo, sh=0):
    """Möbius passes of flat bits sh … lo−1 inside each run of 2^lo words (numpy)."""
    from zklora.kernels import goldilocks as G
    x = np.array(t, dtype=np.uint64, copy=True)
    for j in range(sh, lo):
        v = x.reshape(-1, 2, 1 << j)
        v[:, 1, :] = G.np_sub(v[:, 1, :], v[:, 0, :])
    return x


def test_mobius_blocks_marked_and_same():
    from zklora.kernels import whir as W
    rng = np.random.default_rng(379)
    t = rng.integers(0, 0xFFFFFFFF00000001, 1 << 15, dtype=np.uint64)
    fb = njit(cache=False, nogil=True, parallel=True)(W._mobius_blocks.py_func)
    ff = njit(cache=False, nogil=True, parallel=True)(W._mobius_blocks_from.py_func)
    for lo in (2, 5, 12):
        a = t.copy()
        fb(a, lo)
        assert np.array_equal(a, _ref_mobius_low(t, lo))
        for sh in (0, 1):
            b = np.empty_like(t)
            ff(t, b, lo, sh)
            assert np.array_equal(b, _ref_mobius_low(t, lo, sh))
    assert MARK in _ir(fb) and MARK in _ir(ff)
