"""Pure-Python twins of the Goldilocks kernels in `zklora.kernels.goldilocks`.

Slow and obviously correct: every function works on Python ints modulo p and is
checked against the numba kernel of the same name by ``tests/test_fields.py``.  Vector
twins take numpy arrays and *return* their result (the kernels write into ``out``);
the serial ``*_s`` kernels share the twin of their parallel kernel.
Extension elements are pairs (a0, a1) meaning a0 + a1·x in F_p[x]/(x² − 7).
"""

from __future__ import annotations

import numpy as np

P = 0xFFFFFFFF00000001
W = 7  # x² = W


def _u64(vals) -> np.ndarray:
    return np.array([int(v) for v in vals], dtype=np.uint64)


def _e(vals) -> np.ndarray:
    return np.array([[int(v0), int(v1)] for v0, v1 in vals], dtype=np.uint64).reshape(-1, 2)


# --- scalars ------------------------------------------------------------------------


def gl_add(a: int, b: int) -> int:
    return (int(a) + int(b)) % P


def gl_sub(a: int, b: int) -> int:
    return (int(a) - int(b)) % P


def gl_neg(a: int) -> int:
    return -int(a) % P


def gl_reduce128(hi: int, lo: int) -> int:
    return ((int(hi) << 64) + int(lo)) % P


def gl_mul(a: int, b: int) -> int:
    return int(a) * int(b) % P


def gl_mul7(a: int) -> int:
    return 7 * int(a) % P


def gl_pow(a: int, e: int) -> int:
    return pow(int(a), int(e), P)


def gl_inv(a: int) -> int:
    if int(a) % P == 0:
        raise ZeroDivisionError("inverse of zero")
    return pow(int(a), P - 2, P)


def e2_mul(a0: int, a1: int, b0: int, b1: int) -> tuple[int, int]:
    a0, a1, b0, b1 = int(a0), int(a1), int(b0), int(b1)
    return (a0 * b0 + W * a1 * b1) % P, (a0 * b1 + a1 * b0) % P


def e2_inv(a0: int, a1: int) -> tuple[int, int]:
    norm = (int(a0) ** 2 - W * int(a1) ** 2) % P
    ni = gl_inv(norm)
    return int(a0) * ni % P, -int(a1) * ni % P


# --- base vectors -------------------------------------------------------------------


def vadd(a, b):
    return _u64(gl_add(x, y) for x, y in zip(a, b))


def vsub(a, b):
    return _u64(gl_sub(x, y) for x, y in zip(a, b))


def vmul(a, b):
    return _u64(gl_mul(x, y) for x, y in zip(a, b))


def vneg(a):
    return _u64(gl_neg(x) for x in a)


def vreduce(a):
    return _u64(int(x) % P for x in a)


def vsum(a) -> int:
    return sum(int(x) for x in a) % P


def vdot(a, b) -> int:
    return sum(int(x) * int(y) for x, y in zip(a, b)) % P


def vinv(a):
    """Inverses, or the index of the first zero (as the kernel returns it)."""
    for i, x in enumerate(a):
        if int(x) == 0:
            return i
    return _u64(gl_inv(x) for x in a)


# --- extension vectors --------------------------------------------------------------


def eadd(a, b):
    return _e((gl_add(x[0], y[0]), gl_add(x[1], y[1])) for x, y in zip(a, b))


def esub(a, b):
    return _e((gl_sub(x[0], y[0]), gl_sub(x[1], y[1])) for x, y in zip(a, b))


def emul(a, b):
    return _e(e2_mul(x[0], x[1], y[0], y[1]) for x, y in zip(a, b))


def emul_scalar(a, s0, s1):
    return _e(e2_mul(x[0], x[1], s0, s1) for x in a)


def emul_base(a, b):
    return _e((gl_mul(x[0], y), gl_mul(x[1], y)) for x, y in zip(a, b))


def esum(a):
    return _e([(sum(int(x[0]) for x in a) % P, sum(int(x[1]) for x in a) % P)])[0]


def edot(a, b):
    s0 = s1 = 0
    for x, y in zip(a, b):
        c0, c1 = e2_mul(x[0], x[1], y[0], y[1])
        s0 += c0
        s1 += c1
    return _e([(s0 % P, s1 % P)])[0]


def einv(a):
    """Inverses, or the index of the first zero."""
    for i, x in enumerate(a):
        if int(x[0]) == 0 and int(x[1]) == 0:
            return i
    return _e(e2_inv(x[0], x[1]) for x in a)


def eq_expand(r):
    """eq(r, x) for x ∈ {0,1}^n, bit j of x ↔ r_j, straight from the definition."""
    n = len(r)
    out = []
    for x in range(1 << n):
        v = (1, 0)
        for j in range(n):
            r0, r1 = int(r[j][0]), int(r[j][1])
            f = (r0, r1) if (x >> j) & 1 else ((1 - r0) % P, -r1 % P)
            v = e2_mul(v[0], v[1], f[0], f[1])
        out.append(v)
    return _e(out)


def e_interpolate(g, r0: int, r1: int):
    """Lagrange interpolation through (i, g[i]), i = 0..d, evaluated at r."""
    d = len(g) - 1
    acc = (0, 0)
    for i in range(d + 1):
        num = (1, 0)
        den = 1
        for j in range(d + 1):
            if j != i:
                num = e2_mul(num[0], num[1], (int(r0) - j) % P, r1)
                den = den * (i - j) % P
        di = gl_inv(den)
        c = e2_mul(int(g[i][0]), int(g[i][1]), num[0] * di % P, num[1] * di % P)
        acc = ((acc[0] + c[0]) % P, (acc[1] + c[1]) % P)
    return _e([acc])[0]


# --- sumcheck -------------------------------------------------------------------------


def e_sc_round(stack, starts, factors, coeffs, degree):
    """g(t) = Σ_i Σ_j coeffs[j] Π_{f ∈ term j} (lo_f + t (hi_f − lo_f)), t = 0..degree."""
    m = stack.shape[1] // 2
    out = []
    for t in range(degree + 1):
        s0 = s1 = 0
        for i in range(m):
            for j in range(len(starts) - 1):
                p = (int(coeffs[j][0]), int(coeffs[j][1]))
                for q in range(int(starts[j]), int(starts[j + 1])):
                    f = int(factors[q])
                    lo = stack[f, 2 * i]
                    hi = stack[f, 2 * i + 1]
                    v = ((int(lo[0]) + t * (int(hi[0]) - int(lo[0]))) % P,
                         (int(lo[1]) + t * (int(hi[1]) - int(lo[1]))) % P)
                    p = e2_mul(p[0], p[1], v[0], v[1])
                s0 += p[0]
                s1 += p[1]
        out.append((s0 % P, s1 % P))
    return _e(out)


def e_sc_fold(stack, r0: int, r1: int):
    """out[f, i] = lo + r (hi − lo) for every table f."""
    k, two_m = stack.shape[0], stack.shape[1]
    out = np.zeros((k, two_m // 2, 2), dtype=np.uint64)
    for f in range(k):
        for i in range(two_m // 2):
            lo, hi = stack[f, 2 * i], stack[f, 2 * i + 1]
            d = (gl_sub(hi[0], lo[0]), gl_sub(hi[1], lo[1]))
            p = e2_mul(d[0], d[1], r0, r1)
            out[f, i] = (gl_add(lo[0], p[0]), gl_add(lo[1], p[1]))
    return out


def e_fold_base(table, r0: int, r1: int):
    """Bind the lowest variable of a base table to r: lo + r (hi − lo)."""
    out = []
    for i in range(len(table) // 2):
        lo, hi = int(table[2 * i]), int(table[2 * i + 1])
        d = (hi - lo) % P
        out.append(((lo + d * int(r0)) % P, d * int(r1) % P))
    return _e(out)


def e_vecmat_base(e, M):
    """out[j] = Σ_i e[i] · M[i, j] (extension vector × base matrix)."""
    R, C = M.shape
    out = []
    for j in range(C):
        s0 = sum(int(e[i][0]) * int(M[i, j]) for i in range(R)) % P
        s1 = sum(int(e[i][1]) * int(M[i, j]) for i in range(R)) % P
        out.append((s0, s1))
    return _e(out)
