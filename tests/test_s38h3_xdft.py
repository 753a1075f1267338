"""`whir._twist_dft_tiles_x` (s38h3: the tile DFT's radix-2 stages, its fused twist and
first stage and the twist powers' update as explicit <8 x i64> IR, the next row's tile
words prefetched) against the old kernel `_twist_dft_tiles`, `twist_dft_block` and the
pure-Python twin `encode_leaves_ref`; its vector primitives against Python integers on
edge values (0, 1, p − 1, p − 2, 2^32 ± 1, …)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import ntt, whir
from zklora.kernels.goldilocks import P_INT

EDGE = [0, 1, 2, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 1 << 63,
        P_INT - (1 << 32), (1 << 48) + 5, 7]


def _vals(rng, n, fill):
    if fill == "pm1":
        return np.full(n, P_INT - 1, dtype=np.uint64)
    if fill == "edge":
        return np.array(EDGE, dtype=np.uint64)[rng.integers(0, len(EDGE), size=n)]
    return rng.integers(0, P_INT, size=n, dtype=np.uint64)


@njit(cache=False)
def _first(s0, s1, f, tw, n):
    buf = np.zeros(2 * n, dtype=np.uint64)
    whir._x_first(s0, 0, s1, 0, f, 0, n, buf, 0, n, tw, 0, n, 8)
    return buf


@njit(cache=False)
def _mulrun(x, y, n):
    whir._x_mulrun(x, y, n)


@njit(cache=False)
def _stages(buf, tw, half):
    whir._x_r2_stages(buf, tw, half)


@pytest.mark.parametrize("fill", ["edge", "pm1", "random"])
def test_vector_primitives_vs_python(fill):
    """`_x_first` (x = s·f, (x0 + x1, (x0 − x1)·tw)) and `_x_mulrun` on every pairing of
    edge values against Python integers mod p."""
    rng = np.random.default_rng(5)
    n = 8 * 40
    s0, s1, f, tw = (_vals(rng, n + 8, fill) for _ in range(4))
    fo = np.concatenate([f[:n], _vals(rng, n, fill)])
    got = _first(s0, s1, fo, tw, n)
    for i in range(n):
        x0 = int(s0[i]) * int(fo[i]) % P_INT
        x1 = int(s1[i]) * int(fo[n + i]) % P_INT
        assert int(got[i]) == (x0 + x1) % P_INT
        assert int(got[n + i]) == (x0 - x1) * int(tw[i]) % P_INT
    x, y = _vals(rng, n, fill), _vals(rng, n, fill)
    want = [int(a) * int(b) % P_INT for a, b in zip(x, y)]
    _mulrun(x, y, n)
    assert [int(v) for v in x] == want


@pytest.mark.parametrize("lt", [6, 7, 8, 9])
@pytest.mark.parametrize("fill", ["edge", "pm1", "random"])
def test_stages_vs_ntt(lt, fill):
    """`_x_r2_stages` then the radix-8 tails equal `ntt._dif_fast` (the same lane layout)."""
    rng = np.random.default_rng(lt)
    T = 1 << lt
    tw = ntt.stage_twiddles(lt)
    x = _vals(rng, T, fill)
    a = x.copy()
    _stages(a, tw, T >> 1)
    whir._x_tails_call(a, tw)
    b = x.copy()
    ntt._dif_fast(b, tw, False)
    assert np.array_equal(a, b)


def _tiles(rng, S, T, cb, ncomp, fill):
    nt, w = T // cb, ncomp * cb
    return _vals(rng, nt * S * w, fill).reshape(nt, S, w)


@pytest.mark.parametrize("d,k,lt,cb,ncomp,held,per", [
    (18, 4, 11, 512, 1, 2, 64),    # the fast profile's shapes, fewer rows (A)
    (18, 4, 11, 256, 2, 4, 32),    # (B) two components
    (19, 5, 13, 128, 1, 4, 16),    # (C) K = 32: the scatter path, 64 tiles
    (18, 5, 12, 512, 1, 8, 32),    # (D) all held
    (18, 5, 12, 256, 2, 8, 32),    # (D2)
    (12, 3, 7, 32, 1, 1, 16),      # K = 8
    (12, 4, 6, 8, 2, 0, 64),       # T = FAST_MIN, cb = 8, none held
    (12, 4, 8, 16, 1, 3, 5),       # rows not a multiple of 8; 16 tiles
])
@pytest.mark.parametrize("fill", ["edge", "pm1", "random"])
def test_x_kernel_vs_old_kernel(d, k, lt, cb, ncomp, held, per, fill):
    """Blocks of rows (first, middle, last) through `_twist_dft_tiles_x` equal the old
    kernel's output, serial and parallel; `twist_dft_tiles` takes the new kernel."""
    rng = np.random.default_rng(d * 97 + lt * 7 + cb + held)
    T, K = 1 << lt, 1 << k
    S = (1 << d) >> lt
    nt, w = T // cb, ncomp * cb
    tiles = _tiles(rng, S, T, cb, ncomp, fill)
    ram = np.ascontiguousarray(tiles[:held])
    wa = ntt.powers(ntt.root_of_unity(d), S)
    tw, rev = whir._dft_tables(lt)
    wt = whir._twist_steps(d, lt)
    G = T // K
    assert per <= S
    for a0 in sorted({0, (S // 2 // per) * per, S - per}):
        piece = np.ascontiguousarray(tiles[held:, a0:a0 + per]) if held < nt else \
            np.empty((0, per, w), dtype=np.uint64)
        for nch in (1, 3):
            want = np.zeros((G * per, K * ncomp), dtype=np.uint64)
            whir._twist_dft_tiles(ram, piece, a0, per, ncomp, T, K, S, cb, wa, wt, tw, rev,
                                  want, nch)
            got = np.ones_like(want)
            whir._twist_dft_tiles_x(ram, piece, a0, per, ncomp, T, K, S, cb, wa, wt, tw,
                                    rev, got, nch)
            assert np.array_equal(got, want)
        got = np.ones_like(want)
        whir.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, got)
        assert np.array_equal(got, want)


def test_dispatch(monkeypatch):
    """`twist_dft_tiles` takes `_twist_dft_tiles_x` when `XDFT` is set and the shape
    allows (T ≥ FAST_MIN, two tiles or more, cb % 8 = 0), else the old kernel."""
    calls = []
    monkeypatch.setattr(whir, "_twist_dft_tiles_x", lambda *a: calls.append("x"))
    monkeypatch.setattr(whir, "_twist_dft_tiles", lambda *a: calls.append("old"))
    wa = ntt.powers(ntt.root_of_unity(10), 16)

    def run(lt, cb, flag):
        monkeypatch.setattr(whir, "XDFT", flag)
        T = 1 << lt
        ram = np.zeros((T // cb, 16, cb), dtype=np.uint64)
        whir.twist_dft_tiles(ram, np.empty((0, 4, cb), dtype=np.uint64), 0, 4, lt + 4, 2,
                             lt, cb, wa, np.zeros((T, 4), dtype=np.uint64))
        return calls.pop()

    assert run(6, 8, True) == "x"
    assert run(6, 8, False) == "old"
    assert run(6, 64, True) == "old"    # one tile
    assert run(5, 8, True) == "old"     # T < FAST_MIN
    assert run(6, 4, True) == "old"     # cb % 8 ≠ 0


@pytest.mark.parametrize("xdft", [False, True])
def test_leaves_vs_python_reference(monkeypatch, xdft):
    """The streamed leaves (every block through `twist_dft_tiles`) equal the pure-Python
    `encode_leaves_ref`, with the new kernel and with the fallback."""
    monkeypatch.setattr(whir, "XDFT", xdft)
    rng = np.random.default_rng(3)
    for m, d, k, lt, cb, ext, held, per in [(7, 8, 4, 6, 16, False, 1, 2),
                                            (7, 9, 4, 7, 32, True, 2, 4),
                                            (8, 9, 3, 7, 8, False, 5, 4)]:
        shape = (1 << m, 2) if ext else (1 << m,)
        c = _vals(rng, int(np.prod(shape)), "edge").reshape(shape)
        T, ncomp, K = 1 << lt, 2 if ext else 1, 1 << k
        Mx = np.empty((ncomp * T, (1 << m) // T), dtype=np.uint64)
        whir._split_rows(c.reshape(-1), T, ncomp, Mx)
        enc = ntt.rs_encode(Mx, d - m)
        S, nt, w = enc.shape[0], T // cb, ncomp * cb
        tiles = np.empty((nt, S, w), dtype=np.uint64)
        for j in range(nt):
            for comp in range(ncomp):
                tiles[j, :, comp * cb:(comp + 1) * cb] = \
                    enc[:, comp * T + j * cb:comp * T + (j + 1) * cb]
        ram = np.ascontiguousarray(tiles[:held])
        wa = ntt.powers(ntt.root_of_unity(d), S)
        G = T // K
        leaves = np.empty(((1 << d) >> k, K * ncomp), dtype=np.uint64)
        for a0 in range(0, S, per):
            piece = np.ascontiguousarray(tiles[held:, a0:a0 + per])
            got = np.empty((G * per, K * ncomp), dtype=np.uint64)
            whir.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, got)
            for g in range(G):
                leaves[a0 + g * S:a0 + g * S + per] = got[g * per:(g + 1) * per]
        want = whir.encode_leaves_ref(c, d, k)
        assert np.array_equal(leaves.reshape(want.shape), want)
