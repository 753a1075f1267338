"""`whir._mobius_hi8` (three / four variables a sweep: `_sub_run8`, `_sub_run16`, s39h2)
against its twin `_mobius_hi_ref` (one sweep a variable), the Python `mobius_ref`, and
the old `_mobius_hi`: every start variable j0 and every plan (sweeps of 1-4 variables,
the `mobius_plan` default included), edge values (0, 1, p−1, p−2), runs shorter and
longer than MOBIUS_RUN, the prove shapes; `mobius`, `mobius_pairs`, `mobius_high`
through it against the Python reference."""

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
    return np.full(N, P_INT - 1, dtype=np.uint64)


def _plans(nvar):
    """Every composition of nvar into parts 1-4 (short ones), plus the default."""
    out = [[]] if nvar == 0 else []
    for p in range(1, min(4, nvar) + 1):
        out += [[p] + rest for rest in _plans(nvar - p)]
    return out


def test_plan_default():
    for j0 in range(0, 14):
        for n in range(j0, 26):
            plan = whir.mobius_plan(j0, n)
            assert int(plan.sum()) == n - j0
            assert all(1 <= int(v) <= 4 for v in plan)
            if 4 in plan.tolist():
                assert plan[0] == 4 and (1 << j0) < whir.MOBIUS_V4_BELOW
    assert whir.mobius_plan(7, 20).tolist() == [4, 3, 3, 3]
    assert whir.mobius_plan(8, 20).tolist() == [3, 3, 3, 3]
    assert whir.mobius_plan(9, 20).tolist() == [3, 3, 3, 2]
    assert whir.mobius_plan(12, 22).tolist() == [3, 3, 3, 1]


@pytest.mark.parametrize("n", [1, 3, 6, 8])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1"])
def test_hi8_every_plan(n, kind):
    rng = np.random.default_rng(n * 7 + len(kind))
    a = _tab(rng, 1 << n, kind)
    ref = whir.mobius_ref(a)
    for j0 in range(n + 1):
        x = a.copy()
        whir._mobius_hi_ref(x, j0, n)
        plans = _plans(n - j0)
        if len(plans) > 40:
            plans = plans[:20] + plans[-20:]
        for plan in plans + [whir.mobius_plan(j0, n).tolist()]:
            y = a.copy()
            whir._mobius_hi8(y, j0, np.array(plan, dtype=np.int64))
            assert np.array_equal(x, y), (j0, plan)
    full = a.copy()
    whir._mobius_hi8(full, 0, whir.mobius_plan(0, n))
    assert full.tolist() == ref


@pytest.mark.parametrize("n,j0", [(15, 12), (17, 12), (18, 13), (16, 0), (15, 1), (20, 7),
                                  (20, 8), (20, 9), (14, 4)])
def test_hi8_long_runs_and_prove_shapes(n, j0):
    """h ≥ MOBIUS_RUN (runs split into pieces) and the 25m / 84m `mobius_high` shapes
    (2^20 words, j0 = 7, 8, 9), against the old `_mobius_hi` and the twin."""
    rng = np.random.default_rng(n * 3 + j0)
    a = _tab(rng, 1 << n, "random")
    a[: 1 << 10] = P_INT - 1
    a[-(1 << 10):] = P_INT - 2
    x = a.copy()
    whir._mobius_hi_ref(x, j0, n)
    old = a.copy()
    whir._mobius_hi(old, j0, n)
    assert np.array_equal(x, old)
    for plan in (whir.mobius_plan(j0, n), np.array([4] * ((n - j0) // 4) + [1] * ((n - j0) % 4),
                                                    dtype=np.int64)):
        y = a.copy()
        whir._mobius_hi8(y, j0, plan)
        assert np.array_equal(x, y), plan.tolist()
    z = a.copy()
    whir.mobius_high(z, j0)
    assert np.array_equal(x, z)


@pytest.mark.parametrize("n", [14, 15, 16, 17])
def test_mobius_and_pairs_through_hi8(n):
    rng = np.random.default_rng(n)
    t = _tab(rng, 1 << n, "random")
    t[:64] = P_INT - 1
    x = t.copy()
    whir._mobius_hi_ref(x, 0, n)
    assert np.array_equal(whir.mobius(t), x)
    assert np.array_equal(whir.mobius(t[::1]), x)
    e = rng.integers(0, P_INT, size=(1 << n, 2), dtype=np.uint64)
    pr = whir.mobius_pairs(e)
    for c in range(2):
        y = np.ascontiguousarray(e[:, c])
        whir._mobius_hi_ref(y, 0, n)
        assert np.array_equal(pr[:, c], y)
    if n == 14:
        assert whir.mobius(t).tolist() == whir.mobius_ref(t)
