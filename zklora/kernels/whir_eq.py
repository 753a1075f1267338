"""Weight tables of the whir prover's sumcheck (numba), with pure-Python twins.

After each WHIR round the prover adds Σ_l c_l·eq(pow(z_l), ·) to the sumcheck weight
table W over the hypercube of the folded polynomial's m variables, where the z_l are
the round's shift-query points — *base-field* elements (z = ω^(a·2^k), a root of
unity) — and pow(z) = (z, z², z⁴, …, z^(2^(m−1))).  With one eq table per point this
costs q tables of 2^m extension elements (q ≈ 100 queries at 2^19 is ~5·10^7 extension
products, and as many stores).

`pow_eq_accumulate` uses eq(r, x) = eq(r_lo, x_lo)·eq(r_hi, x_hi) (x_lo the low a bits
of the index, x_hi the high b = m − a bits): with A[l, x_lo] = c_l·eq(r_l,lo, x_lo)
(extension, 2^a per point) and B[l, x_hi] = eq(r_l,hi, x_hi) (base field, 2^b per
point), the update is the matrix product W[x_hi, x_lo] += Σ_l B[l, x_hi]·A[l, x_lo]:
2^m·q base×extension products (two base products each) accumulated in registers, the
small A block staying in cache.  The tables A and B cost q·(2^a + 2^b).

`eq_combination` is the same split for a few *extension* points (the first weight table
Σ_j β^j·eq(r_j, ·) of the claims and OOD points, on the full 2^n hypercube): one
extension product per entry and point in a single pass, instead of an eq table per
point and an axpy per point.
"""

from __future__ import annotations

import llvmlite.ir as ir
import numba
import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import reference as R
from .goldilocks import (
    ONE,
    P_INT,
    ZERO,
    _mul_hilo,
    e2_mul,
    fin_acc128,
    gl_add,
    gl_mul,
    gl_mul7,
    gl_sub,
    mul128,
)
from .jit_util import _wide512

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: low variables of the split (A has 2^LO_VARS entries per point: q·2^a·16 bytes in cache)
LO_VARS = 6
#: at most this many points per block of A (bounds the cache footprint)
POINT_BLOCK = 64
#: tables below this many entries are built by one thread
SERIAL_BELOW = 1 << 14


@njit(**_OPTS)
def _pow_chain(z, m, out):
    """out[l, j] = z_l^(2^j) for j < m."""
    for l in range(z.shape[0]):
        v = z[l]
        for j in range(m):
            out[l, j] = v
            v = gl_mul(v, v)


@njit(**_OPTS)
def _eq_cols(r, j0, j1, out):
    """out[l, x] = Π_{j0 ≤ j < j1} eq(r[l, j], bit (j − j0) of x) (base field): (q, 2^(j1−j0))."""
    for l in range(r.shape[0]):
        out[l, 0] = ONE
        size = 1
        for j in range(j0, j1):
            rj = r[l, j]
            for i in range(size):
                h = gl_mul(out[l, i], rj)
                out[l, i + size] = h
                out[l, i] = gl_sub(out[l, i], h)
            size *= 2


@njit(**_OPTS)
def _scale(A, coefs, A0, A1):
    for l in range(A.shape[0]):
        c0 = coefs[l, 0]
        c1 = coefs[l, 1]
        for x in range(A.shape[1]):
            A0[l, x] = gl_mul(A[l, x], c0)
            A1[l, x] = gl_mul(A[l, x], c1)


#: `_fold_rows` and `_rows` sum this many terms or more unreduced (192-bit accumulators)
LAZY_J = 8


@njit(inline="always", **_OPTS)
def acc_mul(lo, hi, tp, x, b, n):
    """(tp, hi, lo)[p] += x[p]·b for p < n as 192-bit integers tp·2^128 + hi·2^64 + lo:
    the 128-bit product (`mul128`) added without any reduction mod p (`fin_acc128`
    reduces once, for tp < 2^32 − 1); tp grows by at most 1 a call."""
    for p in range(n):
        h1, l1 = mul128(x[p], b)
        t = lo[p] + l1
        lo[p] = t
        u = h1 + (ONE if t < l1 else ZERO)   # h1 ≤ 2^64 − 2: no carry out
        v = hi[p] + u
        hi[p] = v
        tp[p] = tp[p] + (ONE if v < u else ZERO)


@njit(inline="always", **_OPTS)
def _rows(A0, A1, B, out, a, lo_row, hi_row):
    L = A0.shape[1]
    q = A0.shape[0]
    if q >= LAZY_J:   # the q-term sums unreduced (`acc_mul`), reduced once a row
        K = np.empty((6, L), dtype=np.uint64)
        for h in range(lo_row, hi_row):
            base = h << a
            for x in range(L):
                K[0, x] = out[base + x, 0]
                K[1, x] = ZERO
                K[2, x] = ZERO
                K[3, x] = out[base + x, 1]
                K[4, x] = ZERO
                K[5, x] = ZERO
            for l in range(q):
                b = B[l, h]
                acc_mul(K[0], K[1], K[2], A0[l], b, L)
                acc_mul(K[3], K[4], K[5], A1[l], b, L)
            for x in range(L):
                out[base + x, 0] = fin_acc128(K[0, x], K[1, x], K[2, x])
                out[base + x, 1] = fin_acc128(K[3, x], K[4, x], K[5, x])
        return
    acc0 = np.empty(L, dtype=np.uint64)
    acc1 = np.empty(L, dtype=np.uint64)
    for h in range(lo_row, hi_row):
        base = h << a
        for x in range(L):
            acc0[x] = out[base + x, 0]
            acc1[x] = out[base + x, 1]
        for l0 in range(0, q, POINT_BLOCK):
            for l in range(l0, min(q, l0 + POINT_BLOCK)):
                b = B[l, h]
                for x in range(L):
                    acc0[x] = gl_add(acc0[x], gl_mul(A0[l, x], b))
                    acc1[x] = gl_add(acc1[x], gl_mul(A1[l, x], b))
        for x in range(L):
            out[base + x, 0] = acc0[x]
            out[base + x, 1] = acc1[x]


@njit(parallel=True, **_OPTS)
def _combine_par(A0, A1, B, out, a, nch):
    H = B.shape[1]
    step = (H + nch - 1) // nch
    for ch in prange(nch):
        _rows(A0, A1, B, out, a, ch * step, min(H, (ch + 1) * step))


@njit(**_OPTS)
def _combine_ser(A0, A1, B, out, a):
    _rows(A0, A1, B, out, a, 0, B.shape[1])


# -- AVX-512 IFMA52 limb products (s28h1): `whir_open.split_rows`, `pow_eq_accumulate` ----
#
# vpmadd52luq / vpmadd52huq add the low / high 52 bits of the 104-bit product of two
# 52-bit lanes to a 64-bit lane.  With v = v0 + v1·2^52 (v1 < 2^12) and a constant
# c = c0 + c1·2^52 (c1 < 2^12), v·c = v0c0 + (v0c1 + v1c0)·2^52 + v1c1·2^104: seven
# such instructions add v·c to three 64-bit limbs (weights 1, 2^52, 2^104) with no
# carries (the middle limb grows < 3·2^52 a product), where `acc_mul` takes a 32-bit
# limb product (four vpmuludq, shifts, masks) and compare-carries into 192 bits.


def _ifma_host() -> bool:
    """Whether the kernels numba compiles here may use AVX-512 IFMA52: the host CPU has
    it and numba targets the host (no ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``)."""
    try:
        import llvmlite.binding as llvm
        feats = llvm.get_host_cpu_features()
        host = all(feats.get(f, False) for f in ("avx512f", "avx512ifma"))
    except Exception:   # no feature map on this platform
        return False
    cfg = numba.config
    return host and not getattr(cfg, "CPU_NAME", None) and \
        not getattr(cfg, "CPU_FEATURES", None)


#: `split_rows` takes the IFMA kernel (`_split_rows_ifma`) on this host (tests set it)
IFMA = _ifma_host()
#: table entries of an IFMA vector (one 512-bit lane group of an x-block)
IFMA_LANES = 8
#: products an IFMA limb triple takes before it is carried into the field sums (the
#: middle limb grows < 3·2^52 a product: at most 1365 fit 64 bits)
IFMA_FLUSH = 1024
#: rows of a table an x-block runs through at a time (their pages stay in the TLB and
#: the rows in L2; the block's limbs stay in registers for the rows)
IFMA_ROWS = 32
#: terms (claims l) one IFMA call takes at a time: 6 limb vectors a term in registers
IFMA_TERMS = 4


def ifma_decl(builder) -> tuple:
    """(vpmadd52luq, vpmadd52huq) on <`IFMA_LANES` x i64>, declared in builder's module
    (llvm.x86.avx512.vpmadd52{l,h}.uq.512: acc + the low / high 52 bits of the 104-bit
    product of the operands' low 52 bits)."""
    vt = ir.VectorType(ir.IntType(64), IFMA_LANES)
    fnty = ir.FunctionType(vt, [vt, vt, vt])
    mod = builder.module
    return (mod.declare_intrinsic("llvm.x86.avx512.vpmadd52l.uq.512", (), fnty),
            mod.declare_intrinsic("llvm.x86.avx512.vpmadd52h.uq.512", (), fnty))


def ifma_madd(builder, mlo, mhi, slots, x, x1, y, y1) -> None:
    """IR: the limb triple in ``slots`` (three allocas of <8 x i64>, weights 1, 2^52,
    2^104) += x·y lane-wise, x = x0 + x1·2^52 and y = y0 + y1·2^52 (x1 = x >> 52, y1 =
    y >> 52 given: x, y < 2^64): x0y0 to limb 0; hi(x0y0), x0y1, x1y0 to limb 1;
    hi(x0y1), hi(x1y0), x1y1 to limb 2 (seven IFMA52 instructions, no carries: the
    section comment).  ``mlo``, ``mhi`` from `ifma_decl`."""
    s0, s1, s2 = slots
    a0 = builder.call(mlo, [builder.load(s0), x, y])
    a1 = builder.call(mhi, [builder.load(s1), x, y])
    a1 = builder.call(mlo, [a1, x, y1])
    a1 = builder.call(mlo, [a1, x1, y])
    a2 = builder.call(mhi, [builder.load(s2), x, y1])
    a2 = builder.call(mhi, [a2, x1, y])
    a2 = builder.call(mlo, [a2, x1, y1])
    builder.store(a0, s0)
    builder.store(a1, s1)
    builder.store(a2, s2)


def _ifma_codegen(g: int):
    """IR of `_ifma_g`: for r < nrows, v = V[voff + r·stride : + 8] (8 lanes) and the
    constants Bc[boff + r·brow + 2k], Bc[.. + 2k + 1] (c mod 2^52's 64-bit source and
    c >> 52, k < 2g): Kc's 6g limb vectors at koff (k·3 + 0/1/2, 8 lanes each) += v·c_k
    split as in the section comment; the limbs loaded once and stored once."""
    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        vt = ir.VectorType(i64, IFMA_LANES)
        mlo, mhi = ifma_decl(builder)
        V = context.make_array(sig.args[0])(context, builder, args[0])
        Bc = context.make_array(sig.args[4])(context, builder, args[4])
        Kc = context.make_array(sig.args[7])(context, builder, args[7])
        voff, stride, nrows, boff, brow, koff = (args[1], args[2], args[3], args[5],
                                                 args[6], args[8])
        kbase = builder.gep(Kc.data, [koff])
        kptrs = [builder.bitcast(builder.gep(kbase, [ir.Constant(i64, IFMA_LANES * i)]),
                                 vt.as_pointer()) for i in range(6 * g)]
        slots = []
        for p in kptrs:   # loop-carried limbs: promoted to registers by LLVM
            s = cgutils.alloca_once(builder, vt)
            builder.store(builder.load(p, align=8), s)
            slots.append(s)
        s52 = ir.Constant(vt, [52] * IFMA_LANES)
        und = ir.Constant(vt, ir.Undefined)
        zmask = ir.Constant(ir.VectorType(i32, IFMA_LANES), [0] * IFMA_LANES)

        def splat(x):
            return builder.shuffle_vector(builder.insert_element(und, x, ir.Constant(i32, 0)),
                                          und, zmask)

        with cgutils.for_range(builder, nrows) as loop:
            r = loop.index
            vp = builder.gep(V.data, [builder.add(voff, builder.mul(r, stride))])
            v = builder.load(builder.bitcast(vp, vt.as_pointer()), align=8)
            v1 = builder.lshr(v, s52)
            bb = builder.gep(Bc.data, [builder.add(boff, builder.mul(r, brow))])
            for k in range(2 * g):
                c0 = splat(builder.load(builder.gep(bb, [ir.Constant(i64, 2 * k)])))
                c1 = splat(builder.load(builder.gep(bb, [ir.Constant(i64, 2 * k + 1)])))
                ifma_madd(builder, mlo, mhi, slots[3 * k:3 * k + 3], v, v1, c0, c1)
        for p, s in zip(kptrs, slots):
            builder.store(builder.load(s), p, align=8)
        return context.get_dummy_value()

    return codegen


def _ifma_intrinsic(g: int):
    def _ifma_g(typingctx, V, voff, stride, nrows, Bc, boff, brow, Kc, koff):
        sig = types.void(V, types.int64, types.int64, types.int64, Bc, types.int64,
                         types.int64, Kc, types.int64)
        return sig, _ifma_codegen(g)

    _ifma_g.__name__ = f"_ifma_{g}"
    return intrinsic(_ifma_g)


_ifma_1 = _ifma_intrinsic(1)
_ifma_2 = _ifma_intrinsic(2)
_ifma_3 = _ifma_intrinsic(3)
_ifma_4 = _ifma_intrinsic(4)


@njit(inline="always", **_OPTS)
def _ifma_limbs(Kc, o):
    """k0 + k1·2^52 + k2·2^104 mod p for the limbs Kc[o], Kc[o + 8], Kc[o + 16] (one lane
    of a limb triple, k2 < 2^55: the 192-bit integer's top word < 2^31, `fin_acc128`)."""
    k0 = Kc[o]
    k1 = Kc[o + IFMA_LANES]
    k2 = Kc[o + 2 * IFMA_LANES]
    lo = k0 + (k1 << np.uint64(52))
    c1 = ONE if lo < k0 else ZERO
    m = k2 << np.uint64(40)
    hi = (k1 >> np.uint64(12)) + m
    c2 = ONE if hi < m else ZERO
    hi2 = hi + c1
    c3 = ONE if hi2 < hi else ZERO
    return fin_acc128(lo, hi2, (k2 >> np.uint64(24)) + c2 + c3)


@njit(parallel=True, **_OPTS)
def _combine_ifma(A0, A1, B, out, a, nch):
    """`_combine_par` (the same out, exact field sums) by IFMA52 limb products: for each
    group of 8 rows h and x-block of 8 entries, one `_ifma_4` call per component sums
    Σ_l A_c[l, x]·B[l, h] over the q points (q ≤ IFMA_FLUSH) into limbs in registers,
    added to out once (`_ifma_limbs`); the group's B columns are copied as (b, b >> 52)
    pairs into a (q, 16) buffer a chunk (no whole-table copy of B)."""
    q = A0.shape[0]
    L = A0.shape[1]
    H = B.shape[1]
    HG = 2 * IFMA_TERMS
    ng = H // HG
    step = (ng + nch - 1) // nch
    Af = (A0.reshape(-1), A1.reshape(-1))
    for ch in prange(nch):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        Kc = np.empty(3 * HG * IFMA_LANES, dtype=np.uint64)
        Bl = np.empty(2 * HG * q, dtype=np.uint64)
        for gi in range(ch * step, min(ng, (ch + 1) * step)):
            h0 = gi * HG
            for l in range(q):
                for k in range(HG):
                    b = B[l, h0 + k]
                    Bl[l * 2 * HG + 2 * k] = b
                    Bl[l * 2 * HG + 2 * k + 1] = b >> np.uint64(52)
            for comp in range(2):
                Ac = Af[comp]
                for xb in range(L // IFMA_LANES):
                    Kc[:] = ZERO
                    _ifma_4(Ac, xb * IFMA_LANES, L, q, Bl, 0, 2 * HG, Kc, 0)
                    for k in range(HG):
                        base = ((h0 + k) << a) + xb * IFMA_LANES
                        for e in range(IFMA_LANES):
                            out[base + e, comp] = gl_add(
                                out[base + e, comp],
                                _ifma_limbs(Kc, k * 3 * IFMA_LANES + e))


def pow_eq_accumulate(out: np.ndarray, zs: np.ndarray, coefs: np.ndarray) -> None:
    """out (2^m, 2) += Σ_l coefs[l]·eq(pow(zs[l]), ·) for base-field points ``zs`` (q,)
    and extension coefficients ``coefs`` (q, 2); pow(z) = (z, z², …, z^(2^(m−1)))
    (module doc).  ``out`` is updated in place."""
    zs = np.ascontiguousarray(zs, dtype=np.uint64).reshape(-1)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    if out.ndim != 2 or out.shape[1] != 2 or out.dtype != np.uint64 or \
            not out.flags.c_contiguous:
        raise ValueError("pow_eq_accumulate: out must be a contiguous (2^m, 2) uint64 array")
    N = out.shape[0]
    m = N.bit_length() - 1
    if N != 1 << m or coefs.shape[0] != zs.shape[0]:
        raise ValueError("pow_eq_accumulate: need 2^m rows and one coefficient per point")
    if zs.shape[0] == 0:
        return
    a = min(m, LO_VARS)
    r = np.empty((zs.shape[0], max(m, 1)), dtype=np.uint64)
    _pow_chain(zs, m, r)
    A = np.empty((zs.shape[0], 1 << a), dtype=np.uint64)
    _eq_cols(r, 0, a, A)
    B = np.empty((zs.shape[0], 1 << (m - a)), dtype=np.uint64)
    _eq_cols(r, a, m, B)
    A0 = np.empty_like(A)
    A1 = np.empty_like(A)
    _scale(A, coefs, A0, A1)
    if IFMA and A.shape[1] >= IFMA_LANES and B.shape[1] >= 2 * IFMA_TERMS and \
            zs.shape[0] <= IFMA_FLUSH:
        _combine_ifma(A0, A1, B, out, a, min(B.shape[1] // (2 * IFMA_TERMS), 16))
    elif N * zs.shape[0] < SERIAL_BELOW or B.shape[1] == 1:
        _combine_ser(A0, A1, B, out, a)
    else:
        _combine_par(A0, A1, B, out, a, min(B.shape[1], 16))


def pow_eq_accumulate_ref(out, zs, coefs) -> np.ndarray:
    """Straight from the definition: one eq table per point (`reference.eq_expand`)."""
    res = [(int(x), int(y)) for x, y in np.asarray(out)]
    m = len(res).bit_length() - 1
    for z, cf in zip(np.asarray(zs).reshape(-1), np.asarray(coefs).reshape(-1, 2)):
        pt = [(pow(int(z), 1 << j, P_INT), 0) for j in range(m)]
        tab = R.eq_expand(pt)
        for i in range(len(res)):
            p = R.e2_mul(int(tab[i][0]), int(tab[i][1]), int(cf[0]), int(cf[1]))
            res[i] = ((res[i][0] + p[0]) % P_INT, (res[i][1] + p[1]) % P_INT)
    return np.array(res, dtype=np.uint64)



# -- extension points (the claims and OOD points of the first weight table) ---------------


@njit(**_OPTS)
def _eq_cols_ext(r, j0, j1, c, out):
    """out[l, x] = c[l]·Π_{j0 ≤ j < j1} eq(r[l, j], bit (j − j0) of x) over the extension."""
    for l in range(r.shape[0]):
        out[l, 0, 0] = c[l, 0]
        out[l, 0, 1] = c[l, 1]
        size = 1
        for j in range(j0, j1):
            r0 = r[l, j, 0]
            r1 = r[l, j, 1]
            for i in range(size):
                h0, h1 = e2_mul(out[l, i, 0], out[l, i, 1], r0, r1)
                out[l, i + size, 0] = h0
                out[l, i + size, 1] = h1
                out[l, i, 0] = gl_sub(out[l, i, 0], h0)
                out[l, i, 1] = gl_sub(out[l, i, 1], h1)
            size *= 2


@njit(inline="always", **_OPTS)
def _axpy_e(acc0, acc1, x0, x1, b0, b1, bs, L):
    """acc[x] += (x0[x] + x1[x]·X)·(b0 + b1·X) for x < L, components in separate
    unit-stride runs (Karatsuba with bs = b0 + b1; vectorised)."""
    for x in range(L):
        a0 = x0[x]
        a1 = x1[x]
        m0 = gl_mul(a0, b0)
        m1 = gl_mul(a1, b1)
        m2 = gl_mul(gl_add(a0, a1), bs)
        acc0[x] = gl_add(acc0[x], gl_add(m0, gl_mul7(m1)))
        acc1[x] = gl_add(acc1[x], gl_sub(gl_sub(m2, m0), m1))


@njit(inline="always", **_OPTS)
def _axpy_e4(acc0, acc1, x0, x1, b0, b1, b7, L):
    """`_axpy_e` with four products and b7 = 7·b1 given: acc += (x0·b0 + x1·b7,
    x0·b1 + x1·b0) — no Karatsuba sums or 7· per entry (≈ 0.9× its time in L1; the same
    values)."""
    for x in range(L):
        a0 = x0[x]
        a1 = x1[x]
        acc0[x] = gl_add(acc0[x], gl_add(gl_mul(a0, b0), gl_mul(a1, b7)))
        acc1[x] = gl_add(acc1[x], gl_add(gl_mul(a0, b1), gl_mul(a1, b0)))


@njit(parallel=True, **_OPTS)
def _combine_ext(A, B, out, a, overwrite, nch):
    """out[h·2^a + x] (+)= Σ_l A[l, x]·B[l, h].  A's components are split into unit-stride
    runs once, and each row of out is accumulated in two component runs (`_axpy_e4`)."""
    H = B.shape[1]
    L = A.shape[1]
    q = A.shape[0]
    A0 = np.empty((q, L), dtype=np.uint64)
    A1 = np.empty((q, L), dtype=np.uint64)
    for l in range(q):
        for x in range(L):
            A0[l, x] = A[l, x, 0]
            A1[l, x] = A[l, x, 1]
    step = (H + nch - 1) // nch
    for ch in prange(nch):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        acc0 = np.empty(L, dtype=np.uint64)
        acc1 = np.empty(L, dtype=np.uint64)
        for h in range(ch * step, min(H, (ch + 1) * step)):
            base = h << a
            for x in range(L):
                if overwrite:
                    acc0[x] = ZERO
                    acc1[x] = ZERO
                else:
                    acc0[x] = out[base + x, 0]
                    acc1[x] = out[base + x, 1]
            for l in range(q):
                b0 = B[l, h, 0]
                b1 = B[l, h, 1]
                _axpy_e4(acc0, acc1, A0[l], A1[l], b0, b1, gl_mul7(b1), L)
            for x in range(L):
                out[base + x, 0] = acc0[x]
                out[base + x, 1] = acc1[x]


#: low variables of the extension split (a row of 2^a extension values per point)
EXT_LO_VARS = 10


def eq_combination(out: np.ndarray, points: np.ndarray, coefs: np.ndarray,
                   overwrite: bool = False) -> None:
    """out (2^m, 2) (+)= Σ_l coefs[l]·eq(points[l], ·) for extension points (q, m, 2):
    the split product of the module doc with extension tables on both sides (one
    extension product per entry and point, one pass over ``out``); with
    ``overwrite`` the sum replaces out's contents."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    if out.ndim != 2 or out.shape[1] != 2 or out.dtype != np.uint64 or \
            not out.flags.c_contiguous:
        raise ValueError("eq_combination: out must be a contiguous (2^m, 2) uint64 array")
    N = out.shape[0]
    m = N.bit_length() - 1
    q = points.shape[0]
    if N != 1 << m or coefs.shape[0] != q or points.shape[1:] != (m, 2):
        raise ValueError("eq_combination: need 2^m rows, points (q, m, 2), coefs (q, 2)")
    if q == 0:
        if overwrite:
            out[...] = 0
        return
    A, B, a = eq_split(points, coefs)
    nch = 1 if N < SERIAL_BELOW else min(B.shape[1], 16)
    _combine_ext(A, B, out, a, overwrite, nch)


def eq_split(points: np.ndarray, coefs: np.ndarray, lo_vars: int = EXT_LO_VARS
             ) -> tuple[np.ndarray, np.ndarray, int]:
    """The split tables of `eq_combination` for extension points (q ≥ 1, m, 2) and
    coefficients (q, 2): (A (q, 2^a, 2) with the coefficients, B (q, 2^(m−a), 2), a),
    a = min(m, ``lo_vars``) (`eq_rows` makes whole blocks of 2^a rows)."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    q, m = points.shape[0], points.shape[1]
    a = max(0, min(m, EXT_LO_VARS, lo_vars))
    A = np.empty((q, 1 << a, 2), dtype=np.uint64)
    _eq_cols_ext(points, 0, a, coefs, A)
    B = np.empty((q, 1 << (m - a), 2), dtype=np.uint64)
    _eq_cols_ext(points, a, m, np.array([[1, 0]] * q, dtype=np.uint64), B)
    return A, B, a


def eq_rows(A: np.ndarray, B: np.ndarray, a: int, lo: int, hi: int,
            out: np.ndarray | None = None) -> np.ndarray:
    """Rows [lo, hi) (multiples of 2^a) of Σ_l coefs[l]·eq(points[l], ·) from the split
    tables of `eq_split`: the same values as those rows of `eq_combination`'s table,
    computed without the others (a streamed prover builds the table a block at a
    time); written into ``out`` ((hi − lo, 2), contiguous) when given."""
    if lo % (1 << a) or hi % (1 << a) or not 0 <= lo <= hi <= B.shape[1] << a:
        raise ValueError("eq_rows: rows must be whole blocks of 2^a inside the table")
    out = _out_ext(out, hi - lo, "eq_rows")
    Bb = np.ascontiguousarray(B[:, lo >> a:hi >> a])
    if hi > lo:
        nch = 1 if hi - lo < SERIAL_BELOW else min(Bb.shape[1], 16)
        _combine_ext(A, Bb, out, a, True, nch)
    return out


def eq_combination_ref(out, points, coefs) -> np.ndarray:
    """One eq table per point (`reference.eq_expand`), added to ``out``."""
    res = [(int(x), int(y)) for x, y in np.asarray(out)]
    for pt, cf in zip(np.asarray(points), np.asarray(coefs).reshape(-1, 2)):
        tab = R.eq_expand(pt)
        for i in range(len(res)):
            p = R.e2_mul(int(tab[i][0]), int(tab[i][1]), int(cf[0]), int(cf[1]))
            res[i] = ((res[i][0] + p[0]) % P_INT, (res[i][1] + p[1]) % P_INT)
    return np.array(res, dtype=np.uint64)


# -- many claims on aligned blocks (the stacked-claim reduction's W chunks) ---------------

#: low variables of a tile of `eq_acc_blocks` (one thread's accumulators: 2^TILE_VARS
#: extension entries as two component runs, kept in L1 while its claims are added)
TILE_VARS = 8


@njit(inline="always", **_OPTS)
def _eq_fill_split(r, start, n, c0, c1, o0, o1):
    """o0/o1[0:2^n] = c·eq(r[start:start+n], ·) by doubling (variable j ↔ bit j), the
    components in two unit-stride runs."""
    o0[0] = c0
    o1[0] = c1
    size = 1
    for j in range(n):
        r0 = r[start + j, 0]
        r1 = r[start + j, 1]
        rs = gl_add(r0, r1)
        for i in range(size):
            v0 = o0[i]
            v1 = o1[i]
            m0 = gl_mul(v0, r0)
            m1 = gl_mul(v1, r1)
            m2 = gl_mul(gl_add(v0, v1), rs)
            h0 = gl_add(m0, gl_mul7(m1))
            h1 = gl_sub(gl_sub(m2, m0), m1)
            o0[i + size] = h0
            o1[i + size] = h1
            o0[i] = gl_sub(v0, h0)
            o1[i] = gl_sub(v1, h1)
        size *= 2


@njit(parallel=True, **_OPTS)
def _eq_acc_blocks(points, nv, offs, coefs, out, T, overwrite):
    """out[o_k + x] += c_k·eq(p_k, x) (x ∈ {0,1}^{n_k}) for every claim k, by tiles of
    2^T entries of out, one thread a tile (module section doc of `eq_acc_blocks`).
    Needs every block aligned: o_k a multiple of 2^min(n_k, T).  With ``overwrite`` the
    sum replaces out's contents (a tile no claim meets is zeroed)."""
    N = out.shape[0]
    Q = nv.shape[0]
    L = 1 << T
    ntiles = N >> T
    # claims over more than one tile: their low tables A_k = c_k·eq(p_k[:T], ·) and
    # high tables B_k = eq(p_k[T:n_k], ·), made once (in parallel over the claims)
    big = np.full(Q, -1, dtype=np.int64)
    nb = 0
    bsize = 0
    for k in range(Q):
        if nv[k] > T:
            big[k] = nb
            nb += 1
            bsize += 1 << (nv[k] - T)
    bks = np.empty(nb, dtype=np.int64)
    boff = np.empty(nb + 1, dtype=np.int64)
    boff[0] = 0
    for k in range(Q):
        if big[k] >= 0:
            bks[big[k]] = k
            boff[big[k] + 1] = boff[big[k]] + (1 << (nv[k] - T))
    A0 = np.empty((nb, L), dtype=np.uint64)
    A1 = np.empty((nb, L), dtype=np.uint64)
    B0 = np.empty(bsize, dtype=np.uint64)
    B1 = np.empty(bsize, dtype=np.uint64)
    for i in prange(nb):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        k = bks[i]
        _eq_fill_split(points[k], 0, T, coefs[k, 0], coefs[k, 1], A0[i], A1[i])
        _eq_fill_split(points[k], T, nv[k] - T, ONE, ZERO, B0[boff[i]:boff[i + 1]],
                       B1[boff[i]:boff[i + 1]])
    # the claims meeting each tile (CSR, in claim order)
    cnt = np.zeros(ntiles + 1, dtype=np.int64)
    for k in range(Q):
        t0 = offs[k] >> T
        t1 = t0 + (1 << (nv[k] - T)) if nv[k] > T else t0 + 1
        for t in range(t0, t1):
            cnt[t + 1] += 1
    for t in range(ntiles):
        cnt[t + 1] += cnt[t]
    lst = np.empty(cnt[ntiles], dtype=np.int64)
    fill = cnt[:ntiles].copy()
    for k in range(Q):
        t0 = offs[k] >> T
        t1 = t0 + (1 << (nv[k] - T)) if nv[k] > T else t0 + 1
        for t in range(t0, t1):
            lst[fill[t]] = k
            fill[t] += 1
    for t in prange(ntiles):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        if cnt[t] == cnt[t + 1]:
            if overwrite:
                for x in range(t << T, (t + 1) << T):
                    out[x, 0] = ZERO
                    out[x, 1] = ZERO
            continue
        acc0 = np.zeros(L, dtype=np.uint64)
        acc1 = np.zeros(L, dtype=np.uint64)
        tmp0 = np.empty(L, dtype=np.uint64)
        tmp1 = np.empty(L, dtype=np.uint64)
        for e in range(cnt[t], cnt[t + 1]):
            k = lst[e]
            n = nv[k]
            i = big[k]
            if i >= 0:
                h = boff[i] + t - (offs[k] >> T)
                b0 = B0[h]
                b1 = B1[h]
                _axpy_e4(acc0, acc1, A0[i], A1[i], b0, b1, gl_mul7(b1), L)
            else:
                S = 1 << n
                _eq_fill_split(points[k], 0, n, coefs[k, 0], coefs[k, 1], tmp0, tmp1)
                o = offs[k] - (t << T)
                for x in range(S):
                    acc0[o + x] = gl_add(acc0[o + x], tmp0[x])
                    acc1[o + x] = gl_add(acc1[o + x], tmp1[x])
        base = t << T
        if overwrite:
            for x in range(L):
                out[base + x, 0] = acc0[x]
                out[base + x, 1] = acc1[x]
        else:
            for x in range(L):
                out[base + x, 0] = gl_add(out[base + x, 0], acc0[x])
                out[base + x, 1] = gl_add(out[base + x, 1], acc1[x])


def eq_acc_blocks(points: np.ndarray, nv, offs, coefs: np.ndarray, out: np.ndarray,
                  tile_vars: int = TILE_VARS, overwrite: bool = False) -> None:
    """out[o_k + x] += c_k·eq(p_k, x) for x ∈ {0,1}^{n_k}, every claim k (the values of
    `kernels.sumcheck.eq_acc`, whose arguments it takes: ``points`` (Q, ≥ n_max, 2)
    with p_k in its first n_k rows, ``nv`` the n_k, ``offs`` the o_k, ``coefs`` (Q, 2)
    the c_k; ``out`` (N, 2), N a power of two, updated in place) for blocks aligned to
    their size (o_k a multiple of 2^n_k, as the stacked vector's blocks are).

    All the claims in one call: out is cut in tiles of 2^T entries (T = ``tile_vars``),
    one thread a tile, the tile's sum accumulated in two component runs that stay in
    L1; a claim over several tiles adds B_k[tile]·A_k to each (eq(p, x) =
    eq(p_lo, x_lo)·eq(p_hi, x_hi): A_k = c_k·eq(p_k[:T], ·) and B_k = eq(p_k[T:], ·)
    made once per call, one Karatsuba product an entry), a claim inside one tile its
    table made by doubling into a scratch run and added.  (`sumcheck.e_eq_acc` goes
    claim by claim, a small claim's table made serially, and reads and writes out once
    per claim.)  Unaligned blocks fall back to `sumcheck.eq_acc`.  With ``overwrite``
    the sum replaces out's contents (out may be uninitialised)."""
    from . import sumcheck as KS

    points = np.ascontiguousarray(points, np.uint64)
    nv = np.ascontiguousarray(nv, np.int64).reshape(-1)
    offs = np.ascontiguousarray(offs, np.int64).reshape(-1)
    coefs = np.ascontiguousarray(coefs, np.uint64).reshape(-1, 2)
    if out.ndim != 2 or out.shape[1] != 2 or out.dtype != np.uint64 or \
            not out.flags.c_contiguous:
        raise ValueError("eq_acc_blocks: out must be a contiguous (N, 2) uint64 array")
    N = out.shape[0]
    Q = nv.shape[0]
    if Q == 0:
        if overwrite:
            out[...] = 0
        return
    if np.any(nv < 0) or np.any(offs < 0) or np.any(offs + (np.int64(1) << nv) > N) or \
            points.shape[0] != Q or coefs.shape[0] != Q or \
            (points.shape[1] if points.ndim == 3 else 0) < int(nv.max()):
        raise ValueError("eq_acc_blocks: claims must lie in out, with n_k coordinates each")
    m = N.bit_length() - 1
    T = max(0, min(int(tile_vars), m))
    if N != 1 << m or np.any(offs & ((np.int64(1) << np.minimum(nv, T)) - 1)):
        if overwrite:
            out[...] = 0
        KS.eq_acc(points, nv, offs, coefs, out)
        return
    _eq_acc_blocks(points, nv, offs, coefs, out, T, overwrite)


def eq_acc_blocks_ref(points, nv, offs, coefs, out, overwrite: bool = False) -> np.ndarray:
    """`eq_acc_blocks` straight from the definition (one eq table per claim,
    `reference.eq_expand`); returns the updated copy of ``out``."""
    res = [(0, 0) if overwrite else (int(x), int(y)) for x, y in np.asarray(out)]
    for k in range(len(nv)):
        n, o = int(nv[k]), int(offs[k])
        tab = R.eq_expand(np.asarray(points)[k, :n])
        c0, c1 = int(coefs[k][0]), int(coefs[k][1])
        for x in range(1 << n):
            p = R.e2_mul(int(tab[x][0]), int(tab[x][1]), c0, c1)
            res[o + x] = ((res[o + x][0] + p[0]) % P_INT, (res[o + x][1] + p[1]) % P_INT)
    return np.array(res, dtype=np.uint64).reshape(-1, 2)


# -- a base table folded j times at once, and its pair sums (the stack's passes) ----------

#: inputs of the base table one tile of `fold_pair_sums` / `fold_eq` reads (2^j·2 per pair)
FOLD_TILE = 1 << 11
#: outputs of a `fold_eq` tile at least (many folds, j ≥ 9: a tile of 2^j·8 inputs,
#: so each of the 2^j products of a tile row runs over 8 outputs, not 1 to 4 —
#: ×3 faster at j = 10 than FOLD_TILE's 2^11 inputs)
FOLD_MIN_OUT = 8


@njit(inline="always", **_OPTS)
def _transpose_tile(s, base, J, L, T):
    """T[b·L + x] = s[base + x·J + b] (b < J, x < L): the tile's inputs by position in
    their group of J, so each position's products run over unit-stride rows."""
    for b in range(J):   # (position outer: ~0.5 ns an entry against 0.6-1.3 x-outer)
        r = b * L
        for x in range(L):
            T[r + x] = s[base + x * J + b]


@njit(inline="always", **_OPTS)
def _fold_rows(T, off, J, L, E0, E1, o0, o1, K):
    """o[x] = Σ_(b<J) E[b]·T[(off + b)·L + x] (base T, extension E), x < L; K (6, ≥ L)
    scratch: for J ≥ `LAZY_J` the sums as 192-bit integers (`acc_mul`), reduced once
    (J < 2^32); fewer terms a reduced product each (the zeroing and final reduction
    cost more than they save there)."""
    if J < LAZY_J:
        for x in range(L):
            o0[x] = ZERO
            o1[x] = ZERO
        for b in range(J):
            e0 = E0[b]
            e1 = E1[b]
            r = (off + b) * L
            for x in range(L):
                v = T[r + x]
                o0[x] = gl_add(o0[x], gl_mul(v, e0))
                o1[x] = gl_add(o1[x], gl_mul(v, e1))
        return
    for i in range(6):
        for x in range(L):
            K[i, x] = ZERO
    k0 = K[0]
    k1 = K[1]
    k2 = K[2]
    k3 = K[3]
    k4 = K[4]
    k5 = K[5]
    for b in range(J):
        r = (off + b) * L
        v = T[r:r + L]
        acc_mul(k0, k1, k2, v, E0[b], L)
        acc_mul(k3, k4, k5, v, E1[b], L)
    for x in range(L):
        o0[x] = fin_acc128(k0[x], k1[x], k2[x])
        o1[x] = fin_acc128(k3[x], k4[x], k5[x])


@njit(parallel=True, **_OPTS)
def _fold_pair_sums(s, E0, E1, j, w, L, nth):
    """(Σ_i S_j[2i]·W[2i], Σ_i (S_j[2i+1] − S_j[2i])·(W[2i+1] − W[2i])) with S_j[x] =
    Σ_(b<2^j) E[b]·s[x·2^j + b] (s base, E extension (2^j)) and W (extension, given
    flat: ``w`` = its (N, 2) limbs in one run), tiles of L pairs, one thread a range of
    tiles, per-pair accumulators."""
    J = 1 << j
    npairs = w.shape[0] // 4
    ntiles = (npairs + L - 1) // L
    part = np.zeros((nth, 2, 2), dtype=np.uint64)
    step = (ntiles + nth - 1) // nth
    for th in prange(nth):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        a0 = np.zeros(L, dtype=np.uint64)
        a1 = np.zeros(L, dtype=np.uint64)
        q0 = np.zeros(L, dtype=np.uint64)
        q1 = np.zeros(L, dtype=np.uint64)
        T = np.empty(2 * J * L, dtype=np.uint64)
        se0 = np.empty(L, dtype=np.uint64)
        se1 = np.empty(L, dtype=np.uint64)
        so0 = np.empty(L, dtype=np.uint64)
        so1 = np.empty(L, dtype=np.uint64)
        we0 = np.empty(L, dtype=np.uint64)
        we1 = np.empty(L, dtype=np.uint64)
        wd0 = np.empty(L, dtype=np.uint64)
        wd1 = np.empty(L, dtype=np.uint64)
        K = np.empty((6, L), dtype=np.uint64)
        for t in range(th * step, min(ntiles, (th + 1) * step)):
            i0 = t * L
            n = min(L, npairs - i0)
            _transpose_tile(s, i0 * 2 * J, 2 * J, n, T)
            o = 4 * i0   # W's pairs as unit-stride runs (lo, hi − lo); w flat
            for x in range(n):
                we0[x] = w[o + 4 * x]
            for x in range(n):
                we1[x] = w[o + 4 * x + 1]
            for x in range(n):
                wd0[x] = w[o + 4 * x + 2]
            for x in range(n):
                wd1[x] = w[o + 4 * x + 3]
            for x in range(n):
                wd0[x] = gl_sub(wd0[x], we0[x])
                wd1[x] = gl_sub(wd1[x], we1[x])
            if j == 0:
                for x in range(n):
                    lo = T[x]
                    d = gl_sub(T[n + x], lo)
                    a0[x] = gl_add(a0[x], gl_mul(lo, we0[x]))
                    a1[x] = gl_add(a1[x], gl_mul(lo, we1[x]))
                    q0[x] = gl_add(q0[x], gl_mul(d, wd0[x]))
                    q1[x] = gl_add(q1[x], gl_mul(d, wd1[x]))
                continue
            _fold_rows(T, 0, J, n, E0, E1, se0, se1, K)
            _fold_rows(T, J, J, n, E0, E1, so0, so1, K)
            for x in range(n):
                p0, p1 = e2_mul(se0[x], se1[x], we0[x], we1[x])
                a0[x] = gl_add(a0[x], p0)
                a1[x] = gl_add(a1[x], p1)
                d0, d1 = e2_mul(gl_sub(so0[x], se0[x]), gl_sub(so1[x], se1[x]),
                                wd0[x], wd1[x])
                q0[x] = gl_add(q0[x], d0)
                q1[x] = gl_add(q1[x], d1)
        for x in range(L):
            part[th, 0, 0] = gl_add(part[th, 0, 0], a0[x])
            part[th, 0, 1] = gl_add(part[th, 0, 1], a1[x])
            part[th, 1, 0] = gl_add(part[th, 1, 0], q0[x])
            part[th, 1, 1] = gl_add(part[th, 1, 1], q1[x])
    out = np.zeros((2, 2), dtype=np.uint64)
    for th in range(nth):
        for k in range(2):
            out[k, 0] = gl_add(out[k, 0], part[th, k, 0])
            out[k, 1] = gl_add(out[k, 1], part[th, k, 1])
    return out


@njit(parallel=True, **_OPTS)
def _fold_eq(s, E0, E1, j, out, L):
    """out[x] = Σ_(b<2^j) E[b]·s[x·2^j + b] (s base, out (M, 2) extension), tiles of L."""
    J = 1 << j
    M = out.shape[0]
    ntiles = (M + L - 1) // L
    for t in prange(ntiles):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        T = np.empty(J * L, dtype=np.uint64)
        o0 = np.empty(L, dtype=np.uint64)
        o1 = np.empty(L, dtype=np.uint64)
        K = np.empty((6, L), dtype=np.uint64)
        x0 = t * L
        n = min(L, M - x0)
        _transpose_tile(s, x0 * J, J, n, T)
        _fold_rows(T, 0, J, n, E0, E1, o0, o1, K)
        for x in range(n):
            out[x0 + x, 0] = o0[x]
            out[x0 + x, 1] = o1[x]


def _eq_weights(rs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eq(rs, b) for b < 2^j (bit i of b ↔ rs[i]) as two component runs."""
    rs = np.ascontiguousarray(rs, dtype=np.uint64).reshape(-1, 2)
    j = rs.shape[0]
    E = np.empty((1, 1 << j, 2), dtype=np.uint64)
    _eq_cols_ext(rs[None], 0, j, np.array([[1, 0]], dtype=np.uint64), E)
    return np.ascontiguousarray(E[0, :, 0]), np.ascontiguousarray(E[0, :, 1])


def _base_table(s: np.ndarray, name: str) -> np.ndarray:
    if s.ndim != 1 or s.dtype != np.uint64 or not s.flags.c_contiguous:
        raise ValueError(f"{name}: the table must be a contiguous (N,) uint64 base array")
    return s


def fold_pair_sums(s: np.ndarray, rs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The pair sums (`kernels.sumcheck.pair_sums`) of (S folded at ``rs``, w): S = ``s``
    a base table (2^j·N,), rs (j, 2) extension challenges bound to its lowest j
    variables in order (`sumcheck.fold_into` j times), w (N, 2) extension.  The folds
    are one eq-weighted sum S_j[x] = Σ_b eq(rs, b)·s[x·2^j + b] per tile of inputs (two
    base-by-extension products an input, unit-stride after a transpose in cache), and
    the pair products go into per-pair accumulators: no folded table is ever written.
    Returns (2, 2): (Σ S_j[2i]·W[2i], Σ ΔS_j·ΔW)."""
    s = _base_table(s, "fold_pair_sums")
    w = np.ascontiguousarray(w, dtype=np.uint64)
    E0, E1 = _eq_weights(rs)
    j = E0.shape[0].bit_length() - 1
    if w.ndim != 2 or w.shape[1] != 2 or s.shape[0] != w.shape[0] << j or w.shape[0] % 2:
        raise ValueError("fold_pair_sums: need s of 2^j·N entries and w (N, 2), N even")
    L = max(1, FOLD_TILE >> (j + 1))
    npairs = w.shape[0] // 2
    nth = max(1, min(16, (npairs + L - 1) // L, 1 + npairs // (1 << 12)))
    return _fold_pair_sums(s, E0, E1, j, w.reshape(-1), L, nth)


def _out_ext(out: np.ndarray | None, M: int, name: str) -> np.ndarray:
    """A caller's output (M, 2) (checked: contiguous uint64), or a fresh one."""
    if out is None:
        return np.empty((M, 2), dtype=np.uint64)
    if out.shape != (M, 2) or out.dtype != np.uint64 or not out.flags.c_contiguous or \
            not out.flags.writeable:
        raise ValueError(f"{name}: out must be a writable contiguous ({M}, 2) uint64 array")
    return out


@njit(parallel=True, **_OPTS)
def _fold_eq_ifma(s, Ec, j, out, L):
    """`_fold_eq` (the same out, exact field sums) by IFMA52 limb products: a tile's
    transposed inputs (J rows of n) summed with the weights Ec (J, 2, 2) = (E_c[b],
    E_c[b] >> 52) by one `_ifma_1` call an x-block of 8 outputs (both components' limbs
    in registers over the J ≤ IFMA_FLUSH rows), reduced once (`_ifma_limbs`); a tile's
    last n mod 8 outputs by reduced products."""
    J = 1 << j
    M = out.shape[0]
    ntiles = (M + L - 1) // L
    for t in prange(ntiles):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        T = np.empty(J * L, dtype=np.uint64)
        Kc = np.empty(6 * IFMA_LANES, dtype=np.uint64)
        x0 = t * L
        n = min(L, M - x0)
        _transpose_tile(s, x0 * J, J, n, T)
        nb = n // IFMA_LANES
        for xb in range(nb):
            Kc[:] = ZERO
            _ifma_1(T, xb * IFMA_LANES, n, J, Ec, 0, 4, Kc, 0)
            for e in range(IFMA_LANES):
                out[x0 + xb * IFMA_LANES + e, 0] = _ifma_limbs(Kc, e)
                out[x0 + xb * IFMA_LANES + e, 1] = _ifma_limbs(Kc, 3 * IFMA_LANES + e)
        for x in range(nb * IFMA_LANES, n):
            o0 = ZERO
            o1 = ZERO
            for b in range(J):
                v = T[b * n + x]
                o0 = gl_add(o0, gl_mul(v, Ec[4 * b]))
                o1 = gl_add(o1, gl_mul(v, Ec[4 * b + 2]))
            out[x0 + x, 0] = o0
            out[x0 + x, 1] = o1


def fold_eq(s: np.ndarray, rs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``s`` (base, 2^j·M entries) with its lowest j variables bound to rs (j, 2): the
    (M, 2) extension table of `sumcheck.fold_into` j times (the same values), as one
    eq-weighted sum per output (`fold_pair_sums`'s fold); written into ``out`` when
    given."""
    s = _base_table(s, "fold_eq")
    E0, E1 = _eq_weights(rs)
    j = E0.shape[0].bit_length() - 1
    if s.shape[0] % (1 << j):
        raise ValueError("fold_eq: the table must have a multiple of 2^j entries")
    out = _out_ext(out, s.shape[0] >> j, "fold_eq")
    if not out.shape[0]:
        return out
    L = max(FOLD_MIN_OUT, FOLD_TILE >> j)
    if IFMA and LAZY_J <= 1 << j <= IFMA_FLUSH and L >= IFMA_LANES:
        Ec = np.empty((1 << j, 2, 2), dtype=np.uint64)   # (E_c[b], E_c[b] >> 52)
        Ec[:, 0, 0] = E0
        Ec[:, 1, 0] = E1
        Ec[:, :, 1] = Ec[:, :, 0] >> np.uint64(52)
        _fold_eq_ifma(s, Ec.reshape(-1), j, out, L)
    else:
        _fold_eq(s, E0, E1, j, out, L)
    return out


def fold_eq_ref(s, rs) -> np.ndarray:
    """`fold_eq` from the definition: j folds lo + r·(hi − lo), Python integers."""
    return fold_pairs_ref([(int(v), 0) for v in np.asarray(s).reshape(-1)], rs)


def fold_pairs_ref(t: list, rs) -> np.ndarray:
    """The folds lo + r·(hi − lo) of an extension table given as a list of (c0, c1)
    Python-integer pairs, one fold per r of ``rs`` (the twins' shared definition)."""
    for r in np.asarray(rs, dtype=np.uint64).reshape(-1, 2):
        r0, r1 = int(r[0]), int(r[1])
        nxt = []
        for i in range(len(t) // 2):
            lo, hi = t[2 * i], t[2 * i + 1]
            p = R.e2_mul((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT, r0, r1)
            nxt.append(((lo[0] + p[0]) % P_INT, (lo[1] + p[1]) % P_INT))
        t = nxt
    return np.array(t, dtype=np.uint64).reshape(-1, 2)


def fold_pair_sums_ref(s, rs, w) -> np.ndarray:
    """`fold_pair_sums` from the definition (`fold_eq_ref`, then the pair sums)."""
    f = fold_eq_ref(s, rs)
    acc = [(0, 0), (0, 0)]
    for i in range(f.shape[0] // 2):
        lo = (int(f[2 * i, 0]), int(f[2 * i, 1]))
        hi = (int(f[2 * i + 1, 0]), int(f[2 * i + 1, 1]))
        wl = (int(w[2 * i, 0]), int(w[2 * i, 1]))
        wh = (int(w[2 * i + 1, 0]), int(w[2 * i + 1, 1]))
        x = R.e2_mul(lo[0], lo[1], wl[0], wl[1])
        y = R.e2_mul((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT,
                     (wh[0] - wl[0]) % P_INT, (wh[1] - wl[1]) % P_INT)
        acc = [((acc[0][0] + x[0]) % P_INT, (acc[0][1] + x[1]) % P_INT),
               ((acc[1][0] + y[0]) % P_INT, (acc[1][1] + y[1]) % P_INT)]
    return np.array(acc, dtype=np.uint64)


# -- a pass's pair sums claim by claim, on the unfolded base stack (the stack's passes) ---

#: low variables of a claim's tile in `seg_dots` (the block's rows of 2^SEG_TILE_VARS base
#: entries, accumulated with B[row] into a run that stays in L1)
SEG_TILE_VARS = 8


@njit(**_OPTS)
def _seg_tables(P, nv, grp_T, rs, j, loff, L0, L1, boff, B0, B1):
    """Per group g (a distinct point P[g] of n_g = nv[g] coordinates, tile T_g = grp_T[g]):
    L_g[x'] = eq(rs, x'[:j])·eq(P[g][j+1:T_g], x'[j:]) over the T_g − 1 tile bits other
    than bit j (x' = the tile bits with bit j removed), and B_g[h] = eq(P[g][T_g:n_g], h)."""
    G = nv.shape[0]
    q = np.empty((max(1, P.shape[1]), 2), dtype=np.uint64)
    for g in range(G):
        T = grp_T[g]
        for i in range(j):
            q[i, 0] = rs[i, 0]
            q[i, 1] = rs[i, 1]
        for i in range(j + 1, T):
            q[i - 1, 0] = P[g, i, 0]
            q[i - 1, 1] = P[g, i, 1]
        _eq_fill_split(q, 0, T - 1, ONE, ZERO, L0[loff[g]:loff[g + 1]],
                       L1[loff[g]:loff[g + 1]])
        _eq_fill_split(P[g], T, nv[g] - T, ONE, ZERO, B0[boff[g]:boff[g + 1]],
                       B1[boff[g]:boff[g + 1]])


#: entries of s one thread takes at a time in `seg_dots` (a long segment is cut in pieces
#: of this many, each with its own partial sums: the threads stay balanced when one
#: claim's block fills most of a chunk)
SEG_PIECE = 1 << 15


@njit(inline="always", **_OPTS)
def _mac2(lo, hi, tp, x0, b0, x1, b1):
    """(tp, hi, lo) + x0·b0 + x1·b1 as the 192-bit integer tp·2^128 + hi·2^64 + lo (no
    reduction mod p; tp grows by at most 3); scalar code: one 64×64→128 multiply a
    product (`goldilocks._mul_hilo`)."""
    h1, l1 = _mul_hilo(x0, b0)
    h2, l2 = _mul_hilo(x1, b1)
    t = lo + l1
    c = ONE if t < l1 else ZERO
    t2 = t + l2
    c += ONE if t2 < l2 else ZERO
    u = hi + h1
    tp += ONE if u < h1 else ZERO
    v = u + h2
    tp += ONE if v < h2 else ZERO
    w = v + c
    tp += ONE if w < c else ZERO
    return t2, w, tp


@njit(inline="always", **_OPTS)
def _half_dot_lazy(A0, A1, o, half, L0, L1, lo_, j, bit):
    """(Σ A[o + x]·L[lo_ + x'] over the x < 2·half with bit j of x = ``bit``) as its two
    extension components, the products summed as 192-bit integers (`_mac2`: x0·l0 +
    x1·7l1, x0·l1 + x1·l0) and reduced once."""
    jm = (1 << j) - 1
    a0 = ZERO
    a1 = ZERO
    a2 = ZERO
    b0 = ZERO
    b1 = ZERO
    b2 = ZERO
    for xp in range(half):
        x = o + (((xp & jm) | ((xp >> j) << (j + 1))) + (bit << j))
        l0 = L0[lo_ + xp]
        l1 = L1[lo_ + xp]
        v0 = A0[x]
        v1 = A1[x]
        a0, a1, a2 = _mac2(a0, a1, a2, v0, l0, v1, gl_mul7(l1))
        b0, b1, b2 = _mac2(b0, b1, b2, v0, l1, v1, l0)
    return fin_acc128(a0, a1, a2), fin_acc128(b0, b1, b2)


@njit(inline="always")
def _split_dot(A0, A1, o, tl, L0, L1, lo_, j):
    """(Σ_(x: bit j = 0) A[o + x]·L[lo_ + x'], Σ_(bit j = 1) …) as (x00, x01, x10, x11),
    x < tl (a power of two > 2^j, ≤ 2^30), x' = x with bit j removed (extension
    components A0/A1, L0/L1): each component's products summed unreduced
    (`_half_dot_lazy`, s29h4; before, a reduced extension product and sum an entry)."""
    x00, x01 = _half_dot_lazy(A0, A1, o, tl >> 1, L0, L1, lo_, j, 0)
    x10, x11 = _half_dot_lazy(A0, A1, o, tl >> 1, L0, L1, lo_, j, 1)
    return x00, x01, x10, x11


@njit(parallel=True, **_OPTS)
def _seg_dots(s, sk, sa, sh, snt, grp, grp_T, grp_n, loff, L0, L1, boff, B0, B1, j, X):
    """X[k] += (Σ_(y: bit j = 0) Z_k(y)·s[y], Σ_(bit j = 1) Z_k(y)·s[y]) over segment e
    (claim k = sk[e]: snt[e] rows of 2^T base entries of ``s`` from sa[e], block rows
    sh[e] …), Z_k(y) = L_g(y's tile bits without bit j)·B_g(y's row): per row one
    base×extension axpy of the row into a run (B[row] its scalar), then the run times
    L_g, summed by bit j.  One thread a segment; X[e] (one row a segment) is set."""
    for e in prange(sk.shape[0]):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        k = sk[e]
        g = grp[k]
        T = grp_T[g]
        tl = 1 << T
        a = sa[e]
        lo_ = loff[g]
        x00 = ZERO
        x01 = ZERO
        x10 = ZERO
        x11 = ZERO
        jm = (1 << j) - 1
        if grp_n[g] == T:   # the whole block is one row: Z = L
            for x in range(tl):
                v = s[a + x]
                xl = lo_ + ((x & jm) | ((x >> (j + 1)) << j))
                p0 = gl_mul(v, L0[xl])
                p1 = gl_mul(v, L1[xl])
                if (x >> j) & 1:
                    x10 = gl_add(x10, p0)
                    x11 = gl_add(x11, p1)
                else:
                    x00 = gl_add(x00, p0)
                    x01 = gl_add(x01, p1)
        else:
            acc0 = np.zeros(tl, dtype=np.uint64)
            acc1 = np.zeros(tl, dtype=np.uint64)
            bo = boff[g] + sh[e]
            for h in range(snt[e]):
                b0 = B0[bo + h]
                b1 = B1[bo + h]
                base = a + h * tl
                for x in range(tl):
                    v = s[base + x]
                    acc0[x] = gl_add(acc0[x], gl_mul(v, b0))
                    acc1[x] = gl_add(acc1[x], gl_mul(v, b1))
            x00, x01, x10, x11 = _split_dot(acc0, acc1, 0, tl, L0, L1, lo_, j)
        X[e, 0] = x00
        X[e, 1] = x01
        X[e, 2] = x10
        X[e, 3] = x11


@njit(**_OPTS)
def _seg_add(sk, Xp, X):
    for e in range(sk.shape[0]):
        k = sk[e]
        for i in range(4):
            X[k, i] = gl_add(X[k, i], Xp[e, i])


#: rows of a piece from which `_seg_rows` sums as 192-bit integers (`acc_mul`, reduced
#: once); fewer rows: a reduced product each
SEG_LAZY_ROWS = 4


@njit(inline="always", **_OPTS)
def _seg_piece_direct(s, a, tl, whole, few, bo, n, B0, B1, o0, o1) -> bool:
    """The pieces `_seg_rows` and `_seg_rows_ifma` set without 192-bit sums (True when
    this one is such): a block of one row (``whole``: o = its entries) and, when
    ``few``, a piece's n rows summed with a reduced product each (o = Σ_h B[bo + h]·
    s[a + h·tl …])."""
    if whole:
        for x in range(tl):
            o0[x] = s[a + x]
            o1[x] = ZERO
        return True
    if not few:
        return False
    for x in range(tl):
        o0[x] = ZERO
        o1[x] = ZERO
    for h in range(n):
        b0 = B0[bo + h]
        b1 = B1[bo + h]
        v = s[a + h * tl:a + h * tl + tl]
        for x in range(tl):
            o0[x] = gl_add(o0[x], gl_mul(v[x], b0))
            o1[x] = gl_add(o1[x], gl_mul(v[x], b1))
    return True


@njit(parallel=True, **_OPTS)
def _seg_rows(s, sk, sa, sh, snt, grp, grp_T, grp_n, boff, B0, B1, P0, P1):
    """Per piece e (claim k = sk[e], rows sh[e] … of 2^T base entries from s[sa[e]]):
    P[e, x] = Σ_h B_g[row h]·s[row h, x] (`seg_dots`'s run before the L products; a
    block of one row: its entries).  The rows' products go into 1-D runs (the loops
    vectorise; indexing P[e, x] in them did not), as 192-bit sums (`acc_mul`) reduced
    once from `SEG_LAZY_ROWS` rows."""
    for e in prange(sk.shape[0]):
        g = grp[sk[e]]
        tl = 1 << grp_T[g]
        a = sa[e]
        o0 = P0[e]
        o1 = P1[e]
        bo = boff[g] + sh[e]
        n = snt[e]
        if _seg_piece_direct(s, a, tl, grp_n[g] == grp_T[g], n < SEG_LAZY_ROWS, bo, n,
                             B0, B1, o0, o1):
            continue
        K = np.zeros((6, tl), dtype=np.uint64)
        k0 = K[0]
        k1 = K[1]
        k2 = K[2]
        k3 = K[3]
        k4 = K[4]
        k5 = K[5]
        for h in range(n):
            v = s[a + h * tl:a + h * tl + tl]
            acc_mul(k0, k1, k2, v, B0[bo + h], tl)
            acc_mul(k3, k4, k5, v, B1[bo + h], tl)
        for x in range(tl):
            o0[x] = fin_acc128(k0[x], k1[x], k2[x])
            o1[x] = fin_acc128(k3[x], k4[x], k5[x])


@njit(parallel=True, **_OPTS)
def _seg_rows_ifma(s, sk, sa, sh, snt, grp, grp_T, grp_n, boff, B0, B1, Bc, P0, P1):
    """`_seg_rows` (the same P0, P1, exact field sums) with a piece's rows summed by
    IFMA52 limb products where it has at least `SEG_LAZY_ROWS` rows of ≥ 8 entries:
    one `_ifma_1` call an x-block of 8 entries and ≤ IFMA_FLUSH rows (both components'
    limbs in registers), reduced once a call (`_ifma_limbs`); Bc (rows, 2, 2) holds
    B's components as (b, b >> 52).  Other pieces as `_seg_rows`."""
    for e in prange(sk.shape[0]):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        g = grp[sk[e]]
        tl = 1 << grp_T[g]
        a = sa[e]
        o0 = P0[e]
        o1 = P1[e]
        bo = boff[g] + sh[e]
        n = snt[e]
        if _seg_piece_direct(s, a, tl, grp_n[g] == grp_T[g],
                             n < SEG_LAZY_ROWS or tl < IFMA_LANES, bo, n, B0, B1, o0, o1):
            continue
        Kc = np.empty(6 * IFMA_LANES, dtype=np.uint64)
        for x in range(tl):
            o0[x] = ZERO
            o1[x] = ZERO
        for h0 in range(0, n, IFMA_FLUSH):
            nr = min(IFMA_FLUSH, n - h0)
            for xb in range(tl // IFMA_LANES):
                Kc[:] = ZERO
                _ifma_1(s, a + h0 * tl + xb * IFMA_LANES, tl, nr, Bc, 4 * (bo + h0), 4,
                        Kc, 0)
                for i in range(IFMA_LANES):
                    x = xb * IFMA_LANES + i
                    o0[x] = gl_add(o0[x], _ifma_limbs(Kc, i))
                    o1[x] = gl_add(o1[x], _ifma_limbs(Kc, 3 * IFMA_LANES + i))


def seg_rows_ref(s, sk, sa, sh, snt, grp, grp_T, grp_n, boff, B0, B1) -> tuple:
    """`_seg_rows`'s twin (Python integers): (P0, P1) with P[e, x] = Σ_h B[row h]·s[row
    h, x] over piece e's rows, a one-row block's entries as they are."""
    L = 1 << int(np.max(grp_T))
    P0 = np.zeros((len(sk), L), np.uint64)
    P1 = np.zeros((len(sk), L), np.uint64)
    for e in range(len(sk)):
        g = int(grp[sk[e]])
        tl = 1 << int(grp_T[g])
        a = int(sa[e])
        if grp_n[g] == grp_T[g]:
            P0[e, :tl] = s[a:a + tl]
            continue
        for x in range(tl):
            c0 = c1 = 0
            for h in range(int(snt[e])):
                v = int(s[a + h * tl + x])
                c0 = (c0 + v * int(B0[int(boff[g]) + int(sh[e]) + h])) % P_INT
                c1 = (c1 + v * int(B1[int(boff[g]) + int(sh[e]) + h])) % P_INT
            P0[e, x], P1[e, x] = c0, c1
    return P0, P1


@njit(**_OPTS)
def _seg_collect(sk, grp, grp_T, P0, P1, aoff, A0, A1):
    """A_k += P[e] for every piece e of claim k (serial: pieces of a claim are adjacent)."""
    for e in range(sk.shape[0]):
        k = sk[e]
        o = aoff[k]
        for x in range(1 << grp_T[grp[k]]):
            A0[o + x] = gl_add(A0[o + x], P0[e, x])
            A1[o + x] = gl_add(A1[o + x], P1[e, x])


@njit(parallel=True, **_OPTS)
def _seg_fin(ks, grp, grp_T, loff, L0, L1, aoff, A0, A1, j, X):
    """X[k] = (Σ_(x: bit j = 0) L_g[x']·A_k[x], Σ_(bit j = 1) …) for the claims ks."""
    for i in prange(ks.shape[0]):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        k = ks[i]
        g = grp[k]
        lo_ = loff[g]
        o = aoff[k]
        x00, x01, x10, x11 = _split_dot(A0, A1, o, 1 << grp_T[g], L0, L1, lo_, j)
        X[k, 0] = x00
        X[k, 1] = x01
        X[k, 2] = x10
        X[k, 3] = x11


def _pieces(tabs, grp, sk, sa, sh, snt):
    """Segments cut in pieces of at most `SEG_PIECE` entries (whole rows)."""
    sk = np.ascontiguousarray(sk, np.int64).reshape(-1)
    sa = np.asarray(sa, np.int64).reshape(-1)
    sh = np.asarray(sh, np.int64).reshape(-1)
    snt = np.asarray(snt, np.int64).reshape(-1)
    T = tabs.T[grp[sk]]
    rows = np.maximum(1, SEG_PIECE >> T)
    npc = (snt + rows - 1) // rows
    e = np.repeat(np.arange(sk.shape[0]), npc)
    i = np.arange(e.shape[0]) - np.repeat(np.cumsum(npc) - npc, npc)
    h = i * rows[e]
    return (np.ascontiguousarray(sk[e]), np.ascontiguousarray(sa[e] + (h << T[e])),
            np.ascontiguousarray(sh[e] + h),
            np.ascontiguousarray(np.minimum(rows[e], snt[e] - h)))


class SegRuns:
    """Every claim's run A_k[x] = Σ_h B_k[h]·S_k[h·2^T + x] (2^T extension entries,
    T = min(n_k, tile)) — `seg_dots`'s rows summed with B, which does not depend on the
    pass: made once from S (`add`), each later pass's X is then 2^T products a claim
    (`dots`).  ``grp`` the claims' groups, ``T`` their groups' tiles."""

    def __init__(self, grp, gT):
        self.grp = np.ascontiguousarray(grp, np.int64)
        self.gT = np.ascontiguousarray(gT, np.int64)
        sz = np.int64(1) << self.gT[self.grp]
        self.aoff = np.zeros(self.grp.shape[0] + 1, np.int64)
        np.cumsum(sz, out=self.aoff[1:])
        self.A0 = np.zeros(int(self.aoff[-1]), np.uint64)
        self.A1 = np.zeros_like(self.A0)

    @staticmethod
    def nbytes(grp, gT) -> int:
        return 16 * int((np.int64(1) << np.asarray(gT)[np.asarray(grp)]).sum())

    def add(self, s: np.ndarray, tabs: SegTables, cgrp, sk, sa, sh, snt) -> None:
        """Add the segments' rows of ``s`` (as `seg_dots`: claim k's group in ``tabs``
        is cgrp[k])."""
        s = _base_table(s, "SegRuns.add")
        if not len(sk):
            return
        cgrp = np.ascontiguousarray(cgrp, np.int64)
        pk, pa, ph, pn = _pieces(tabs, cgrp, sk, sa, sh, snt)
        L = 1 << int(tabs.T.max())
        P0 = np.empty((pk.shape[0], L), np.uint64)
        P1 = np.empty_like(P0)
        if IFMA:
            _seg_rows_ifma(s, pk, pa, ph, pn, cgrp, tabs.T, tabs.nv, tabs.boff, tabs.B0,
                           tabs.B1, tabs.ifma_b(), P0, P1)
        else:
            _seg_rows(s, pk, pa, ph, pn, cgrp, tabs.T, tabs.nv, tabs.boff, tabs.B0,
                      tabs.B1, P0, P1)
        _seg_collect(pk, cgrp, tabs.T, P0, P1, self.aoff, self.A0, self.A1)

    def dots(self, tabs: SegTables, cgrp, ks, X: np.ndarray) -> None:
        """X[k] = `seg_dots`'s sums over claim k's whole block, for k in ``ks`` (whose
        runs are complete), at the pass of ``tabs`` (claim k's group in it: cgrp[k])."""
        ks = np.ascontiguousarray(ks, np.int64)
        if len(ks):
            _seg_fin(ks, np.ascontiguousarray(cgrp, np.int64), tabs.T, tabs.loff, tabs.L0,
                     tabs.L1, self.aoff, self.A0, self.A1, tabs.j, X)


class SegTables:
    """The per-pass tables of `seg_dots` for G distinct claim points: ``points`` (G, ≥ n,
    2) with point g in its first nv[g] rows, pass j with challenges ``rs`` (j, 2); tile
    T_g = min(nv[g], ``tile_vars``), needs j < T_g for every group."""

    def __init__(self, points: np.ndarray, nv, rs: np.ndarray,
                 tile_vars: int = SEG_TILE_VARS):
        points = np.ascontiguousarray(points, np.uint64)
        self.nv = np.ascontiguousarray(nv, np.int64).reshape(-1)
        rs = np.ascontiguousarray(rs, np.uint64).reshape(-1, 2)
        self.j = j = rs.shape[0]
        self.T = np.minimum(self.nv, int(tile_vars)).astype(np.int64)
        if np.any(self.T <= j):
            raise ValueError("SegTables: every point needs more than j tile variables")
        G = self.nv.shape[0]
        self.loff = np.zeros(G + 1, np.int64)
        np.cumsum(np.int64(1) << (self.T - 1), out=self.loff[1:])
        self.boff = np.zeros(G + 1, np.int64)
        np.cumsum(np.int64(1) << (self.nv - self.T), out=self.boff[1:])
        self.L0 = np.empty(int(self.loff[-1]), np.uint64)
        self.L1 = np.empty_like(self.L0)
        self.B0 = np.empty(int(self.boff[-1]), np.uint64)
        self.B1 = np.empty_like(self.B0)
        if G:
            _seg_tables(points, self.nv, self.T, rs if j else np.zeros((1, 2), np.uint64),
                        j, self.loff, self.L0, self.L1, self.boff, self.B0, self.B1)
        self._bc: np.ndarray | None = None

    def ifma_b(self) -> np.ndarray:
        """B's components as (b, b >> 52) a row, (rows, 2, 2) flat: the constants of
        `_seg_rows_ifma` (made once, on first use)."""
        if self._bc is None:
            bc = np.empty((self.B0.shape[0], 2, 2), np.uint64)
            bc[:, 0, 0] = self.B0
            bc[:, 1, 0] = self.B1
            bc[:, :, 1] = bc[:, :, 0] >> np.uint64(52)
            self._bc = bc.reshape(-1)
        return self._bc


def seg_dots(s: np.ndarray, tabs: SegTables, grp, sk, sa, sh, snt, X: np.ndarray) -> None:
    """For each segment e of claim k = sk[e] (group grp[k] of ``tabs``): its block's
    rows sh[e] … sh[e] + snt[e] − 1 (2^T_g base entries each) are s[sa[e] …]; adds to
    X[k] (Q, 4) the pair (Σ_(bit j of y = 0) Z(y)·S(y), Σ_(bit j = 1) Z(y)·S(y)) over
    those entries (y the position in the block), Z(y) = eq(rs, y[:j])·eq(p[j+1:n],
    y[j+1:n]) — the block folded at rs, its even / odd entries' inner products with
    eq(p[j+1:n], ·), unfolded.  Segments longer than `SEG_PIECE` entries are cut in
    pieces (one thread a piece), their sums added per claim at the end."""
    s = _base_table(s, "seg_dots")
    if X.ndim != 2 or X.shape[1] != 4 or X.dtype != np.uint64 or not X.flags.c_contiguous:
        raise ValueError("seg_dots: X must be a contiguous (Q, 4) uint64 array")
    if not len(sk):
        return
    grp = np.ascontiguousarray(grp, np.int64)
    pk, pa, ph, pn = _pieces(tabs, grp, sk, sa, sh, snt)
    Xp = np.empty((pk.shape[0], 4), np.uint64)
    _seg_dots(s, pk, pa, ph, pn, grp, tabs.T, tabs.nv, tabs.loff, tabs.L0, tabs.L1,
              tabs.boff, tabs.B0, tabs.B1, tabs.j, Xp)
    _seg_add(pk, Xp, X)


def seg_dots_ref(s, points, nv, rs, grp, sk, sa, sh, snt, X, tile_vars: int = SEG_TILE_VARS
                 ) -> np.ndarray:
    """`seg_dots` from the definition (Python integers; returns the updated copy of X):
    Z(y) = eq(rs, y[:j])·eq(p[j+1:n], y[j+1:n]) per entry, summed by bit j of y."""
    rs = [(int(a), int(b)) for a, b in np.asarray(rs, np.uint64).reshape(-1, 2)]
    j = len(rs)
    out = [[int(v) for v in row] for row in np.asarray(X)]
    for e in range(len(sk)):
        k = int(sk[e])
        g = int(grp[k])
        n = int(nv[g])
        T = min(n, tile_vars)
        p = [(int(a), int(b)) for a, b in np.asarray(points)[g, :n]]
        q = rs + p[j + 1:n]          # eq's point over the bits other than bit j
        tab = R.eq_expand(q)
        for i in range(int(snt[e]) << T):
            y = (int(sh[e]) << T) + i
            yl = (y & ((1 << j) - 1)) | ((y >> (j + 1)) << j)
            z = tab[yl]
            v = int(np.asarray(s)[int(sa[e]) + i])
            b = 2 * ((y >> j) & 1)
            out[k][b] = (out[k][b] + v * int(z[0])) % P_INT
            out[k][b + 1] = (out[k][b + 1] + v * int(z[1])) % P_INT
    return np.array(out, dtype=np.uint64).reshape(-1, 4)
