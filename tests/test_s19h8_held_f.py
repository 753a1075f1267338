"""`Whir._fold_streamed` keeping only the folded table blocks of a direct pass
(``held_f``: the next pass folds those once, W's folded rows computed directly, the
table not read again): the same messages and outputs for every openings' budget."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript


def _rand(rng, *shape):
    return rng.integers(0, P_INT, size=shape, dtype=np.uint64)


@pytest.mark.parametrize("T,q", [(1, 3), (1, 1), (3, 1)])
def test_fold_streamed_held_f_same(tmp_path, monkeypatch, T, q):
    rng = np.random.default_rng(11 + T + q)
    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    n = 14
    N = 1 << n
    rd = s.plan(n).rounds[0]
    assert rd.k >= 3
    tabs = []
    for i in range(T):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, N))
        tabs.append(np.load(tmp_path / f"t{i}.npy", mmap_mode="r"))
    pts = _rand(rng, 1 if T > 1 else q, n, 2)
    cf = _rand(rng, pts.shape[0], 2)
    mu = _rand(rng, T, 2) if T > 1 else None
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 9)   # many blocks
    monkeypatch.setattr(W, "SPLIT_MSG_TERMS", -1)   # the passes (s26h3: else one pass)
    reads = []
    view = W._base_view

    def counted(t, lo, hi):
        reads.append(lo)
        return view(t, lo, hi)

    monkeypatch.setattr(W, "_base_view", counted)

    def run(budget):
        monkeypatch.setattr(scratch, "open_bytes", lambda default: budget)
        reads.clear()
        with scratch.session():
            st = W._Stream(tuple(tabs) if T > 1 else tabs[0], pts, cf, mu=mu)
            ch = ProverChannel(Transcript(b"s19h8"))
            out = s._fold_streamed(ch, rd, st)
        return bytes(ch.proof_bytes()), out, len(reads)

    p0, o0, r0 = run(0)                    # nothing held: every pass reads the table
    for budget in (48 * (N >> 3), 32 * (N >> 2), 32 * (N >> 1), 1 << 40):
        p1, o1, r1 = run(budget)
        assert p1 == p0
        for x, y in zip(o1, o0):
            assert np.array_equal(x, y)
        assert r1 < r0                       # some pass did not read the table
    # pass 2 keeps f only (pass 2's pairs do not fit, its f and pass 3's pairs do)
    p2, o2, r2 = run(32 * (N >> 2))
    _, _, r3 = run(48 * (N >> 3))           # pass 3 kept, pass 2 not
    assert r2 < r3
