"""The encoder's radix-2 butterfly as explicit <8 x i64> IR with AVX-512 IFMA52 products
against `ntt._bfly_run` as numba vectorises it (not a test).

    cd TREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \
        tests/bench/s29h3_bfly_mb.py [REPS] [N]

Runs of N butterflies (lo, hi) <- (lo + hi, (lo - hi)·tw) repeated in L1/L2; prints the
median process CPU per butterfly of: the numba loop (`_bfly_run`), the IR loop with the
vpmuludq product (the same arithmetic as numba's, `vec` form) and with IFMA52 products
(`ifma` form, twiddles packed as 52-bit limbs of w and w·2^32 mod p).  Outputs asserted
equal to `_bfly_run`'s on random values and on 0, 1, p − 1, p − 2.
"""

from __future__ import annotations

import resource
import statistics
import sys

import llvmlite.ir as ir
import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from zklora.kernels import ntt

P = (1 << 64) - (1 << 32) + 1

P_INT = P
EPS_INT = (1 << 32) - 1
M52 = (1 << 52) - 1
L = 8
I64 = ir.IntType(64)
VT = ir.VectorType(I64, L)


def _c(x: int) -> ir.Constant:
    x &= (1 << 64) - 1
    if x >= 1 << 63:
        x -= 1 << 64
    return ir.Constant(VT, [x] * L)


def v_add(b, x, y):
    """gl_add on vectors (canonical inputs → canonical output)."""
    s = b.add(x, y)
    s = b.select(b.icmp_unsigned("<", s, x), b.add(s, _c(EPS_INT)), s)
    t = b.add(s, _c(EPS_INT))                  # s − p mod 2^64 when s ≥ p
    return b.select(b.icmp_unsigned("<", t, s), t, s)


def v_sub(b, x, y):
    d = b.sub(x, y)
    return b.select(b.icmp_unsigned("<", x, y), b.sub(d, _c(EPS_INT)), d)


def v_reduce128(b, hi, lo):
    hh = b.lshr(hi, _c(32))
    hl = b.and_(hi, _c(0xFFFFFFFF))
    t0 = b.sub(lo, hh)
    t0 = b.select(b.icmp_unsigned("<", lo, hh), b.sub(t0, _c(EPS_INT)), t0)
    t1 = b.sub(b.shl(hl, _c(32)), hl)
    r = b.add(t0, t1)
    r = b.select(b.icmp_unsigned("<", r, t1), b.add(r, _c(EPS_INT)), r)
    t = b.add(r, _c(EPS_INT))
    return b.select(b.icmp_unsigned("<", t, r), t, r)


def v_mul_vec(b, x, w):
    """x·w mod p by 32-bit limb products (numba's `mul128` + `gl_reduce128`)."""
    m32 = _c(0xFFFFFFFF)
    s32 = _c(32)
    a_lo = b.and_(x, m32)
    a_hi = b.lshr(x, s32)
    b_lo = b.and_(w, m32)
    b_hi = b.lshr(w, s32)
    ll = b.mul(a_lo, b_lo)
    t = b.add(b.mul(a_hi, b_lo), b.lshr(ll, s32))
    u = b.add(b.mul(a_lo, b_hi), b.and_(t, m32))
    hi = b.add(b.add(b.mul(a_hi, b_hi), b.lshr(t, s32)), b.lshr(u, s32))
    lo = b.or_(b.shl(u, s32), b.and_(ll, m32))
    return v_reduce128(b, hi, lo)


def _ifma_fns(b):
    fnty = ir.FunctionType(VT, [VT, VT, VT])
    mlo = b.module.declare_intrinsic("llvm.x86.avx512.vpmadd52l.uq.512", (), fnty)
    mhi = b.module.declare_intrinsic("llvm.x86.avx512.vpmadd52h.uq.512", (), fnty)
    return mlo, mhi


def v_mul_ifma(b, fns, x, w0, w1, v0, v1):
    """x·w mod p with w = w0 + w1·2^52, w·2^32 mod p = v0 + v1·2^52 (52-bit limbs):
    x = xl + xh·2^32 → x·w ≡ xl·w + xh·(w·2^32) = Lo + Hi·2^52 with six IFMA52s
    (Lo < 2^53, Hi < 2^46), then reduced."""
    mlo, mhi = fns
    z = _c(0)
    xl = b.and_(x, _c(0xFFFFFFFF))
    xh = b.lshr(x, _c(32))
    lo = b.call(mlo, [z, xl, w0])
    lo = b.call(mlo, [lo, xh, v0])
    hi = b.call(mhi, [z, xl, w0])
    hi = b.call(mhi, [hi, xh, v0])
    hi = b.call(mlo, [hi, xl, w1])
    hi = b.call(mlo, [hi, xh, v1])
    # V = lo + hi·2^52 = lo + (hi << 52) + m·2^64, m = hi >> 12 < 2^34;
    # m·2^64 ≡ (m mod 2^32)·ε − (m >> 32)   (2^64 ≡ ε, 2^96 ≡ −1)
    y = b.shl(hi, _c(52))
    m = b.lshr(hi, _c(12))
    qe = b.sub(b.shl(m, _c(32)), b.and_(m, _c(0xFFFFFFFF)))
    mh = b.lshr(m, _c(32))
    s = b.add(lo, y)
    s = b.select(b.icmp_unsigned("<", s, y), b.add(s, _c(EPS_INT)), s)
    s2 = b.add(s, qe)
    s2 = b.select(b.icmp_unsigned("<", s2, qe), b.add(s2, _c(EPS_INT)), s2)
    s3 = b.sub(s2, mh)
    s3 = b.select(b.icmp_unsigned("<", s2, mh), b.sub(s3, _c(EPS_INT)), s3)
    t = b.add(s3, _c(EPS_INT))
    return b.select(b.icmp_unsigned("<", t, s3), t, s3)


def _vptr(b, base, off):
    return b.bitcast(b.gep(base, [off]), VT.as_pointer())


def _bfly_codegen(ifma: bool):
    def codegen(context, builder, sig, args):
        buf = context.make_array(sig.args[0])(context, builder, args[0])
        T = context.make_array(sig.args[3])(context, builder, args[3])
        lo0, hi0, toff, n = args[1], args[2], args[4], args[5]
        fns = _ifma_fns(builder) if ifma else None
        cnt = builder.lshr(n, ir.Constant(I64, 3))
        with cgutils.for_range(builder, cnt) as loop:
            i = builder.shl(loop.index, ir.Constant(I64, 3))
            pl = _vptr(builder, buf.data, builder.add(lo0, i))
            ph = _vptr(builder, buf.data, builder.add(hi0, i))
            a = builder.load(pl, align=8)
            c = builder.load(ph, align=8)
            d = v_sub(builder, a, c)
            if ifma:
                tb = builder.add(toff, builder.shl(i, ir.Constant(I64, 2)))
                ws = [builder.load(_vptr(builder, T.data,
                                         builder.add(tb, ir.Constant(I64, 8 * q))), align=8)
                      for q in range(4)]
                r = v_mul_ifma(builder, fns, d, *ws)
            else:
                w = builder.load(_vptr(builder, T.data, builder.add(toff, i)), align=8)
                r = v_mul_vec(builder, d, w)
            builder.store(v_add(builder, a, c), pl, align=8)
            builder.store(r, ph, align=8)
        return context.get_dummy_value()
    return codegen


def _mk(ifma: bool):
    def fn(typingctx, buf, lo, hi, T, toff, n):
        sig = types.void(buf, types.int64, types.int64, T, types.int64, types.int64)
        return sig, _bfly_codegen(ifma)
    fn.__name__ = "bfly_ifma" if ifma else "bfly_vec"
    return intrinsic(fn)


bfly_vec = _mk(False)
bfly_ifma = _mk(True)


def pack_tw(tw: np.ndarray) -> np.ndarray:
    """Twiddles as IFMA limbs, 32 words per 8: w mod 2^52, w >> 52, w' mod 2^52, w' >> 52
    (w' = w·2^32 mod p)."""
    n = tw.shape[0]
    w = [int(x) for x in tw]
    wp = np.array([(x << 32) % P_INT for x in w], dtype=np.uint64)
    out = np.empty((n // 8, 4, 8), dtype=np.uint64)
    out[:, 0] = (tw & np.uint64(M52)).reshape(-1, 8)
    out[:, 1] = (tw >> np.uint64(52)).reshape(-1, 8)
    out[:, 2] = (wp & np.uint64(M52)).reshape(-1, 8)
    out[:, 3] = (wp >> np.uint64(52)).reshape(-1, 8)
    return out.reshape(-1)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@njit(cache=False)
def _loop_nb(lo, hi, tw, n, reps):
    for _ in range(reps):
        ntt._bfly_run(lo, hi, tw, n)


@njit(cache=False)
def _loop_vec(buf, tw, n, reps):
    for _ in range(reps):
        bfly_vec(buf, 0, n, tw, 0, n)


@njit(cache=False)
def _loop_ifma(buf, T, n, reps):
    for _ in range(reps):
        bfly_ifma(buf, 0, n, T, 0, n)


def _rand(n, seed):
    g = np.random.default_rng(seed)
    v = g.integers(0, P, size=n, dtype=np.uint64)
    e = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)
    v[:4 * 4] = np.tile(e, 4)
    return v


def _check(n: int) -> None:
    for seed in range(4):
        lo, hi, tw = _rand(n, seed), _rand(n, seed + 10), _rand(n, seed + 20)
        hi[:16] = np.repeat(np.array([0, 1, P - 1, P - 2], dtype=np.uint64), 4)
        tw[:16] = np.array([0, 1, P - 1, P - 2] * 4, dtype=np.uint64)
        a, b = lo.copy(), hi.copy()
        _loop_nb(a, b, tw, n, 1)
        for kind in ("vec", "ifma"):
            buf = np.concatenate([lo, hi])
            if kind == "vec":
                _loop_vec(buf, tw, n, 1)
            else:
                _loop_ifma(buf, pack_tw(tw), n, 1)
            assert np.array_equal(buf[:n], a), kind
            assert np.array_equal(buf[n:], b), kind


def main(reps: int, n: int) -> None:
    _check(n)
    inner = max(1, (20_000 * 1024) // n)
    lo, hi, tw = _rand(n, 1), _rand(n, 2), _rand(n, 3)
    buf = np.concatenate([lo, hi])
    T = pack_tw(tw)
    fns = {"numba": lambda: _loop_nb(lo, hi, tw, n, inner),
           "vec": lambda: _loop_vec(buf, tw, n, inner),
           "ifma": lambda: _loop_ifma(buf, T, n, inner)}
    ts = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            c0 = _cpu()
            f()
            ts[k].append(_cpu() - c0)
    for k, v in ts.items():
        print(f"{k:6s} n={n}: {statistics.median(v) / (n * inner) * 1e9:.3f} ns/butterfly")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5,
         int(sys.argv[2]) if len(sys.argv) > 2 else 1024)
