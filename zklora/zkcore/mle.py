"""Multilinear extensions of tensors.

Convention (used everywhere): a tensor of shape (d1, …, dk), each di a power of two, is
the table of an MLE on n = Σ log2 di variables over its **row-major flat index**;
variable j binds bit j of the flat index, bit 0 the least significant.  So the point of
an (m × k) matrix is (column bits…, row bits…): the *last* axis owns the *first*
coordinates.  Points are arrays of shape (n,) + elem_shape in the challenge field.

Views (all exact identities of MLEs, checked against brute force in the tests):

* `transpose_point` — X' = X.permute(axes): X̃'(r) = X̃(r permuted back);
* `broadcast_point` — X' broadcast along an axis of size d: X̃'(r) = X̃(r without
  that axis' coordinates) (since Σ over the broadcast bits of eq is 1);
* `rotate_half_terms` — rotate_half on the last axis: a combination of two
  evaluations of X̃ with the top coordinate of the last axis set to 0 and 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import backend as compute
from .field import Field


def log2_exact(n: int) -> int:
    """log2 of a power of two; ValueError otherwise."""
    if n <= 0 or n & (n - 1):
        raise ValueError(f"{n} is not a power of two")
    return n.bit_length() - 1


def num_vars(shape: Sequence[int]) -> int:
    return sum(log2_exact(int(d)) for d in shape)


def axis_vars(shape: Sequence[int]) -> list[range]:
    """For each axis, the range of point coordinates it owns."""
    out: list[range] = []
    pos = 0
    bits = [log2_exact(int(d)) for d in shape]
    starts = {}
    for ax in range(len(shape) - 1, -1, -1):
        starts[ax] = pos
        pos += bits[ax]
    for ax in range(len(shape)):
        out.append(range(starts[ax], starts[ax] + bits[ax]))
    return out


def eq_table(F: Field, r: np.ndarray) -> np.ndarray:
    """eq(r, x) for every x ∈ {0,1}^n, index x with bit j ↔ r_j."""
    if hasattr(F, "eq_table"):
        return F.eq_table(r)
    n = F.shape(r)[0] if F.shape(r) else 0
    out = F.ones(1)
    for j in range(n):
        rj = r[j]
        hi = F.mul(out, rj)
        lo = F.sub(out, hi)
        out = np.concatenate([lo, hi], axis=0)
    return out


def eq_eval(F: Field, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """eq(a, b) = Π_j (a_j b_j + (1 − a_j)(1 − b_j)) for two points."""
    one = F.scalar(1)
    ab = F.mul(a, b)
    t = F.add(F.sub(F.sub(F.add(ab, ab), a), b), one)  # 2ab − a − b + 1
    # the product by pairwise halving: one vector product per level (log2 n calls
    # instead of n; the same value, the field's product being associative)
    t = np.asarray(t)
    n = F.shape(t)[0] if F.shape(t) else 0
    if n == 0:
        return one
    while t.shape[0] > 1:
        h = t.shape[0] // 2
        head = F.mul(np.ascontiguousarray(t[:h]), np.ascontiguousarray(t[h:2 * h]))
        t = np.concatenate([head, t[2 * h:]]) if t.shape[0] & 1 else head
    return F.mul(one, t[0])


def lift(F: Field, t: np.ndarray, base: bool) -> np.ndarray:
    """A flat table as an F-array: ``base=True`` means ``t`` holds prime-field elements."""
    t = np.asarray(t)
    if base:
        flat = t.reshape(-1)
        return F.embed(flat) if F.elem_shape else flat
    return t.reshape((-1,) + F.elem_shape)


def _compute(F: Field):
    """The compute backend serving F's tables (`zklora.zkcore.backend`), or None for a
    field the backends do not implement (BLS12-381: Python-int arithmetic)."""
    return compute.current() if F.name == "goldilocks-ext2" else None


def bind(F: Field, t: np.ndarray, r_prefix: np.ndarray, base: bool = False) -> np.ndarray:
    """Fix the lowest len(r_prefix) variables of the table ``t`` to r_prefix."""
    k = F.shape(r_prefix)[0]
    be = _compute(F)
    if be is None or not k:
        cur = lift(F, t, base)
        for j in range(k):
            cur = F.sc_fold(cur[None], r_prefix[j])[0]
        return cur
    t = np.asarray(t)
    if base:
        cur = be.fold_base(be.borrow(t.reshape(-1)), r_prefix[0])[None]
    else:
        cur = be.sc_fold(be.borrow(t.reshape(1, -1, 2)), r_prefix[0])
    for j in range(1, k):
        cur = be.sc_fold(cur, r_prefix[j])
    return np.asarray(be.to_host(cur), np.uint64).reshape(-1, 2)


#: the last point's eq tables of `evaluate`'s split (key, eq(r_hi, ·), eq(r_lo, ·)),
#: replaced as one tuple: several tensors revealed at one point (`ProverContext.reveal`)
#: build them once
_split_cache: tuple = (None, None, None)


def _split_eq(be, r: np.ndarray, lo: int) -> tuple:
    """(eq(r[lo:], ·), eq(r[:lo], ·)) on backend ``be``, reused while the point and the
    split stay the same (the tables are only read: the same field elements)."""
    global _split_cache
    key = (be.name, lo, np.ascontiguousarray(r, np.uint64).tobytes())
    c = _split_cache
    if c[0] != key:
        c = (key, be.eq_table(r[lo:]), be.eq_table(r[:lo]))
        _split_cache = c
    return c[1], c[2]


def evaluate(F: Field, t: np.ndarray, r: np.ndarray, base: bool = False) -> np.ndarray:
    """t̃(r): the MLE of the flat table ``t`` at r ∈ F^n (``base``: t holds base elements)."""
    n = F.shape(r)[0]
    if base and n >= 2 and type(F).vecmat is not Field.vecmat:
        # base table as a (2^h × 2^l) matrix M, row = high bits: t̃(r) = eq_hiᵀ·M·eq_lo,
        # 2 base products per entry (no lifted copy, no 2^n eq table)
        flat = np.asarray(t).reshape(-1)
        if flat.shape[0] != 1 << n:
            raise ValueError(f"table of {flat.shape[0]} entries evaluated at {n} variables")
        h = min(8, n // 2)
        lo = n - h
        be = _compute(F)
        if be is not None:
            e_hi, e_lo = _split_eq(be, r, lo)
            cols = be.evec_mat(e_hi, be.borrow(flat.reshape(1 << h, 1 << lo)))
            return np.asarray(be.edot(cols, e_lo), np.uint64).reshape(2)
        cols = F.vecmat(eq_table(F, r[lo:]), flat.reshape(1 << h, 1 << lo))
        return F.dot(cols, eq_table(F, r[:lo]))
    flat = lift(F, t, base)
    if F.length(flat) != 1 << n:
        raise ValueError(f"table of {F.length(flat)} entries evaluated at {n} variables")
    be = _compute(F) if n else None
    if be is not None:
        return np.asarray(be.edot(be.borrow(flat), be.eq_table(r)), np.uint64).reshape(2)
    return F.dot(flat, eq_table(F, r))


# -- coordinate views ------------------------------------------------------------------


def transpose_point(shape: Sequence[int], axes: Sequence[int], r: np.ndarray) -> np.ndarray:
    """Point on X for a point r on X.permute(axes) (X has ``shape``)."""
    new_shape = [shape[a] for a in axes]
    new_vars = axis_vars(new_shape)
    old_vars = axis_vars(shape)
    out = np.empty_like(r)
    for new_ax, old_ax in enumerate(axes):
        for k, (i_new, i_old) in enumerate(zip(new_vars[new_ax], old_vars[old_ax])):
            del k
            out[i_old] = r[i_new]
    return out


def broadcast_point(shape: Sequence[int], axis: int, r: np.ndarray) -> np.ndarray:
    """Point on X for a point r on X broadcast along ``axis``.

    ``shape`` is the broadcast (output) shape; X has size 1 on ``axis``.  The
    coordinates of that axis are dropped.
    """
    drop = set(axis_vars(shape)[axis])
    keep = [i for i in range(len(r)) if i not in drop]
    return r[keep]


def rotate_half_terms(F: Field, shape: Sequence[int], r: np.ndarray
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """rotate_half(X) on the last axis (out[..j] = −X[..j+h] for j<h, X[..j−h] for j≥h):

    returns [(coeff, point)] with  rotate_half(X)~(r) = Σ coeff · X̃(point).
    The last axis owns coordinates 0..b−1; its top bit is coordinate b−1.
    """
    b = log2_exact(int(shape[-1]))
    if b == 0:
        raise ValueError("rotate_half needs an even last axis")
    top = b - 1
    one = F.scalar(1)
    rt = r[top]
    # out~(r) = Σ_y eq(r', y)(1 − 2 y_top) X(y), r' = r with r_top → 1 − r_top
    # = (1 − r'_top)·X̃(r'|top=0) − r'_top·X̃(r'|top=1) = r_top·X̃(..0..) − (1 − r_top)·X̃(..1..)
    p0 = r.copy()
    p0[top] = F.scalar(0)
    p1 = r.copy()
    p1[top] = one
    return [(rt, p0), (F.neg(F.sub(one, rt)), p1)]
