"""`relations._check_vanishes` (the prover's zero-check self-check) against its twin
(the whole-table evaluation: the coefficient broadcast, then every table multiplied
in), on the whole-table path and on the chunked path of s28h5 (`_check_chunked`, every
chunk size from below a broadcast table's repeat to the whole table): the same verdict
and the same first failing index, for relations with coefficients 0, 1, p − 1,
p − 2 and others, constant terms, low/high broadcast tables and tables holding edge
values."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import relations
from zklora.zkcore.errors import ProverError

F = GOLDILOCKS
P = K.P_INT


class _Ctx:
    def __init__(self, tabs):
        self.F = F
        self.tabs = tabs

    def table(self, name):
        return self.tabs[name]


def _twin(ctx, node, rels, low, high=()):
    """The former `_check_vanishes`."""
    for k, rel in enumerate(rels):
        acc = None
        for c, fs in rel:
            t = F.scalar(c)
            for f in fs:
                t = F.mul(t, relations._spread(ctx.table(f), low[f], f in high))
            acc = t if acc is None else F.add(acc, t)
        bad = np.nonzero(np.asarray(acc) != np.asarray(F.scalar(0)))[0] if acc is not None \
            and np.ndim(acc) else []
        if len(bad):
            raise ProverError(f"{node}: relation {k} fails at flat index {int(bad[0])} (the "
                              "witness does not follow the spec)")


def _verdict(fn, *args):
    try:
        fn(*args)
    except ProverError as e:
        return str(e)
    return None


def _setup(rng, n=8):
    a = rng.integers(0, P, 1 << n, dtype=np.uint64)
    a[:4] = [0, 1, P - 1, P - 2]
    b = rng.integers(0, P, 1 << n, dtype=np.uint64)
    b[4:8] = [P - 2, P - 1, 1, 0]
    m = rng.integers(0, P, 1 << (n - 2), dtype=np.uint64)   # broadcast along 2 bits
    m[:2] = [P - 1, 0]
    ab = F.mul(a, b)
    tabs = {"A": a, "B": b, "M": m, "AB": ab,
            "AM": F.mul(a, np.repeat(m, 4)), "AMh": F.mul(a, np.tile(m, 4)),
            "negAB": F.neg(ab), "AB2": F.mul(ab, F.scalar(P - 2))}
    low = {k: (2 if k == "M" else 0) for k in tabs}
    return tabs, low


RELS = [
    [[(1, ("A", "B")), (P - 1, ("AB",))]],                       # A·B − AB
    [[(1, ("A", "B")), (1, ("negAB",))]],
    [[(P - 2, ("A", "B")), (P - 1, ("AB2",))]],                  # (p−2)·A·B − AB2
    [[(1, ("A", "M")), (P - 1, ("AM",))]],                       # low broadcast
    [[(3, ("AB",)), (-3, ("A", "B")), (0, ("B",))]],             # coefficient 0, negative
    [[(1, ("A", "B")), (P - 1, ("AB",))], [(5, ("A",)), (P - 5, ("A",))]],
    [[(1, ("A", "B")), (P - 1, ("AB",)), (1, ())]],              # a constant term: fails at 0
    [[(1, ("A", "B")), (P - 1, ("A",))]],                        # fails where B != 1
    [[(2, ("A", "B")), (P - 1, ("AB",))]],                       # fails where AB != 0
    [[(1, ("A", "B")), (P - 1, ("AB",))], [(1, ("B",))]],        # relation 1 fails
    [[(1, ())], [(P - 1, ())]],                                  # constants only
]


@pytest.fixture(params=[None, 2, 16, 128, 256])
def chunk(request, monkeypatch):
    """None: the whole-table path; else the chunked one with chunks of this size."""
    if request.param is not None:
        monkeypatch.setattr(relations, "CHECK_CHUNKED_MIN", 1)
        monkeypatch.setattr(relations, "CHECK_CHUNK", request.param)
    return request.param


@pytest.mark.parametrize("k", range(len(RELS)))
def test_check_vanishes_matches_twin(k, chunk):
    tabs, low = _setup(np.random.default_rng(k))
    ctx = _Ctx(tabs)
    want = _verdict(_twin, ctx, "n", RELS[k], low)
    got = _verdict(relations._check_vanishes, ctx, "n", RELS[k], low)
    assert got == want


def test_check_vanishes_high_broadcast(chunk):
    tabs, low = _setup(np.random.default_rng(7))
    ctx = _Ctx(tabs)
    ok = [[(1, ("A", "M")), (P - 1, ("AMh",))]]
    assert _verdict(relations._check_vanishes, ctx, "n", ok, low, ("M",)) is None
    assert _verdict(_twin, ctx, "n", ok, low, ("M",)) is None
    bad = _verdict(relations._check_vanishes, ctx, "n", ok, low)   # low: wrong layout
    assert bad is not None and bad == _verdict(_twin, ctx, "n", ok, low)


def test_tables_not_written(chunk):
    tabs, low = _setup(np.random.default_rng(3))
    before = {k: v.copy() for k, v in tabs.items()}
    relations._check_vanishes(_Ctx(tabs), "n", [[(1, ("AB",)), (P - 1, ("AB",))],
                                                [(1, ("A",)), (P - 1, ("A",))]], low)
    assert all(np.array_equal(before[k], tabs[k]) for k in tabs)


def test_chunked_failure_in_a_later_chunk(monkeypatch):
    """A relation failing only at index 200 (chunk 3 of 16-entry chunks, a low-broadcast
    table in the term): the chunked path reports index 200, as the twin does."""
    monkeypatch.setattr(relations, "CHECK_CHUNKED_MIN", 1)
    monkeypatch.setattr(relations, "CHECK_CHUNK", 16)
    tabs, low = _setup(np.random.default_rng(11))
    am = tabs["AM"].copy()
    am[200] = F.add(am[200:201], F.scalar(1))[0]
    tabs["AM"] = am
    ctx = _Ctx(tabs)
    rel = [[(1, ("A", "M")), (P - 1, ("AM",))]]
    want = _verdict(_twin, ctx, "n", rel, low)
    assert want is not None and "flat index 200 " in want
    assert _verdict(relations._check_vanishes, ctx, "n", rel, low) == want
