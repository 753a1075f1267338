"""s26h3: every streamed round message from one pass of W's row sums
(`whir_open.split_rows`, `whir._SplitMessages`): the kernel against its twin with edge
values, the messages against the passes' own (`whir_sumcheck.round_` on the folded
tables), and `_fold_streamed` / `_reduce_streamed` with and without it (the same
transcript bytes and outputs)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO
from zklora.kernels import whir_sumcheck as SC
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


@pytest.mark.parametrize("q,T,H,a", [(1, 1, 1, 1), (1, 1, 5, 3), (3, 1, 4, 2),
                                     (2, 3, 3, 4), (1, 2, 7, 9), (4, 1, 2, 10)])
def test_split_rows_twin(q, T, H, a):
    rng = np.random.default_rng(q * 100 + T * 10 + a)
    tabs = [_rand(rng, H << a) for _ in range(T)]
    C = _rand(rng, q, T, H, 2)
    got = WO.split_rows(tabs, C, a)
    assert np.array_equal(got, WO.split_rows_ref(tabs, C, a))
    # accumulating into a given G: G + the sums (mod p)
    G0 = _rand(rng, q, 1 << a, 2)
    G = G0.copy()
    WO.split_rows(tabs, C, a, G)
    want = (G0.astype(object) + got.astype(object)) % P_INT
    assert np.array_equal(G, want.astype(np.uint64))


def test_split_rows_edge_constant():
    # all entries p − 1 (and non-canonical 2^64 − 1) with weights p − 1: the 192-bit
    # sums' carries, many rows a chunk
    for v in (P_INT - 1, (1 << 64) - 1, P_INT):
        tabs = [np.full(300 << 4, v, dtype=np.uint64)] * 2
        C = np.full((2, 2, 300, 2), P_INT - 1, dtype=np.uint64)
        want = (v % P_INT) * (P_INT - 1) % P_INT * 600 % P_INT
        got = WO.split_rows(tabs, C, 4)
        assert (got == want).all()


def test_split_rows_bad():
    t = np.zeros(16, dtype=np.uint64)
    with pytest.raises(ValueError):
        WO.split_rows([t], np.zeros((1, 1, 3, 2), np.uint64), 2)
    with pytest.raises(ValueError):
        WO.split_rows([t], np.zeros((1, 2, 4, 2), np.uint64), 2)
    with pytest.raises(ValueError):
        WO.split_rows([t], np.zeros((1, 1, 16, 2), np.uint64), 0)


@pytest.mark.parametrize("q,a,k", [(1, 5, 5), (3, 4, 3), (2, 10, 4)])
def test_split_messages_match_rounds(q, a, k):
    rng = np.random.default_rng(7 * q + a)
    n = a + 3
    N = 1 << n
    f = _rand(rng, N)
    pts = _rand(rng, q, n, 2)
    cf = _rand(rng, q, 2)
    A, B, aa = QE.eq_split(pts, cf, a)
    assert aa == a
    w = QE.eq_rows(A, B, a, 0, N)
    G = WO.split_rows([f], B[:, None], a)
    msgs = W._SplitMessages([(G, A)])
    h = msgs.first()
    ff, ww = f, w
    for j in range(k):
        assert np.array_equal(h, SC.round_(ff, ww))
        r = _rand(rng, 2)
        ff, ww = SC.fold(ff, ww, r)
        if j + 1 < k:
            h = msgs.next(r)


def _whir():
    F = registry().field("goldilocks")
    return W.Whir(F, {"regime": "conjectured", "direct_vars": 0})


@pytest.mark.parametrize("T,q", [(1, 3), (1, 1), (3, 1), (1, 20)])
def test_fold_streamed_split_same(tmp_path, monkeypatch, T, q):
    rng = np.random.default_rng(31 + T + q)
    s = _whir()
    n = 14
    N = 1 << n
    rd = s.plan(n).rounds[0]
    assert 1 <= rd.k <= QE.EXT_LO_VARS
    tabs = []
    for i in range(T):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, N))
        tabs.append(np.load(tmp_path / f"t{i}.npy", mmap_mode="r"))
    pts = _rand(rng, q if T == 1 else 1, n, 2)
    cf = _rand(rng, pts.shape[0], 2)
    mu = _rand(rng, T, 2) if T > 1 else None
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 9)   # many blocks
    reads = []
    view = W._base_view

    def counted(t, lo, hi):
        reads.append(lo)
        return view(t, lo, hi)

    monkeypatch.setattr(W, "_base_view", counted)

    def run(terms, budget):
        monkeypatch.setattr(W, "SPLIT_MSG_TERMS", terms)
        monkeypatch.setattr(scratch, "open_bytes", lambda default: budget)
        reads.clear()
        with scratch.session():
            st = W._Stream(tuple(tabs) if T > 1 else tabs[0], pts, cf, mu=mu)
            ch = ProverChannel(Transcript(b"s26h3"))
            out = s._fold_streamed(ch, rd, st)
        return bytes(ch.proof_bytes()), out, len(reads)

    for budget in (0, 1 << 40):
        p0, o0, r0 = run(-1, budget)      # the passes
        p1, o1, r1 = run(64, budget)      # one pass of row sums, then the last pass
        assert p1 == p0
        for x, y in zip(o1, o0):
            assert np.array_equal(x, y)
        if budget == 0:
            assert r1 < r0


@attrs.define
class _St:
    table: np.ndarray


@pytest.mark.parametrize("qs", [(1, 2), (3, 20, 1)])
def test_reduce_streamed_split_same(tmp_path, monkeypatch, qs):
    rng = np.random.default_rng(sum(qs))
    s = _whir()
    n = 13
    N = 1 << n
    group, cons = [], []
    for i, q in enumerate(qs):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, N))
        group.append((_St(np.load(tmp_path / f"t{i}.npy", mmap_mode="r")), []))
        cons.append((_rand(rng, q, n, 2), _rand(rng, q, 2)))
    beta = _rand(rng, 2)
    lam = _rand(rng, len(qs), 2)
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 8)
    monkeypatch.setattr(scratch, "open_bytes", lambda default: 2 * len(qs) * 16 * (N >> 3))

    def run(terms):
        monkeypatch.setattr(W, "SPLIT_MSG_TERMS", terms)
        with scratch.session():
            ch = ProverChannel(Transcript(b"s26h3r"))
            r = s._reduce_streamed(ch, n, group, cons, beta, lam)
        return bytes(ch.proof_bytes()), r

    p0, r0 = run(-1)
    p1, r1 = run(64)
    assert p1 == p0 and np.array_equal(r1, r0)
