"""s39h1: the lane encoder's last six DIF stages by shift products (`ntt._lane_tail64`,
`ntt.LANE64`) and the stages 512 … 64 apart as one radix-2⁴ pass (`ntt._lane_r16`,
`ntt.LANE16`): the IR helpers `_v_mul_pow2` / `_v_bfly_pow2` against Python integers
for every exponent, `_lane_r16` against two `_lane_r4` passes, and the encoder with
them against the old lane stages,
`_rs_encode_cols_par` and the reference encoding at every k ≥ 128 it serves (the
proves' call shapes included), rates 1/2 … 1/32, strides 1–3, ordinary and
non-temporal stores, radix-2² passes on and off."""

from __future__ import annotations

import llvmlite.ir as ir
import numpy as np
import pytest
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from zklora.kernels import ntt

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)
#: inputs of the product helpers: canonical edges, limb edges, non-canonical words
XS = np.array([0, 1, 2, P - 1, P - 2, P, P + 1, (1 << 64) - 1, (1 << 32) - 1, 1 << 32,
               (1 << 32) + 1, 1 << 63, (1 << 63) - 1, (1 << 24) - 1, (1 << 40) + 12345,
               0xFFFFFFFF00000000], dtype=np.uint64)


def _ir_all(fn):
    """An intrinsic f(x (8·n), out (len(cases)·8·n)) applying fn(b, vector) -> list of
    vectors to each 8-word vector of x; outputs case-major."""

    def codegen(context, builder, sig, args):
        x = context.make_array(sig.args[0])(context, builder, args[0])
        o = context.make_array(sig.args[1])(context, builder, args[1])
        n = builder.udiv(x.nitems, ir.Constant(ntt._I64, 8))
        with cgutils.for_range(builder, n) as loop:
            off = builder.shl(loop.index, ir.Constant(ntt._I64, 3))
            v = builder.load(ntt._v_ptr(builder, x.data, off), align=8)
            res = fn(builder, v)
            for c, r in enumerate(res):
                oo = builder.add(off, builder.mul(ir.Constant(ntt._I64, c),
                                                  builder.shl(n, ir.Constant(ntt._I64, 3))))
                builder.store(r, ntt._v_ptr(builder, o.data, oo), align=8)
        return context.get_dummy_value()

    @intrinsic
    def f(typingctx, x, out):
        return types.void(x, out), codegen

    @njit
    def run(x, out):
        f(x, out)

    return run


def _inputs(seed: int, canonical: bool) -> np.ndarray:
    g = np.random.default_rng(seed)
    r = g.integers(0, P if canonical else 1 << 64, 8 * 30, dtype=np.uint64,
                   endpoint=False)
    e = XS[XS < P] if canonical else XS
    return np.concatenate([e, r[: (8 - len(e) % 8) % 8 + 64], EDGE.repeat(2)])


def test_omega64_is_a_power_of_two() -> None:
    assert pow(2, ntt.OMEGA64_EXP, P) == ntt.root_of_unity(6)
    assert pow(2, 96, P) == P - 1 and pow(2, 192, P) == 1


def test_mul_pow2_every_exponent() -> None:
    x = _inputs(1, canonical=False)
    run = _ir_all(lambda b, v: [ntt._v_mul_pow2(b, v, e) for e in range(96)])
    out = np.empty(96 * len(x), dtype=np.uint64)
    run(x, out)
    got = out.reshape(96, len(x))
    for e in range(96):
        want = [int(v) if e == 0 else int(v) * (1 << e) % P for v in x]
        assert [int(v) for v in got[e]] == want, e


def test_bfly_pow2_every_twiddle() -> None:
    x = _inputs(2, canonical=True)
    y = np.roll(x, 3)
    ts = list(range(0, 192)) + [192 + 39, 2 * 192 + 120]

    # pairs of vectors: even vectors x, odd vectors y
    def codegen(context, builder, sig, args):
        a = context.make_array(sig.args[0])(context, builder, args[0])
        o = context.make_array(sig.args[1])(context, builder, args[1])
        n = builder.udiv(a.nitems, ir.Constant(ntt._I64, 16))
        with cgutils.for_range(builder, n) as loop:
            off = builder.shl(loop.index, ir.Constant(ntt._I64, 4))
            u = builder.load(ntt._v_ptr(builder, a.data, off), align=8)
            v = builder.load(ntt._v_ptr(builder, a.data, builder.add(
                off, ir.Constant(ntt._I64, 8))), align=8)
            for c, t in enumerate(ts):
                lo, hi = ntt._v_bfly_pow2(builder, u, v, t)
                base = builder.add(off, builder.mul(ir.Constant(ntt._I64, c),
                                                    builder.shl(n, ir.Constant(ntt._I64, 4))))
                builder.store(lo, ntt._v_ptr(builder, o.data, base), align=8)
                builder.store(hi, ntt._v_ptr(builder, o.data, builder.add(
                    base, ir.Constant(ntt._I64, 8))), align=8)
        return context.get_dummy_value()

    @intrinsic
    def f(typingctx, a, out):
        return types.void(a, out), codegen

    @njit
    def run(a, out):
        f(a, out)

    a = np.concatenate([x.reshape(-1, 8), y.reshape(-1, 8)], axis=1).reshape(-1)
    out = np.empty(len(ts) * len(a), dtype=np.uint64)
    run(a, out)
    got = out.reshape(len(ts), -1, 2, 8)
    av = a.reshape(-1, 2, 8)
    for c, t in enumerate(ts):
        w = pow(2, t, P)
        for blk in range(av.shape[0]):
            xs, ys = [int(v) for v in av[blk, 0]], [int(v) for v in av[blk, 1]]
            assert [int(v) for v in got[c, blk, 0]] == [(p + q) % P for p, q in zip(xs, ys)]
            assert [int(v) for v in got[c, blk, 1]] == [(p - q) * w % P
                                                        for p, q in zip(xs, ys)], t


def _Y(k: int, W: int, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed)
    Y = g.integers(0, P, size=(k, W), dtype=np.uint64)
    Y[: k // 4, : W // 2] = EDGE[g.integers(0, 4, size=(k // 4, W // 2))]
    Y[:, 0] = P - 1            # an all-(p − 1) message and an all-zero one
    Y[:, 1] = 0
    return Y


def _encode(Y, col, rl, *, lane: bool, l64: bool, nt: bool = True, r4: bool = True,
            l16: bool = True, spy=None):
    old = ntt.LANE, ntt.LANE64, ntt.LANE_NT, ntt.R4, ntt.LANE16, ntt._rs_encode_lane_par
    ntt.LANE, ntt.LANE64, ntt.LANE_NT, ntt.R4, ntt.LANE16 = lane, l64, nt, r4, l16
    if spy is not None:
        def wrap(*a):
            spy.append((a[-2], a[-1]))
            return old[5](*a)
        ntt._rs_encode_lane_par = wrap
    try:
        assert ntt._lane_ok(col, Y.shape[0], rl) == lane   # the path under test is taken
        return ntt.rs_encode_cols(Y, col, rl)
    finally:
        ntt.LANE, ntt.LANE64, ntt.LANE_NT, ntt.R4, ntt.LANE16, ntt._rs_encode_lane_par = old


@pytest.mark.parametrize("k, rl, cs", [(128, 1, 1), (128, 3, 2), (256, 2, 3), (512, 1, 1),
                                       (1024, 2, 2), (2048, 1, 1), (4096, 1, 1),
                                       (128, 5, 1), (8192, 1, 1)])
def test_tail64_matches_old_lane_and_cols(k: int, rl: int, cs: int) -> None:
    rows = max(16, -(-(1 << 15) // (k << rl)) // 8 * 8 + 8)
    Y = _Y(k, rows * cs + 5, k + rl)
    col = np.arange(rows, dtype=np.int64) * cs + (3 if cs > 1 else 0)
    ref = _encode(Y, col, rl, lane=False, l64=False)
    for nt in (True, False):
        for r4 in (True, False):
            for l16 in (True, False):
                seen: list = []
                got = _encode(Y, col, rl, lane=True, l64=True, nt=nt, r4=r4, l16=l16,
                              spy=seen)
                assert seen == [(int(r4) | 2 | 4 * l16, nt)]   # `_lane_tail64` ran
                assert np.array_equal(got, ref), (k, rl, cs, nt, r4, l16)
    seen = []
    assert np.array_equal(_encode(Y, col, rl, lane=True, l64=False, l16=False, spy=seen),
                          ref)
    assert seen == [(1, True)]


@pytest.mark.parametrize("k, W, ncol, cs", [(2048, 512, 512, 1), (2048, 4096, 512, 2),
                                            (8192, 128, 128, 1), (4096, 256, 256, 1)])
def test_tail64_prove_shapes(k: int, W: int, ncol: int, cs: int) -> None:
    """The 25m / 84m proves' call shapes (tests/bench/s39h1_enc_ab.py), rate 1/2."""
    Y = _Y(k, W, k + W)
    if cs == 1:
        col = np.arange(ncol, dtype=np.int64)
    else:
        col = (np.arange(ncol // cs, dtype=np.int64)[None, :] * cs +
               np.arange(cs, dtype=np.int64)[:, None]).reshape(-1)
    old = _encode(Y, col, 1, lane=True, l64=False, l16=False)
    seen: list = []
    assert np.array_equal(_encode(Y, col, 1, lane=True, l64=True, spy=seen), old)
    assert seen == [(7, True)]
    assert np.array_equal(_encode(Y, col, 1, lane=True, l64=True, l16=False, spy=seen), old)
    assert seen == [(7, True), (3, True)]


def test_tail64_not_below_128() -> None:
    Y = _Y(64, 600, 3)
    col = np.arange(512, dtype=np.int64)
    seen: list = []
    ref = _encode(Y, col, 2, lane=False, l64=False)
    assert np.array_equal(_encode(Y, col, 2, lane=True, l64=True, l16=False, spy=seen),
                          ref)
    assert seen == [(1, True)]


def test_r16_table() -> None:
    t = ntt._r16_table().reshape(64, 16)
    w = ntt.root_of_unity(10)
    for j in (0, 1, 5, 63):
        for p in range(16):
            f = int(f"{p:04b}"[::-1], 2)
            assert int(t[j, p]) == pow(w, j * f, P)


@pytest.mark.parametrize("k", [1024, 2048, 4096])
def test_r16_pass_matches_r4_pair(k: int) -> None:
    """`_lane_r16` on a lane block against `_lane_r4` (512, 256) then (128, 64)."""
    g = np.random.default_rng(k)
    buf = g.integers(0, P, 8 * k, dtype=np.uint64)
    buf[:64] = EDGE.repeat(16)
    tw = ntt._tables(k.bit_length() - 1, 0)[0]

    @njit
    def r16(bf, t):
        ntt._lane_r16(bf, bf.shape[0] // 8, t)

    @njit
    def r4x2(bf, tw_):
        ntt._lane_r4(bf, bf.shape[0] // 8, 256, tw_)
        ntt._lane_r4(bf, bf.shape[0] // 8, 64, tw_)

    a = buf.copy()
    r16(a, ntt._r16_table())
    r = buf.copy()
    r4x2(r, tw)
    assert np.array_equal(a, r)


@pytest.mark.parametrize("k, rl", [(128, 2), (256, 1), (2048, 1)])
def test_tail64_matches_reference(k: int, rl: int) -> None:
    rows = 512 if k == 128 else 128 if k == 256 else 16
    Y = _Y(k, rows, 7)
    col = np.arange(rows, dtype=np.int64)
    got = _encode(Y, col, rl, lane=True, l64=True)
    for r in ((0, 1, 2, 5, 9, 64, rows - 1) if k < 2048 else (0, 1, 2, 15)):
        assert [int(x) for x in got[:, r]] == ntt.rs_encode_ref(
            [int(x) for x in Y[:, col[r]]], rl), r


# -- the lazy (non-canonical) values: the IR helpers run on Python integers ------------
#
# Values left non-canonical (in [p, 2^64)) are rare for random field elements (≈ 2^-32 a
# value), so the encodings above hardly meet them.  `_Int` plays llvmlite's IR builder on
# Python integers mod 2^64 (one lane), so the very helpers `_lane_tail64` / `_lane_r16`
# emit (`_v_dif8_pow2`, `_v_dif_pow2`, `_v_bfly_pow2` with `_tail64_tws`, `_TAILS8_TWS`,
# `_r16_tw`, `_R16_LAZY`) run on values chosen to make sums land in [p, 2^64).

M64 = (1 << 64) - 1
#: near p, near 2^32 and small: pairs of these sum into [p, 2^64) often
ADV = [0, 1, 2, 3, P - 1, P - 2, P - 3, (1 << 32) - 1, (1 << 32) - 2, 1 << 32,
       (1 << 32) + 1, P - (1 << 32), P - (1 << 32) + 1, (1 << 63), (1 << 63) - 1]


class _Int:
    """The subset of llvmlite's IRBuilder the lane helpers use, on Python integers
    (uint64 semantics); `ntt._vc` constants read back as their first lane."""

    @staticmethod
    def _v(a):
        while isinstance(a, ir.Constant):
            a = a.constant[0] if isinstance(a.constant, list) else a.constant
        return a & M64

    def add(self, x, y):
        return (self._v(x) + self._v(y)) & M64

    def sub(self, x, y):
        return (self._v(x) - self._v(y)) & M64

    def mul(self, x, y):
        return (self._v(x) * self._v(y)) & M64

    def and_(self, x, y):
        return self._v(x) & self._v(y)

    def or_(self, x, y):
        return self._v(x) | self._v(y)

    def shl(self, x, y):
        return (self._v(x) << self._v(y)) & M64

    def lshr(self, x, y):
        return self._v(x) >> self._v(y)

    def icmp_unsigned(self, op, x, y):
        assert op == "<"
        return self._v(x) < self._v(y)

    def select(self, c, x, y):
        return self._v(x) if c else self._v(y)


def _dif_ref(v, w):
    """Radix-2 DIF of v (len n, natural in, bit-reversed out) with ω_n = w, in place."""
    n = len(v)
    h = n >> 1
    while h:
        wh = pow(w, n // (2 * h), P)
        for st in range(0, n, 2 * h):
            for j in range(h):
                a, b = v[st + j], v[st + j + h]
                v[st + j], v[st + j + h] = (a + b) % P, (a - b) * pow(wh, j, P) % P
        h >>= 1
    return v


def test_bfly_pow2_takes_noncanonical_x_where_lazy_ok() -> None:
    """Every `_lazy_ok` twiddle: x any word (non-canonical too), y canonical: the sum
    canonical, the product ≡ (x − y)·2^t (canonical unless asked lazy); the flags'
    contract the passes rely on."""
    b = _Int()
    g = np.random.default_rng(5)
    xs = ADV + [P + i for i in range(3)] + [M64, M64 - 1, P + (1 << 31)] + \
        [int(v) for v in g.integers(0, 1 << 64, 20, dtype=np.uint64)]
    ys = [v for v in ADV if v < P] + [int(v) for v in g.integers(0, P, 10, dtype=np.uint64)]
    for t in range(192):
        if not ntt._lazy_ok(t):
            continue
        w = pow(2, t, P)
        for x in xs:
            for y in ys:
                for lz in (False, True):
                    lo, hi = ntt._v_bfly_pow2(b, x, y, t, lz, lz)
                    assert lo % P == (x + y) % P and (lz or lo < P), (t, x, y)
                    assert hi % P == (x - y) * w % P and (lz or hi < P), (t, x, y, lz)


def test_lazy_ok_excludes_plus_minus_one_and_small_negative() -> None:
    assert [t for t in range(192) if ntt._lazy_ok(t)] == \
        list(range(1, 96)) + list(range(160, 192))


@pytest.mark.parametrize("seed", range(6))
def test_tail64_dataflow_on_integers(seed: int) -> None:
    """`_lane_tail64`'s two passes (helpers on `_Int`) on adversarial 64-row blocks:
    the exact DIF of size 64, every output canonical."""
    b = _Int()
    g = np.random.default_rng(seed)
    w64 = ntt.root_of_unity(6)
    for _ in range(40):
        v = [ADV[i] for i in g.integers(0, len(ADV), 64)]
        if seed % 2:
            v = [x if g.random() < 0.7 else int(g.integers(0, P, dtype=np.uint64))
                 for x in v]
        buf = list(v)
        for j in range(8):
            x = ntt._v_dif8_pow2(b, [buf[j + 8 * i] for i in range(8)], *ntt._tail64_tws(j))
            for i in range(8):
                buf[j + 8 * i] = x[i]
        out = []
        for gr in range(8):
            out += ntt._v_dif8_pow2(b, buf[8 * gr:8 * gr + 8], *ntt._TAILS8_TWS)
        assert all(y < P for y in out)
        assert out == _dif_ref(list(v), w64)


@pytest.mark.parametrize("seed", range(4))
def test_r16_dataflow_on_integers(seed: int) -> None:
    """`_lane_r16`'s inner 16-point pass (helpers on `_Int`): ≡ the exact 16-point DIF
    (ω16), output 0 canonical (it is stored as is), the others any word (they go to the
    general product)."""
    b = _Int()
    g = np.random.default_rng(100 + seed)
    w16 = ntt.root_of_unity(4)
    for _ in range(200):
        v = [ADV[i] for i in g.integers(0, len(ADV), 16)]
        x = ntt._v_dif_pow2(b, list(v), ntt._r16_tw, ntt._R16_LAZY)
        assert x[0] < P and all(y <= M64 for y in x)
        assert [y % P for y in x] == _dif_ref(list(v), w16)
