"""`whir._mobius_hi` (two variables a sweep, `_sub_run4`, s19h6) against its twin
`_mobius_hi_ref` (one sweep a variable), the serial `_mobius_ser` and the Python
`mobius_ref`: edge values (0, 1, p−1, p−2), random, even and odd pass counts, runs
shorter and longer than MOBIUS_RUN, every start variable j0."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _tab(rng, N, kind):
    if kind == "random":
        return rng.integers(0, P_INT, size=N, dtype=np.uint64)
    if kind == "edge":
        return EDGE[rng.integers(0, 4, size=N)]
    if kind == "pm1":
        return np.full(N, P_INT - 1, dtype=np.uint64)
    if kind == "one":
        return np.ones(N, dtype=np.uint64)
    return np.zeros(N, dtype=np.uint64)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 11, 14])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1", "one", "zero"])
def test_mobius_hi_matches_twin(n, kind):
    rng = np.random.default_rng(n * 17 + len(kind))
    a = _tab(rng, 1 << n, kind)
    for j0 in range(n + 1):
        x = a.copy()
        y = a.copy()
        whir._mobius_hi_ref(x, j0, n)
        whir._mobius_hi(y, j0, n)
        assert np.array_equal(x, y), j0
    full = a.copy()
    whir._mobius_hi(full, 0, n)
    ser = a.copy()
    whir._mobius_ser(ser, n)
    assert np.array_equal(full, ser)
    if n <= 11:
        assert full.tolist() == whir.mobius_ref(a)


@pytest.mark.parametrize("n,j0", [(15, 12), (16, 12), (17, 12), (18, 13), (15, 0), (14, 1)])
def test_mobius_hi_long_runs(n, j0):
    """h ≥ MOBIUS_RUN: the runs split into pieces."""
    rng = np.random.default_rng(n * 3 + j0)
    a = _tab(rng, 1 << n, "random")
    a[: 1 << 10] = P_INT - 1
    a[-(1 << 10):] = P_INT - 2
    x = a.copy()
    y = a.copy()
    whir._mobius_hi_ref(x, j0, n)
    whir._mobius_hi(y, j0, n)
    assert np.array_equal(x, y)


def test_mobius_public():
    rng = np.random.default_rng(9)
    for n in (10, 14, 15, 17):
        a = _tab(rng, 1 << n, "random")
        a[:64] = EDGE[np.arange(64) % 4]
        ser = a.copy()
        whir._mobius_ser(ser, n)
        assert np.array_equal(whir.mobius(a), ser)
        hi = a.copy()
        whir.mobius_high(hi, 12)
        ref = a.copy()
        whir._mobius_hi_ref(ref, min(12, n), n)
        assert np.array_equal(hi, ref)
