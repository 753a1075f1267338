"""s27h1: a streamed batch reduction (`Whir._reduce_streamed`) whose messages come from
W's row sums streams every round inside W's low split, then folds each table that many
times in one last pass (`whir_eq.fold_eq` with many folds, its tiles at least
`FOLD_MIN_OUT` outputs): the same transcript bytes and r* as the passes, and `fold_eq`
against its twin with edge values at j ≥ 8."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from zklora.kernels import whir_eq as QE
from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _rand(rng, *shape, edge=0.5):
    x = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    m = rng.random(shape) < edge
    x[m] = rng.choice(EDGE, size=int(m.sum()))
    return x


@pytest.mark.parametrize("j,M", [(8, 3), (9, 8), (10, 13), (11, 5), (9, 1)])
def test_fold_eq_many_folds_twin(j, M):
    rng = np.random.default_rng(j * 100 + M)
    s = _rand(rng, M << j, edge=0.7)
    rs = _rand(rng, j, 2)
    assert np.array_equal(QE.fold_eq(s, rs), QE.fold_eq_ref(s, rs))


def test_fold_eq_many_folds_edges():
    for v in EDGE:
        s = np.full(3 << 9, v, dtype=np.uint64)
        for rs in (np.full((9, 2), P_INT - 1, dtype=np.uint64),
                   np.zeros((9, 2), dtype=np.uint64),
                   np.tile(np.array([[1, 0]], dtype=np.uint64), (9, 1))):
            assert np.array_equal(QE.fold_eq(s, rs), QE.fold_eq_ref(s, rs))


def _whir():
    F = registry().field("goldilocks")
    return W.Whir(F, {"regime": "conjectured", "direct_vars": 0})


@attrs.define
class _St:
    table: np.ndarray


@pytest.mark.parametrize("n,qs", [(10, (2, 1)), (11, (1, 3)), (12, (4, 1, 2))])
def test_reduce_streamed_all_split_rounds(tmp_path, monkeypatch, n, qs):
    """n − 1 ≤ a (every round but the last from the row sums) and n − 1 > a."""
    rng = np.random.default_rng(n + sum(qs))
    s = _whir()
    N = 1 << n
    group, cons = [], []
    for i, q in enumerate(qs):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, N))
        group.append((_St(np.load(tmp_path / f"t{i}.npy", mmap_mode="r")), []))
        cons.append((_rand(rng, q, n, 2), _rand(rng, q, 2)))
    beta = _rand(rng, 2)
    lam = _rand(rng, len(qs), 2)
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 8)
    monkeypatch.setattr(scratch, "open_bytes", lambda default: 2 * len(qs) * 16 * (N >> 2))
    folds = []
    seq = W._fold_seq

    def counted(t, rs, out=None):
        folds.append(len(rs))
        return seq(t, rs, out)

    monkeypatch.setattr(W, "_fold_seq", counted)

    def run(terms):
        monkeypatch.setattr(W, "SPLIT_MSG_TERMS", terms)
        folds.clear()
        with scratch.session():
            ch = ProverChannel(Transcript(b"s27h1r"))
            r = s._reduce_streamed(ch, n, group, cons, beta, lam)
        return bytes(ch.proof_bytes()), r, list(folds)

    p0, r0, _ = run(-1)
    p1, r1, f1 = run(64)
    assert p1 == p0 and np.array_equal(r1, r0)
    assert f1 and set(f1) == {min(n - 1, QE.EXT_LO_VARS)}   # the last pass: a_t folds


@pytest.mark.parametrize("T,q,budget", [(1, 3, 0), (1, 3, 1 << 40), (3, 1, 0), (1, 20, 0)])
def test_fold_streamed_into_out(tmp_path, monkeypatch, T, q, budget):
    """`_fold_streamed` with ``out`` (the merged opening's blocks of ĥ and ŵ): the same
    transcript and folded tables as without, written into the given arrays."""
    rng = np.random.default_rng(7 * T + q)
    s = _whir()
    n = 14
    N = 1 << n
    rd = s.plan(n).rounds[0]
    tabs = []
    for i in range(T):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, N))
        tabs.append(np.load(tmp_path / f"t{i}.npy", mmap_mode="r"))
    pts = _rand(rng, q, n, 2)
    cf = _rand(rng, q, 2)
    mu = _rand(rng, T, 2) if T > 1 else None
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 9)
    monkeypatch.setattr(scratch, "open_bytes", lambda default: budget)

    def run(out):
        with scratch.session():
            st = W._Stream(tuple(tabs) if T > 1 else tabs[0], pts, cf, mu=mu)
            ch = ProverChannel(Transcript(b"s27h1f"))
            res = s._fold_streamed(ch, rd, st, out)
        return bytes(ch.proof_bytes()), res

    p0, (a0, f0, w0) = run(None)
    big = np.full((3 << (n - rd.k), 2), 5, dtype=np.uint64)   # the blocks inside
    rows = slice(1 << (n - rd.k), 2 << (n - rd.k))
    out = (big[rows], big[rows].copy())
    p1, (a1, f1, w1) = run(out)
    assert p1 == p0 and np.array_equal(a1, a0)
    assert f1 is out[0] and w1 is out[1]
    assert np.array_equal(f1, f0) and np.array_equal(w1, w0)
    assert np.all(big[: 1 << (n - rd.k)] == 5) and np.all(big[2 << (n - rd.k):] == 5)


def test_put_block():
    dst = np.full((6, 2), 9, dtype=np.uint64)
    W._put_block(dst, 1, np.array([3, 4], dtype=np.uint64))
    assert dst.tolist() == [[9, 9], [3, 0], [4, 0], [9, 9], [9, 9], [9, 9]]
    W._put_block(dst, 3, np.array([[1, 2], [5, 6]], dtype=np.uint64))
    assert dst[3:5].tolist() == [[1, 2], [5, 6]]
    W._put_block(dst, 3, dst[3:5])   # already there: nothing to copy
    assert dst[3:5].tolist() == [[1, 2], [5, 6]]
    with pytest.raises(ValueError):
        W._put_block(dst, 5, np.zeros((2, 2), dtype=np.uint64))
