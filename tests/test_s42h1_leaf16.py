"""`whir._x_leaf16` / `_x_leaf32` (s42h1: the K = 16 / 32 leaves' radix-8 tails and
leaf-row stores of the tile DFT as <8 x i64> IR: an 8 × 8 transpose by shuffles, the
tails by shifts, each leaf row assembled by shuffles and stored as whole lines,
non-temporal where ``out`` is 64-byte aligned) against a pure-Python twin and the old
`_leaf_tails` / scatter; `twist_dft_tiles` with it against the old path and
`encode_leaves_ref`."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import ntt, whir
from zklora.kernels.goldilocks import P_INT

EDGE = [0, 1, 2, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1,
        P_INT - (1 << 32), (1 << 48) + 5, 7]


def _vals(rng, n, fill):
    if fill == "pm1":
        return np.full(n, P_INT - 1, dtype=np.uint64)
    if fill == "edge":
        return np.array(EDGE, dtype=np.uint64)[rng.integers(0, len(EDGE), size=n)]
    if fill == "pm2":
        return np.full(n, P_INT - 2, dtype=np.uint64)
    return rng.integers(0, P_INT, size=n, dtype=np.uint64)


def _aligned(n, offset_words=0):
    raw = np.full(n + 16, 3, dtype=np.uint64)
    s = (-raw.ctypes.data % 64) // 8 + offset_words
    return raw[s:s + n]


def _bitrev(x, bits):
    return int(format(x, f"0{bits}b")[::-1], 2)


def leaf_rows_ref(buf, rev, r, rows, out, K=16):
    """Pure-Python twin of `_leaf_tails` (ncomp = 1): the radix-2 DIF stages 4, 2, 1
    apart of every block of 8 of each run of 64 (run u0 at rev[u0]; Python integers),
    output i of block b going to leaf g = u0 + bitrev2(c)·T/64 (c = b // 2), slot
    2·bitrev3(i) + b % 2, row r + g·rows of out; for K = 32 (the old kernel's scatter
    through ``rev`` after `_x_tails`) to leaf g = u0 + h·T/64 (h = b // 4), slot
    4·bitrev3(i) + bitrev2(b % 4)."""
    T = len(buf)
    G4 = T >> 6
    w8 = ntt.root_of_unity(3)
    for u0 in range(G4):
        o = int(rev[u0])
        for blk in range(8):
            z = [int(v) for v in buf[o + 8 * blk:o + 8 * blk + 8]]
            h = 4
            while h >= 1:
                w = pow(w8, 4 // h, P_INT)   # ω_{2h}
                for st in range(0, 8, 2 * h):
                    for j in range(h):
                        a, c = z[st + j], z[st + j + h]
                        z[st + j] = (a + c) % P_INT
                        z[st + j + h] = (a - c) * pow(w, j, P_INT) % P_INT
                h >>= 1
            if K == 32:
                g = u0 + (blk // 4) * G4
                for i in range(8):
                    out[r + g * rows, 4 * _bitrev(i, 3) + _bitrev(blk % 4, 2)] = z[i]
                continue
            c = blk // 2
            g = u0 + _bitrev(c, 2) * G4
            for i in range(8):
                out[r + g * rows, 2 * _bitrev(i, 3) + blk % 2] = z[i]


@njit(cache=False)
def _old_tails(buf, tw, rev, out, r, rows):
    whir._leaf_tails(buf, tw, rev, out, r, rows, 1, 0)


@njit(cache=False)
def _new_rows(buf, rev, out, r, rows, nt):
    whir._x_leaf_rows(buf, rev, out.reshape(-1), r, rows, nt)
    ntt._sfence()


@njit(cache=False)
def _old_scatter32(buf, tw, rev, out, r, rows):
    whir._x_tails(buf, tw)
    G = buf.shape[0] // 32
    for g in range(G):
        for j in range(32):
            out[r + g * rows, j] = buf[rev[g + j * G]]


@njit(cache=False)
def _new_rows32(buf, rev, out, r, rows, nt):
    whir._x_leaf_rows32(buf, rev, out.reshape(-1), r, rows, nt)
    ntt._sfence()


@pytest.mark.parametrize("lt", [6, 7, 12])
@pytest.mark.parametrize("fill", ["edge", "pm1", "pm2", "random"])
@pytest.mark.parametrize("nt", [False, True])
def test_leaf_rows32_vs_python_and_old(lt, fill, nt):
    """`_x_leaf_rows32` (K = 32, `_x_leaf32`) equals the Python twin and the old
    kernel's `_x_tails` + scatter through ``rev``."""
    rng = np.random.default_rng(lt * 13 + len(fill))
    T = 1 << lt
    tw, rev = whir._dft_tables(lt)
    rows = 3
    G = T // 32
    want = np.full((G * rows, 32), 9, dtype=np.uint64)
    old = want.copy()
    got = _aligned(G * rows * 32).reshape(G * rows, 32)
    got[...] = 9
    for r in (0, 2):
        buf = _vals(rng, T, fill)
        leaf_rows_ref(buf, rev, r, rows, want, K=32)
        _old_scatter32(buf.copy(), tw, rev, old, r, rows)
        _new_rows32(buf.copy(), rev, got, r, rows, nt)
    assert np.array_equal(old, want)
    assert np.array_equal(got, want)


def test_leaf32_call_offsets():
    """`_x_leaf32_call`: the two rows go to the given offsets, NT or not."""
    rng = np.random.default_rng(4)
    tw, rev = whir._dft_tables(6)
    buf = _vals(rng, 64, "random")
    want = np.zeros((2, 32), dtype=np.uint64)
    leaf_rows_ref(buf, rev, 0, 1, want, K=32)
    out = np.zeros(200, dtype=np.uint64)
    whir._x_leaf32_call(buf, 0, out, 101, 3, False)
    assert np.array_equal(out[101:133], want[0]) and np.array_equal(out[3:35], want[1])
    out2 = _aligned(64)
    whir._x_leaf32_call(buf, 0, out2, 32, 0, True)
    assert np.array_equal(out2.reshape(2, 32), want[[1, 0]])


@pytest.mark.parametrize("lt", [6, 7, 8, 11])
@pytest.mark.parametrize("fill", ["edge", "pm1", "pm2", "random"])
@pytest.mark.parametrize("nt", [False, True])
def test_leaf_rows_vs_python_and_old(lt, fill, nt):
    """`_x_leaf_rows` (every run by `_x_leaf16`) equals the Python twin and `_leaf_tails`
    for two block rows r of 3, every slot of out written, nothing else."""
    rng = np.random.default_rng(lt * 11 + len(fill))
    T = 1 << lt
    tw, rev = whir._dft_tables(lt)
    rows = 3
    G = T // 16
    want = np.full((G * rows, 16), 9, dtype=np.uint64)
    old = want.copy()
    got = _aligned(G * rows * 16).reshape(G * rows, 16)
    got[...] = 9
    for r in (0, 2):
        buf = _vals(rng, T, fill)
        leaf_rows_ref(buf, rev, r, rows, want)
        _old_tails(buf.copy(), tw, rev, old, r, rows)
        _new_rows(buf.copy(), rev, got, r, rows, nt)
    assert np.array_equal(old, want)
    assert np.array_equal(got, want)


def test_leaf16_call_offsets():
    """`_x_leaf16_call`: the four rows go to the given offsets (any order), ordinary
    stores at unaligned offsets."""
    rng = np.random.default_rng(2)
    tw, rev = whir._dft_tables(6)
    buf = _vals(rng, 64, "random")
    want = np.zeros((4, 16), dtype=np.uint64)
    leaf_rows_ref(buf, rev, 0, 1, want)
    out = np.zeros(200, dtype=np.uint64)
    whir._x_leaf16_call(buf, 0, out, 101, 3, 40, 150, False)
    for c, o in enumerate((101, 40, 3, 150)):   # leaf g = bitrev2(c) holds row c
        assert np.array_equal(out[o:o + 16], want[c])
    out2 = _aligned(64)
    whir._x_leaf16_call(buf, 0, out2, 0, 16, 32, 48, True)
    assert np.array_equal(out2.reshape(4, 16), want[[0, 2, 1, 3]])


def _tiles(rng, S, T, cb, fill):
    return _vals(rng, (T // cb) * S * cb, fill).reshape(T // cb, S, cb)


@pytest.mark.parametrize("d,k,lt,cb,held,per", [
    (18, 4, 11, 512, 4, 64),    # the model commitment's (m = 22) shape, fewer rows
    (18, 4, 11, 512, 2, 32),    # two tiles from the file
    (19, 4, 12, 256, 16, 32),   # the commitments phase's m = 24 shape
    (20, 4, 13, 256, 20, 16),   # m = 25, 12 file tiles
    (12, 4, 6, 8, 3, 5),        # T = FAST_MIN, rows not a multiple of 8
    (19, 5, 12, 512, 8, 32),    # K = 32: the model commitment's m = 23 shape
    (19, 5, 12, 512, 5, 16),    # K = 32, three file tiles
    (12, 5, 6, 16, 2, 5),       # K = 32, T = FAST_MIN
])
@pytest.mark.parametrize("fill", ["edge", "pm1", "random"])
def test_twist_dft_tiles_leaf16_vs_old(monkeypatch, d, k, lt, cb, held, per, fill):
    """`twist_dft_tiles` with `_x_leaf16` (NT on aligned out, ordinary stores on
    unaligned out) equals the old tails (XLEAF off) and the old kernel `_twist_dft_tiles`,
    for first, middle and last blocks, serial and parallel chunks."""
    rng = np.random.default_rng(d * 7 + cb + held + k)
    T, K = 1 << lt, 1 << k
    S = (1 << d) >> lt
    nt = T // cb
    tiles = _tiles(rng, S, T, cb, fill)
    ram = np.ascontiguousarray(tiles[:held])
    wa = ntt.powers(ntt.root_of_unity(d), S)
    tw, rev = whir._dft_tables(lt)
    wt = whir._twist_steps(d, lt)
    G = T // K
    for a0 in sorted({0, (S // 2 // per) * per, S - per}):
        piece = np.ascontiguousarray(tiles[held:, a0:a0 + per]) if held < nt else \
            np.empty((0, per, cb), dtype=np.uint64)
        want = np.zeros((G * per, K), dtype=np.uint64)
        whir._twist_dft_tiles(ram, piece, a0, per, 1, T, K, S, cb, wa, wt, tw, rev, want, 2)
        monkeypatch.setattr(whir, "XLEAF", False)
        old = np.ones_like(want)
        whir.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, old)
        assert np.array_equal(old, want)
        monkeypatch.setattr(whir, "XLEAF", True)
        for off, nch in ((0, 1), (0, 3), (1, 2)):   # aligned (NT) and unaligned out
            got = _aligned(G * per * K, off).reshape(G * per, K)
            got[...] = 1
            whir._twist_dft_tiles_x(ram, piece, a0, per, 1, T, K, S, cb, wa, wt, tw,
                                    rev, got, nch, 2 if off == 0 else 1)
            assert np.array_equal(got, want)
            got[...] = 1
            whir.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, got)
            assert np.array_equal(got, want)


def test_dispatch_leaf16(monkeypatch):
    """`twist_dft_tiles` passes lx = 2 (NT) for K = 16 or 32 one-component leaves in an
    aligned out, 1 unaligned or NT off, 0 with XLEAF off, other K or two components."""
    seen = []
    monkeypatch.setattr(whir, "_twist_dft_tiles_x", lambda *a: seen.append(a[-1]))
    wa = ntt.powers(ntt.root_of_unity(12), 64)

    def run(k, ncomp=1, off=0, leaf=True, ntf=True):
        monkeypatch.setattr(whir, "XLEAF", leaf)
        monkeypatch.setattr(whir, "XLEAF_NT", ntf)
        lt, cb, rows = 6, 16, 4
        ram = np.zeros((4, 64, ncomp * cb), dtype=np.uint64)
        K = 1 << k
        out = _aligned(rows * 64 * ncomp, off).reshape(-1, K * ncomp)
        whir.twist_dft_tiles(ram, np.empty((0, rows, ncomp * cb), dtype=np.uint64), 0,
                             rows, 12, k, lt, cb, wa, out)
        return seen.pop()

    assert run(4) == 2
    assert run(4, off=1) == 1
    assert run(4, ntf=False) == 1
    assert run(4, leaf=False) == 0
    assert run(5) == 2
    assert run(5, off=1) == 1
    assert run(5, leaf=False) == 0
    assert run(3) == 0
    assert run(4, ncomp=2) == 0


@pytest.mark.parametrize("nt", [False, True])
def test_leaves_vs_python_reference(monkeypatch, nt):
    """The streamed leaves of a K = 16 encoding through `_x_leaf16` equal the pure-Python
    `encode_leaves_ref` (edge-valued coefficients)."""
    monkeypatch.setattr(whir, "XLEAF_NT", nt)
    rng = np.random.default_rng(3)
    for m, d, k, lt, cb, held, per in [(7, 8, 4, 6, 16, 1, 2), (8, 9, 4, 7, 32, 2, 4),
                                       (8, 9, 5, 7, 32, 1, 4)]:
        c = _vals(rng, 1 << m, "edge")
        T, K = 1 << lt, 1 << k
        Mx = np.empty((T, (1 << m) // T), dtype=np.uint64)
        whir._split_rows(c, T, 1, Mx)
        enc = ntt.rs_encode(Mx, d - m)
        S, nt_ = enc.shape[0], T // cb
        tiles = np.stack([enc[:, j * cb:(j + 1) * cb] for j in range(nt_)])
        ram = np.ascontiguousarray(tiles[:held])
        wa = ntt.powers(ntt.root_of_unity(d), S)
        G = T // K
        leaves = np.empty(((1 << d) >> k, K), dtype=np.uint64)
        for a0 in range(0, S, per):
            piece = np.ascontiguousarray(tiles[held:, a0:a0 + per])
            got = _aligned(G * per * K).reshape(G * per, K)
            whir.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, got)
            for g in range(G):
                leaves[a0 + g * S:a0 + g * S + per] = got[g * per:(g + 1) * per]
        assert np.array_equal(leaves, whir.encode_leaves_ref(c, d, k))
