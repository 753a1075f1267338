"""s30h4: the eq-factored rounds' weighted first factors (`sumcheck._blocks` with ``wf``,
`sumcheck.eq_plan`): a term that starts from w·f (made once a pair, the points by
additions) gives the same round sums as w multiplied in at every point (``wf`` all −1,
the former path) and as the Python twin `ref_eq_round`: the op groups' zero-check
shapes (single-factor terms, a repeated factor, a three-factor term, an empty term),
base and extension tables, every choice of the weighted factor, npts 1-3, edge values,
pair counts around the block size, serial and parallel; `eq_step` likewise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.kernels import sumcheck as KS
from zklora.zkcore.sumcheck import _inv_den_array

P = K.P_INT
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)
#: the zero-check of a tiny prove (16 tables with eq; eq left out), and a short one
ZC = [(0, 1), (0, 2), (3,), (4,), (5,), (6,), (7,), (0, 8, 9), (0,), (6, 10), (11,), (12,),
      (13,), (14, 14), (0, 14), (14, 1), (14, 2), ()]
SHORT = [(0, 1), (1,), (), (2, 2), (0, 2, 1), (2,)]


def _terms(terms, isb):
    starts = np.cumsum([0] + [len(t) for t in terms]).astype(np.int64)
    fa = [f for t in terms for f in sorted(t, key=lambda f: not isb[f])]  # base first
    return starts, np.array(fa, np.int64)


def _case(rng, terms, k, m, base, edge):
    isb = np.zeros(k, np.bool_)
    isb[list(base)] = True
    st = rng.integers(0, P, size=(k, 2 * m, 2), dtype=np.uint64)
    w = rng.integers(0, P, size=(m, 2), dtype=np.uint64)
    if edge:
        st = EDGE[rng.integers(0, 4, size=st.shape)]
        w = EDGE[rng.integers(0, 4, size=w.shape)]
    st[isb, :, 1] = 0
    starts, fa = _terms(terms, isb)
    coeffs = rng.integers(0, P, size=(len(terms), 2), dtype=np.uint64)
    coeffs[0] = [P - 1, P - 2]
    return st, w, isb, starts, fa, coeffs


def _sums(st, w, isb, starts, fa, coeffs, deg, plan):
    sc = np.array([3, 5], np.uint64)
    ej = np.array([[7, 1], [P - 2, 4]], np.uint64)
    run = np.array([11, 13], np.uint64)
    g = np.empty((deg + 1, 2), np.uint64)
    KS.eq_sums(st, w, isb, starts, fa, coeffs, deg, run, sc, ej, g, plan=plan)
    return g, (run, sc, ej)


def _none(starts, fa):
    return fa, np.full(len(starts) - 1, -1, np.int64)


def _forced(terms, starts, fa, isb, pick):
    """A plan with term j weighted by pick[j] (−1: not weighted)."""
    fa2 = fa.copy()
    for j, t in enumerate(terms):
        if pick[j] >= 0:
            rest = list(t)
            rest.remove(pick[j])
            fa2[starts[j]:starts[j + 1]] = [pick[j], *rest]
    return fa2, np.array(pick, np.int64)


@pytest.mark.parametrize("deg", [2, 3, 4])
@pytest.mark.parametrize("m,base,edge", [(5, (), True), (33, (0, 3, 14), False),
                                         (64, tuple(range(15)), True), (700, (1, 6), False)])
def test_zero_check_plan_matches_old_path_and_twin(deg, m, base, edge):
    rng = np.random.default_rng(deg * 1000 + m)
    st, w, isb, starts, fa, coeffs = _case(rng, ZC, 15, m, base, edge)
    plan = KS.eq_plan(starts, fa, isb, deg)
    if deg >= 3:
        assert (plan[1] >= 0).any()   # the shape takes the new path
    g_new, ctx = _sums(st, w, isb, starts, fa, coeffs, deg, plan)
    g_old, _ = _sums(st, w, isb, starts, fa, coeffs, deg, _none(starts, fa))
    assert np.array_equal(g_new, g_old)
    if m <= 64:
        run, sc, ej = ctx
        want = KS.ref_eq_round(st, w, starts, fa, coeffs, deg, run, sc, ej)
        # g(0) and g(2..d−1) are summed directly (g(d) extrapolates from the claim)
        assert np.array_equal(g_new[0], want[0]) and np.array_equal(g_new[2:deg], want[2:deg])


def test_plan_is_a_reordering():
    for isb in (np.zeros(15, np.bool_), np.ones(15, np.bool_)):
        for deg in (2, 3, 4):
            starts, fa = _terms(ZC, isb)
            fa2, wf = KS.eq_plan(starts, fa, isb, deg)
            for j in range(len(ZC)):
                a, b = starts[j], starts[j + 1]
                assert sorted(fa2[a:b]) == sorted(fa[a:b])
                if wf[j] >= 0:
                    assert fa2[a] == wf[j]
                else:
                    assert list(fa2[a:b]) == list(fa[a:b])
    # one term, degree 3, extension: w·A·B costs the same either way: not weighted
    starts, fa = _terms([(0, 1)], np.zeros(2, np.bool_))
    assert KS.eq_plan(starts, fa, np.zeros(2, np.bool_), 3)[1].tolist() == [-1]
    # single-factor terms at degree 4: weighted
    starts, fa = _terms([(0,), (1,)], np.zeros(2, np.bool_))
    assert KS.eq_plan(starts, fa, np.zeros(2, np.bool_), 4)[1].tolist() == [0, 1]


@pytest.mark.parametrize("base", [(), (0,), (1, 2), (0, 1, 2)])
@pytest.mark.parametrize("deg", [2, 4])
def test_every_weighted_choice(base, deg):
    """Each term weighted by each of its factors (or not), base or extension first."""
    rng = np.random.default_rng(len(base) * 10 + deg)
    st, w, isb, starts, fa, coeffs = _case(rng, SHORT, 3, 37, base, True)
    g_old, ctx = _sums(st, w, isb, starts, fa, coeffs, deg, _none(starts, fa))
    opts = [[-1, *sorted(set(t))] for t in SHORT]
    for pick in itertools.product(*opts):
        plan = _forced(SHORT, starts, fa, isb, list(pick))
        g, _ = _sums(st, w, isb, starts, fa, coeffs, deg, plan)
        assert np.array_equal(g, g_old), pick


@pytest.mark.parametrize("m", [40, 1 << 10])
def test_eq_step_plan_matches_old_path(m):
    rng = np.random.default_rng(m)
    deg = 4
    st, w, isb, starts, fa, coeffs = _case(rng, ZC, 15, 2 * m, (2, 5, 14), False)
    w2 = rng.integers(0, P, size=(m, 2), dtype=np.uint64)
    noflag = np.zeros(15, np.bool_)
    res = []
    for plan in (KS.eq_plan(starts, fa, noflag, deg), _none(starts, fa)):
        g = rng.integers(0, P, size=(deg + 1, 2), dtype=np.uint64) if not res else res[0][5]
        g = g.copy()
        g0 = g.copy()
        out = np.empty((15, 2 * m, 2), np.uint64)
        msg = np.empty((deg, 2), np.uint64)
        run = np.empty(2, np.uint64)
        sc = np.array([3, 5], np.uint64)
        ep = np.array([[2, 1], [P - 1, 9]], np.uint64)
        ej = np.array([[7, 1], [P - 2, 4]], np.uint64)
        flag = KS.eq_step(st, np.array([17, P - 3], np.uint64), out, w2, noflag, starts, fa,
                          coeffs, deg, _inv_den_array(deg), g, msg, run, sc, ep, ej, isb,
                          plan=plan)
        res.append((flag, out, g, msg, run, g0, sc))
    (f1, o1, g1, m1, r1, _, s1), (f2, o2, g2, m2, r2, _, s2) = res
    assert f1 == f2 and np.array_equal(o1, o2) and np.array_equal(g1, g2)
    assert np.array_equal(m1, m2) and np.array_equal(r1, r2) and np.array_equal(s1, s2)
    assert (KS.eq_plan(starts, fa, noflag, deg)[1] >= 0).any()
