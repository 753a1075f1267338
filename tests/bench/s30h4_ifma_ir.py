"""IFMA52 reduced goldilocks-ext2 lane products as llvmlite intrinsics (s30h4 bench
prototype; not a kernel).  ``e2_ifma(mode, mac)``: Z = X·Y (or Z += X·Y) over 8·n8 lanes
of component arrays; mode 0 = Karatsuba (3 base products, each 7 vpmadd52 + a 128-bit
reduction), mode 1 = schoolbook limb sums (28 vpmadd52, 2 reductions)."""

from __future__ import annotations

import llvmlite.ir as ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

P = 0xFFFFFFFF00000001
EPS = 0xFFFFFFFF
L8 = 8


class V:
    """Vector helpers over <8 x i64> for one builder."""

    def __init__(self, builder):
        self.b = builder
        self.i64 = ir.IntType(64)
        self.vt = ir.VectorType(self.i64, L8)
        fnty = ir.FunctionType(self.vt, [self.vt] * 3)
        m = builder.module
        self.mlo = m.declare_intrinsic("llvm.x86.avx512.vpmadd52l.uq.512", (), fnty)
        self.mhi = m.declare_intrinsic("llvm.x86.avx512.vpmadd52h.uq.512", (), fnty)
        self.zero = self.c(0)

    def c(self, x):
        return ir.Constant(self.vt, [x] * L8)

    def add(self, a, b):
        return self.b.add(a, b)

    def sub(self, a, b):
        return self.b.sub(a, b)

    def shl(self, a, k):
        return self.b.shl(a, self.c(k))

    def shr(self, a, k):
        return self.b.lshr(a, self.c(k))

    def ult(self, a, b):
        return self.b.icmp_unsigned("<", a, b)

    def sel(self, m, x, y):
        return self.b.select(m, x, y)

    def gadd(self, a, b):
        s = self.add(a, b)
        s = self.sel(self.ult(s, a), self.add(s, self.c(EPS)), s)
        return self.sel(self.ult(s, self.c(P)), s, self.sub(s, self.c(P)))

    def gsub(self, a, b):
        d = self.sub(a, b)
        return self.sel(self.ult(a, b), self.sub(d, self.c(EPS)), d)

    def mul7(self, a):
        x = self.shr(a, 61)
        t = self.sub(self.shl(x, 32), x)
        r = self.add(self.shl(a, 3), t)
        r = self.sel(self.ult(r, t), self.add(r, self.c(EPS)), r)
        r = self.sel(self.ult(r, self.c(P)), r, self.sub(r, self.c(P)))
        return self.gsub(r, a)

    def red128(self, hi, lo):
        hh = self.shr(hi, 32)
        hl = self.b.and_(hi, self.c(0xFFFFFFFF))
        t0 = self.sub(lo, hh)
        t0 = self.sel(self.ult(lo, hh), self.sub(t0, self.c(EPS)), t0)
        t1 = self.sub(self.shl(hl, 32), hl)
        r = self.add(t0, t1)
        r = self.sel(self.ult(r, t1), self.add(r, self.c(EPS)), r)
        return self.sel(self.ult(r, self.c(P)), r, self.sub(r, self.c(P)))

    def limbs(self, L, a, a1, b, b1):
        """L (3 limb vectors, weights 1, 2^52, 2^104) += a·b."""
        L0, L1, L2 = L
        c = self.b.call
        L0 = c(self.mlo, [L0, a, b])
        L1 = c(self.mhi, [L1, a, b])
        L1 = c(self.mlo, [L1, a, b1])
        L1 = c(self.mlo, [L1, a1, b])
        L2 = c(self.mhi, [L2, a, b1])
        L2 = c(self.mhi, [L2, a1, b])
        L2 = c(self.mlo, [L2, a1, b1])
        return [L0, L1, L2]

    def fin(self, L, wide):
        """L0 + L1·2^52 + L2·2^104 mod p (L2·2^40 may pass 2^64 when ``wide``)."""
        L0, L1, L2 = L
        lo = self.add(L0, self.shl(L1, 52))
        c1 = self.b.zext(self.ult(lo, L0), self.vt)
        m = self.shl(L2, 40)
        hi = self.add(self.shr(L1, 12), m)
        if not wide:
            return self.red128(self.add(hi, c1), lo)
        c2 = self.b.zext(self.ult(hi, m), self.vt)
        hi2 = self.add(hi, c1)
        c3 = self.b.zext(self.ult(hi2, hi), self.vt)
        top = self.add(self.add(self.shr(L2, 24), c2), c3)
        return self.gsub(self.red128(hi2, lo), self.shl(top, 32))

    def mul(self, a, b):
        z = self.zero
        return self.fin(self.limbs([z, z, z], a, self.shr(a, 52), b, self.shr(b, 52)), False)


def e2_ifma(mode: int, mac: bool):
    def codegen(context, builder, sig, args):
        v = V(builder)
        ptrs = [context.make_array(sig.args[k])(context, builder, args[k]).data
                for k in range(6)]
        n8 = args[6]
        with cgutils.for_range(builder, n8) as loop:
            off = builder.mul(loop.index, ir.Constant(v.i64, L8))

            def vp(k):
                return builder.bitcast(builder.gep(ptrs[k], [off]), v.vt.as_pointer())

            a0, a1, b0, b1 = (builder.load(vp(k), align=8) for k in range(4))
            if mode == 0:
                m0 = v.mul(a0, b0)
                m1 = v.mul(a1, b1)
                m2 = v.mul(v.gadd(a0, a1), v.gadd(b0, b1))
                c0 = v.gadd(m0, v.mul7(m1))
                c1 = v.gsub(v.gsub(m2, m0), m1)
            else:
                z = v.zero
                h = [v.shr(x, 52) for x in (a0, a1, b0, b1)]
                b17 = v.mul7(b1)
                L = v.limbs([z, z, z], a0, h[0], b0, h[2])
                L = v.limbs(L, a1, h[1], b17, v.shr(b17, 52))
                c0 = v.fin(L, True)
                L = v.limbs([z, z, z], a0, h[0], b1, h[3])
                L = v.limbs(L, a1, h[1], b0, h[2])
                c1 = v.fin(L, True)
            if mac:
                c0 = v.gadd(builder.load(vp(4), align=8), c0)
                c1 = v.gadd(builder.load(vp(5), align=8), c1)
            builder.store(c0, vp(4), align=8)
            builder.store(c1, vp(5), align=8)
        return context.get_dummy_value()

    def _e2(typingctx, X0, X1, Y0, Y1, Z0, Z1, n8):
        return types.void(X0, X1, Y0, Y1, Z0, Z1, types.int64), codegen

    _e2.__name__ = f"_e2_ifma_{mode}_{int(mac)}"
    return intrinsic(_e2)


_I = {(m, mac): e2_ifma(m, mac) for m in (0, 1) for mac in (False, True)}


def get(mode: int, mac: bool):
    return _I[(mode, mac)]
