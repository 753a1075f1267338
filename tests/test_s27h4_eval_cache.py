"""`mle.evaluate` of base tables reuses the last point's eq tables (s27h4, `_split_eq`):
the same field elements as the plain evaluation (`F.dot` with the full eq table) for
tables evaluated at one point, at alternating points, and at points of other lengths;
edge values 0, 1, p − 1, p − 2."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import mle

P = 0xFFFFFFFF00000001
E = GOLDILOCKS.ext


def _ref(t, r):
    return E.dot(mle.lift(E, t, True), mle.eq_table(E, r))


def _tab(rng, n, kind):
    if kind == "edge":
        return np.array([0, 1, P - 1, P - 2], np.uint64)[rng.integers(0, 4, 1 << n)]
    if kind == "zero":
        return np.zeros(1 << n, np.uint64)
    return rng.integers(0, P, 1 << n, dtype=np.uint64)


def _pt(rng, n, kind):
    if kind == "edge":
        return np.array([0, 1, P - 1, P - 2], np.uint64)[rng.integers(0, 4, (n, 2))]
    return rng.integers(0, P, (n, 2), dtype=np.uint64)


@pytest.mark.parametrize("kind", ["rand", "edge", "zero"])
def test_evaluate_at_shared_and_changing_points(kind):
    rng = np.random.default_rng(7)
    pts = {n: [_pt(rng, n, "rand"), _pt(rng, n, "edge")] for n in (2, 5, 9, 12)}
    seq = [(12, 0), (12, 0), (12, 0), (9, 0), (9, 0), (12, 0), (12, 1), (12, 0), (5, 1),
           (5, 1), (2, 0), (2, 1), (9, 1), (12, 1)]
    for n, k in seq:
        r = pts[n][k]
        for _ in range(2):
            t = _tab(rng, n, kind)
            got = mle.evaluate(E, t, r, base=True)
            assert np.array_equal(np.asarray(got, np.uint64).reshape(2),
                                  np.asarray(_ref(t, r), np.uint64).reshape(2)), (n, k)


def test_a_point_edited_in_place_is_not_served_stale_tables():
    rng = np.random.default_rng(3)
    r = _pt(rng, 10, "rand")
    t = _tab(rng, 10, "rand")
    mle.evaluate(E, t, r, base=True)
    r[3] = (5, 6)          # same array object, new values: a new key
    got = mle.evaluate(E, t, r, base=True)
    assert np.array_equal(np.asarray(got, np.uint64), np.asarray(_ref(t, r), np.uint64))
