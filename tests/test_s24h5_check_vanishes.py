"""s24h5: the zero-checks' prover self-check `relations._check_vanishes`, evaluated a chunk
at a time, against the whole-table evaluation it replaced (the twin below): the same
verdict and the same first failing index, with broadcast tables (low and high), a
coefficient 1 and other coefficients, constant terms, and chunks smaller and larger than
the tables."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import Goldilocks
from zklora.zkcore import relations as RL
from zklora.zkcore.errors import ProverError

P = 0xFFFFFFFF00000001
F = Goldilocks()


class _Ctx:
    def __init__(self, tabs):
        self.F = F
        self._t = tabs

    def table(self, name):
        return self._t[name]


def _twin(ctx, node, relations, low, high=()):
    """The whole-table self-check (session-24 start), for comparison."""
    for k, rel in enumerate(relations):
        acc = None
        for c, fs in rel:
            t = F.scalar(c)
            for f in fs:
                t = F.mul(t, RL._spread(ctx.table(f), low[f], f in high))
            acc = t if acc is None else F.add(acc, t)
        bad = np.nonzero(np.asarray(acc) != np.asarray(F.scalar(0)))[0] if acc is not None \
            and np.ndim(acc) else []
        if len(bad):
            raise ProverError(f"{node}: relation {k} fails at flat index {int(bad[0])} (the "
                              "witness does not follow the spec)")


def _verdict(fn, *a):
    try:
        fn(*a)
    except ProverError as e:
        return str(e)
    return None


def _case(rng, n, d_lo, d_hi, edge):
    N = 1 << n
    A = rng.integers(0, P, N, dtype=np.uint64)
    if edge:
        A[:] = rng.choice(np.array([0, 1, P - 1, P - 2], np.uint64), N)
    S = rng.integers(0, P, N >> d_lo, dtype=np.uint64)   # broadcast along low coords
    H = rng.integers(0, P, N >> d_hi, dtype=np.uint64)   # broadcast along high coords
    AS = F.mul(A, RL._spread(S, d_lo, False))
    AH = F.mul(A, RL._spread(H, d_hi, True))
    tabs = {"A": A, "S": S, "H": H, "AS": AS.copy(), "AH": AH.copy()}
    low = {"A": 0, "S": d_lo, "H": d_hi, "AS": 0, "AH": 0}
    rels = [
        [(1, ("A", "S")), (P - 1, ("AS",))],
        [(3, ("A", "H")), (P - 3, ("AH",))],
        [(1, ("A",)), (P - 1, ("A",)), (0, ())],
        [(2, ("S", "A")), (P - 2, ("AS",)), (5, ()), (P - 5, ())],
    ]
    return tabs, low, rels


@pytest.mark.parametrize("n, d_lo, d_hi", [(4, 1, 2), (10, 3, 10), (12, 0, 5), (13, 12, 1)])
@pytest.mark.parametrize("chunk", [1 << 2, 1 << 6, 1 << 16])
@pytest.mark.parametrize("edge", [False, True])
def test_chunked_check_matches_whole(monkeypatch, n, d_lo, d_hi, chunk, edge):
    monkeypatch.setattr(RL, "CHECK_CHUNK", chunk)
    rng = np.random.default_rng(n * 31 + d_lo + 7 * d_hi + edge)
    tabs, low, rels = _case(rng, n, d_lo, d_hi, edge)
    ctx = _Ctx(tabs)
    high = ("H",)
    assert _verdict(RL._check_vanishes, ctx, "node", rels, low, high) is None
    assert _verdict(_twin, ctx, "node", rels, low, high) is None
    N = 1 << n
    for bad_at in (0, N - 1, int(rng.integers(0, N))):
        for name in ("AS", "AH"):
            t = tabs[name].copy()
            t[bad_at] = (int(t[bad_at]) + 1) % P
            bad = _Ctx({**tabs, name: t})
            got = _verdict(RL._check_vanishes, bad, "node", rels, low, high)
            want = _verdict(_twin, bad, "node", rels, low, high)
            assert got == want and got is not None
    # a broadcast table's entry broken: fails at its first spread index in both
    s = tabs["S"].copy()
    s[-1] = (int(s[-1]) + 1) % P
    bad = _Ctx({**tabs, "S": s})
    got = _verdict(RL._check_vanishes, bad, "node", rels, low, high)
    assert got == _verdict(_twin, bad, "node", rels, low, high) and got is not None


def test_spread_rows_pieces():
    rng = np.random.default_rng(5)
    t = rng.integers(0, P, 8, dtype=np.uint64)
    for d in range(0, 6):
        for high in (False, True):
            whole = RL._spread(t, d, high)
            N = whole.shape[0]
            for c in (1, 2, 4, 16, 64, 1 << 10):
                got = np.concatenate([RL._spread_rows(t, d, high, a, min(N, a + c))
                                      for a in range(0, N, c)])
                assert np.array_equal(got, whole)
