"""The transposed window loads of the BLAKE3 lane kernels (`blake3_numba._ld_t16`,
`_ld_t16_tag`, `_pf16`) against numpy twins, and the lane kernels that use them
(`_hash_rows32_lanes` whole blocks, `_hash_tagged_lanes` windows reaching into the next
rows, masked) against the ``blake3`` package, with edge words (0, 1, p − 1, p − 2, all
ones) and group counts where the last group falls back to the word loads."""

from __future__ import annotations

import blake3
import numpy as np
import pytest
from numba import njit

from zklora.kernels import blake3_numba as B

P = 0xFFFFFFFF00000001
EDGE = np.array([0, 1, P - 1, P - 2, 2**64 - 1], dtype=np.uint64)


@njit(cache=False)
def _ld(flat, pos, stride, tag, pf):
    m = np.zeros(256, np.uint32)
    if pf:
        B._pf16(flat, pos + 64, stride)
    if tag:
        B._ld_t16_tag(flat, pos, stride, m)
    else:
        B._ld_t16(flat, pos, stride, m)
    return m


def _twin(flat: np.ndarray, pos: int, stride: int, tag: bool) -> np.ndarray:
    """m[k·16 + j] = word k of the 64 bytes at pos + j·stride (tag: of 0x01 ‖ them)."""
    m = np.zeros(256, np.uint32)
    for j in range(16):
        win = flat[pos + j * stride: pos + j * stride + 64].tobytes()
        if tag:
            win = (b"\x01" + win)[:64]
        m[j::16] = np.frombuffer(win, "<u4")
    return m


def _ref(rows, nout):
    return np.array([list(blake3.blake3(r).digest()[:nout]) for r in rows],
                    dtype=np.uint8).reshape(len(rows), nout)


@pytest.mark.parametrize("stride", [1, 4, 25, 50, 64, 65, 128, 256])
@pytest.mark.parametrize("tag", [False, True])
def test_ld_t16(stride, tag):
    rng = np.random.default_rng(stride)
    flat = rng.integers(0, 256, size=16 * stride + 200, dtype=np.uint8)
    flat[:40] = EDGE.view(np.uint8)
    for pos in (0, 3, 64):
        assert np.array_equal(_ld(flat, pos, stride, tag, pos == 3),
                              _twin(flat, pos, stride, tag))


@pytest.mark.parametrize("nw", [8, 16, 24, 32, 48])
@pytest.mark.parametrize("groups", [1, 2, 3, 5])
def test_rows32_blocks(nw, groups):
    rng = np.random.default_rng(nw + groups)
    n = groups * B.LANES
    data = rng.integers(0, 2**64, size=(n, nw), dtype=np.uint64)
    data.reshape(-1)[: 5 * nw: nw] = EDGE   # every edge word in lane 0 … 4's word 0
    data[-1] = EDGE[3]
    out = np.zeros((n, 32), np.uint8)
    B._hash_rows32_lanes(data.view(np.uint32), out.reshape(-1), 32)
    assert np.array_equal(out, _ref([r.tobytes() for r in data], 32))


@pytest.mark.parametrize("w", [2, 16, 20, 25, 31, 32, 40, 64])
@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("extra", [0, 1, 7])
def test_tagged_windows(w, groups, extra):
    """The windows of all but the last groups reach into the next rows (masked), the
    last group's lie past the array (the word loads)."""
    rng = np.random.default_rng(100 * w + 10 * groups + extra)
    n = groups * B.LANES + extra
    lvl = rng.integers(0, 256, size=(2 * n, w), dtype=np.uint8)
    flat = lvl.reshape(-1)
    flat[: EDGE.nbytes] = EDGE.view(np.uint8)[: flat.size]
    flat[-8:] = 0xFF
    out = np.zeros((n, w if w <= 32 else 32), np.uint8)
    nout = out.shape[1]
    B._hash_tagged_lanes(flat, 2 * w, out.reshape(-1), nout)
    k = n - n % B.LANES
    rows = lvl.reshape(n, 2 * w)
    assert np.array_equal(out[:k], _ref([b"\x01" + r.tobytes() for r in rows[:k]], nout))
    assert not out[k:].any()


@pytest.mark.parametrize("L", [128, 256])
@pytest.mark.parametrize("dg", [25, 32])
def test_entry_points_big(L, dg, monkeypatch):
    """hash_many / hash_pairs over enough groups that the prefetch distance is reached."""
    monkeypatch.setattr(B, "COLD_BYTES", -1)
    rng = np.random.default_rng(L + dg)
    n = 40 * B.LANES + 3
    data = rng.integers(0, 256, size=(n, L), dtype=np.uint8)
    assert np.array_equal(B.hash_many(data, dg), _ref([r.tobytes() for r in data], dg))
    lvl = rng.integers(0, 256, size=(2 * n, dg), dtype=np.uint8)
    rows = lvl.reshape(n, 2 * dg)
    assert np.array_equal(B.hash_pairs(lvl),
                          _ref([b"\x01" + r.tobytes() for r in rows], dg))
