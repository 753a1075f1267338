"""Structured public tensors: public tensors whose MLE has a closed form, so that the
verifier evaluates a claim on them in O(log size) without materialising them (a hostile
statement's seq = 2^15 would otherwise mean a 2^30-entry causal mask).

`Structured` describes one (shape, canonical description, closed-form MLE, and the
materialised values for the prover, built only on demand).  `causal_mask` is the
lower-triangular 0/1 mask of causal attention: mask[i, j] = 1 iff j ≤ i.

MLE convention (§3.2): the flat index is row-major and variable k is bit k of the flat
index, so for a (T, T) tensor the column index j owns variables 0..t−1 and the row
index i variables t..2t−1 (T = 2^t).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np
import torch

from .field import Field
from .mle import log2_exact


@attrs.frozen
class Structured:
    """A public tensor given by a rule: ``evaluate(E, point)`` is its MLE (closed form),
    ``materialise()`` its int64 values (prover side, or tests), ``describe`` a canonical
    description that determines it (absorbed instead of a hash of the values)."""

    shape: tuple[int, ...]
    describe: str
    evaluate: Callable[[Field, np.ndarray], np.ndarray]
    materialise: Callable[[], torch.Tensor]


def lower_triangle_mle(E: Field, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Σ_{j ≤ i} eq(col, j)·eq(row, i) for points col, row ∈ E^t, in O(t).

    Scanning bits from the least significant up, ``le`` is the weight of the pairs
    whose low bits compare as j ≤ i: at bit k the pair (j_k, i_k) decides the
    comparison when the bits differ (j_k = 0 < i_k = 1: j < i, weight (1 − x)·y with
    x = col_k, y = row_k; the lower bits then sum to weight 1) and keeps it when they
    are equal (weight (1 − x)(1 − y) + x·y)."""
    one = E.scalar(1)
    le = one
    t = E.shape(col)[0] if E.shape(col) else 0
    for k in range(t):
        x, y = col[k], row[k]
        nx, ny = E.sub(one, x), E.sub(one, y)
        same = E.add(E.mul(nx, ny), E.mul(x, y))
        le = E.add(E.mul(nx, y), E.mul(same, le))
    return le


def causal_mask(T: int) -> Structured:
    """The (T, T) causal mask (1 on and below the diagonal) with its closed-form MLE."""
    t = log2_exact(int(T))

    def evaluate(E: Field, point: np.ndarray) -> np.ndarray:
        if E.shape(point) != (2 * t,):
            raise ValueError(f"causal mask of {T}×{T} evaluated at {E.shape(point)} variables")
        return lower_triangle_mle(E, point[:t], point[t:])

    def materialise() -> torch.Tensor:
        return torch.tril(torch.ones(T, T, dtype=torch.int64))

    return Structured((T, T), f"causal_mask({T})", evaluate, materialise)


def prefix_mle(E: Field, point: np.ndarray, d: int) -> np.ndarray:
    """Σ_{j < d} eq(point, j) for a point in E^n (0 ≤ d ≤ 2^n), in O(n).

    Scanning bits from the least significant up, ``lt`` is the weight of the low bits
    of j comparing below d's low bits: where d has bit 1, j_k = 0 decides j < d (the
    lower bits sum to weight 1) and j_k = 1 keeps the comparison; where d has bit 0,
    j_k = 0 keeps it and j_k = 1 decides j > d."""
    n = E.shape(point)[0] if E.shape(point) else 0
    if not 0 <= d <= (1 << n):
        raise ValueError(f"prefix length {d} outside [0, 2^{n}]")
    one = E.scalar(1)
    if d == 1 << n:
        return one
    lt = E.scalar(0)
    for k in range(n):
        x = point[k]
        if (d >> k) & 1:
            lt = E.add(E.sub(one, x), E.mul(x, lt))
        else:
            lt = E.mul(E.sub(one, x), lt)
    return lt


def prefix_mask(shape: tuple[int, ...], true_shape: tuple[int, ...]) -> Structured:
    """The 0/1 tensor of ``shape`` (powers of two) that is 1 exactly on the indices
    inside ``true_shape`` (index i with i_a < true_shape[a] on every axis a): the
    product of one prefix indicator per axis, so its MLE is the product of
    `prefix_mle` on each axis' coordinates."""
    shape, true_shape = tuple(int(d) for d in shape), tuple(int(d) for d in true_shape)
    if len(shape) != len(true_shape) or any(not 0 <= t <= d for t, d in
                                             zip(true_shape, shape, strict=True)):
        raise ValueError(f"prefix mask {true_shape} does not fit in {shape}")
    bits = [log2_exact(d) for d in shape]
    n = sum(bits)

    def evaluate(E: Field, point: np.ndarray) -> np.ndarray:
        if E.shape(point) != (n,):
            raise ValueError(f"prefix mask of {shape} evaluated at {E.shape(point)} variables")
        out = E.scalar(1)
        pos = 0
        for ax in range(len(shape) - 1, -1, -1):  # the last axis owns the first coordinates
            out = E.mul(out, prefix_mle(E, point[pos:pos + bits[ax]], true_shape[ax]))
            pos += bits[ax]
        return out

    def materialise() -> torch.Tensor:
        m = torch.zeros(shape, dtype=torch.int64)
        m[tuple(slice(0, t) for t in true_shape)] = 1
        return m

    return Structured(shape, f"prefix_mask({list(shape)},{list(true_shape)})", evaluate,
                      materialise)
