"""s43h3: tables held as their integers (`published.IntTable`) and the int64 paths that
read them (goldilocks `from_ints_into`, `vecmat` / `matvec` of an int64 matrix, the
einsum fold, `op.evaluate_mapped`) against the converted tables, on edge values."""

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.kernels import int_gemm as IG
from zklora.plugins.fields import goldilocks as G
from zklora.zkcore import einsum, mle, op, published, scratch

F = G.GOLDILOCKS
E = F.ext
P = K.P_INT
EDGE = [0, 1, -1, 2, -2, (1 << 62), -(1 << 62), (1 << 63) - 1, -(1 << 63), 12345, -12345,
        (1 << 25), -(1 << 25), (1 << 25) + 1, -(1 << 25) - 1]


def _ints(n, rng, wide=False):
    a = rng.integers(-(1 << 20), 1 << 20, n, dtype=np.int64) if not wide else \
        rng.integers(-(1 << 63), (1 << 63) - 1, n, dtype=np.int64, endpoint=True)
    edge = EDGE if wide else [x for x in EDGE if abs(x) <= 1 << 20]   # small: the int kernel
    a[:min(n, len(edge))] = edge[:n]
    return a


def _ref(a):
    return np.array([int(x) % P for x in a.tolist()], dtype=np.uint64)


@pytest.mark.parametrize("n", [1, 7, len(EDGE), 1 << 14, (1 << 14) + 3, 1 << 16])
@pytest.mark.parametrize("wide", [False, True])
def test_from_ints_into(n, wide):
    a = _ints(n, np.random.default_rng(n), wide)
    buf = np.full(n + 5, 7, np.uint64)
    out = F.from_ints_into(a, buf)
    assert out.shape == (n,) and np.shares_memory(out, buf)
    assert np.array_equal(out, _ref(a))
    assert np.all(buf[n:] == 7)
    with pytest.raises(ValueError):
        F.from_ints_into(a, np.empty(n - 1 if n > 1 else 0, np.uint64))


def test_int_table_reads():
    rng = np.random.default_rng(1)
    a = _ints(1 << 15, rng, wide=True)
    t = published.IntTable(F, a)
    ref = _ref(a)
    assert t.shape == (1 << 15,) and len(t) == 1 << 15 and t.dtype == np.uint64
    assert t.nbytes == 8 << 15 and t.ndim == 1
    assert np.array_equal(np.asarray(t), ref)
    for lo, hi in [(0, 1), (0, len(EDGE)), (5, 1 << 14), (1000, 1 << 15), (0, 1 << 15)]:
        assert np.array_equal(t[lo:hi], ref[lo:hi])
        buf = np.empty(hi - lo + 3, np.uint64)
        got = t.read(lo, hi, buf)
        assert np.array_equal(got, ref[lo:hi]) and np.shares_memory(got, buf)
        assert np.array_equal(t.read(lo, hi), ref[lo:hi])
    for k in [0, 3, 7, -1, (1 << 15) - 1]:
        assert int(t[k]) == int(ref[k])
    # not mapped, not a view: the scratch helpers leave it alone
    assert not scratch.is_mapped(t)
    scratch.drop(t)
    scratch.drop_pages(t)
    with pytest.raises(ValueError):
        published.IntTable(F, a.astype(np.int32))


@pytest.mark.parametrize("R,C", [(1, 1), (3, 5), (256, 64), (300, 70), (1024, 512),
                                 (2048, 300), (64, 4096)])
@pytest.mark.parametrize("wide", [False, True])
def test_vecmat_matvec_ints(R, C, wide, monkeypatch):
    rng = np.random.default_rng(R * 7 + C)
    M = _ints(R * C, rng, wide).reshape(R, C)
    Mu = _ref(M.reshape(-1)).reshape(R, C)
    e = E.random(rng, (R,)) if hasattr(E, "random") else \
        np.ascontiguousarray(rng.integers(0, P, (R, 2), dtype=np.uint64))
    ec = np.ascontiguousarray(rng.integers(0, P, (C, 2), dtype=np.uint64))
    for block in (G.INT_ROWS_BLOCK, 1 << 12, 1):   # several row blocks
        monkeypatch.setattr(G, "INT_ROWS_BLOCK", block)
        assert np.array_equal(E.vecmat(e, M), E.vecmat(e, Mu))
        assert np.array_equal(E.matvec(ec, M), E.matvec(ec, Mu))


def test_vecmat_small_reads_ints():
    """`int_gemm.vecmat_small` of an int64 table (`_sval`: the integers as they are)
    equals that of the converted table; an entry outside ±2^25 makes it decline."""
    rng = np.random.default_rng(11)
    for R, C in [(256, 64), (1024, 512), (300, 77)]:
        M = _ints(R * C, rng).reshape(R, C)
        M[1, 2], M[R - 1, C - 1] = -(1 << 25) + 1, (1 << 25) - 1
        e = np.ascontiguousarray(rng.integers(0, P, (R, 2), dtype=np.uint64))
        o1, o2 = np.empty((C, 2), np.uint64), np.empty((C, 2), np.uint64)
        assert IG.vecmat_small(e, M, o1, 2)
        assert IG.vecmat_small(e, _ref(M.reshape(-1)).reshape(R, C), o2, 2)
        assert np.array_equal(o1, o2)
        assert np.array_equal(o1, E.vecmat(e, _ref(M.reshape(-1)).reshape(R, C)))
        M[R // 2, 0] = 1 << 25
        assert not IG.vecmat_small(e, M, o1, 2)
    for v in [0, 1, -1, 12345, -(1 << 40), (1 << 62), -(1 << 62)]:   # the Python twin
        assert IG._sval(np.int64(v)) == v
        assert IG._sval(_ref(np.array([v], np.int64))[0]) == v


def test_vecmat_ints_in_session():
    rng = np.random.default_rng(5)
    M = _ints(1024 * 256, rng).reshape(1024, 256)
    Mu = _ref(M.reshape(-1)).reshape(1024, 256)
    e = np.ascontiguousarray(rng.integers(0, P, (1024, 2), dtype=np.uint64))
    with scratch.session():
        got = E.vecmat(e, M)
        got2 = E.matvec(np.ascontiguousarray(e[:256]), M)
    assert np.array_equal(got, E.vecmat(e, Mu))
    assert np.array_equal(got2, E.matvec(np.ascontiguousarray(e[:256]), Mu))


@pytest.mark.parametrize("term,fixed_letters", [("oi", "o"), ("oi", "i"), ("abc", "b"),
                                                ("abc", "ac"), ("oi", "")])
def test_einsum_fold_int_table(term, fixed_letters):
    rng = np.random.default_rng(len(term) * 3 + len(fixed_letters))
    bits = {"o": 9, "i": 6, "a": 3, "b": 8, "c": 4}
    n = sum(bits[ch] for ch in term)
    a = _ints(1 << n, rng, wide=True)
    t = published.IntTable(F, a)
    fixed = {ch: np.ascontiguousarray(rng.integers(0, P, (bits[ch], 2), dtype=np.uint64))
             for ch in fixed_letters}
    want, rest_w = einsum._fold(E, _ref(a), term, fixed, bits, True)
    got, rest_g = einsum._fold(E, t, term, fixed, bits, True)
    assert rest_w == rest_g and np.array_equal(np.asarray(got), np.asarray(want))
    assert einsum._rows(t) == 1 << n


@pytest.mark.parametrize("n", [4, 20, 21])
def test_evaluate_mapped_int_table(n):
    rng = np.random.default_rng(n)
    a = _ints(1 << n, rng, wide=True)
    r = np.ascontiguousarray(rng.integers(0, P, (n, 2), dtype=np.uint64))
    want = mle.evaluate(E, _ref(a), r, base=True)
    assert np.array_equal(op.evaluate_mapped(E, published.IntTable(F, a), r), want)


class _Scheme:
    """A scheme that takes int tables (records what `commit` got)."""

    def __init__(self, takes=True):
        self.got = []
        self.takes = takes

    def takes_int_tables(self, n):
        return self.takes

    def commit(self, table):
        self.got.append(table)
        return b"c" * 4, "state"


def test_commit_groups_keeps_ints(monkeypatch):
    rng = np.random.default_rng(9)
    w = _ints(published.MAX_SHARED, rng)
    small = _ints(1 << 10, rng)
    groups = published.plan("frozen", [("w", 22), ("s", 10)])
    for takes, env in [(True, True), (False, True), (True, False)]:
        monkeypatch.setattr(published, "INT_TABLES", env)
        sch = _Scheme(takes)
        states = {}
        published.commit_groups(sch, F, groups, {"w": w, "s": small}.__getitem__, states)
        lone = states["w"].table
        if takes and env:
            assert isinstance(lone, published.IntTable) and np.shares_memory(lone.ints, w)
        else:
            assert isinstance(lone, np.ndarray) and np.array_equal(lone, _ref(w))
        assert isinstance(states["s"].table, np.ndarray)
        assert np.array_equal(np.asarray(states["s"].table)[:1 << 10], _ref(small))
