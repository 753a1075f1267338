"""`whir._base_view` (a base table's block read by a kernel in place: a read-only
memory map's own pages, no copy) and `Whir._fold_streamed` with it: the same messages
and outputs as with the blocks copied into RAM (`_read_base`)."""

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


def test_base_view_kinds(tmp_path):
    rng = np.random.default_rng(1)
    t = _rand(rng, 4096)
    np.save(tmp_path / "t.npy", t)
    mm = np.load(tmp_path / "t.npy", mmap_mode="r")
    assert not mm.flags.writeable
    v, src = W._base_view(mm, 512, 1536)
    assert src is not None and type(v) is np.ndarray and v.flags.c_contiguous
    assert np.array_equal(v, t[512:1536])
    scratch.drop_pages(src)
    assert np.array_equal(v, t[512:1536])   # pages read again from the file
    v, src = W._base_view(t, 0, 100)        # an array: its own memory
    assert np.shares_memory(v, t) and np.array_equal(v, t[:100])
    v, src = W._base_view(t.astype(np.int64), 7, 20)   # not uint64: copied
    assert src is None and v.dtype == np.uint64 and np.array_equal(v, t[7:20])
    sp = scratch.Spilled(mm.filename, mm.offset, mm.shape, mm.dtype.str)
    v, src = W._base_view(sp, 100, 300)
    assert src is None and np.array_equal(v, t[100:300])


@pytest.mark.parametrize("T,q", [(1, 3), (3, 1)])
def test_fold_streamed_view_same(tmp_path, monkeypatch, T, q):
    rng = np.random.default_rng(7 + T)
    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    n = 14
    rd = s.plan(n).rounds[0]
    tabs = []
    for i in range(T):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, 1 << n))
        tabs.append(np.load(tmp_path / f"t{i}.npy", mmap_mode="r"))
    pts = _rand(rng, 1 if T > 1 else q, n, 2)
    cf = _rand(rng, pts.shape[0], 2)
    mu = _rand(rng, T, 2) if T > 1 else None
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 9)   # many blocks

    def run():
        with scratch.session():
            st = W._Stream(tuple(tabs) if T > 1 else tabs[0], pts, cf, mu=mu)
            ch = ProverChannel(Transcript(b"s19h5"))
            out = s._fold_streamed(ch, rd, st)
        return bytes(ch.proof_bytes()), out

    seen = []
    view = W._base_view

    def counted(t, lo, hi):
        v, src = view(t, lo, hi)
        seen.append(src is not None)
        return v, src

    monkeypatch.setattr(W, "_base_view", counted)
    p1, o1 = run()
    assert rd.k >= 2 and len(seen) > 4 and all(seen)   # the map's own pages
    monkeypatch.setattr(W, "_base_view", lambda t, lo, hi: (W._read_base(t, lo, hi), None))
    p0, o0 = run()
    assert p1 == p0
    for x, y in zip(o1, o0):
        assert np.array_equal(x, y)


def test_reduce_streamed_view_same(tmp_path, monkeypatch):
    from types import SimpleNamespace
    rng = np.random.default_rng(11)
    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    n, T = 14, 3
    tabs = []
    for i in range(T):
        np.save(tmp_path / f"t{i}.npy", _rand(rng, 1 << n))
        tabs.append(np.load(tmp_path / f"t{i}.npy", mmap_mode="r"))
    group = [(SimpleNamespace(table=t), None) for t in tabs]
    cons = [(_rand(rng, 2, n, 2),) for _ in tabs]
    beta, lam = _rand(rng, 2), _rand(rng, T, 2)
    monkeypatch.setattr(W, "STREAM_BYTES", 48 << 9)   # many blocks
    monkeypatch.setattr(W, "OPEN_BYTES", 2 * T * 16 << (n - 3))   # s = 3 passes
    monkeypatch.setattr(scratch, "open_bytes", lambda b: b)
    seen = []
    view = W._base_view

    def counted(t, lo, hi):
        v, src = view(t, lo, hi)
        seen.append(src is not None)
        return v, src

    def run():
        with scratch.session():
            ch = ProverChannel(Transcript(b"s19h5r"))
            r = s._reduce_streamed(ch, n, group, cons, beta, lam)
        return bytes(ch.proof_bytes()), r

    monkeypatch.setattr(W, "_base_view", counted)
    p1, r1 = run()
    assert len(seen) > 4 and all(seen)
    monkeypatch.setattr(W, "_base_view", lambda t, lo, hi: (W._read_base(t, lo, hi), None))
    p0, r0 = run()
    assert p1 == p0 and np.array_equal(r1, r0)
