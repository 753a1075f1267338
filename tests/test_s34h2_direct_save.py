"""s34h2: `scratch.Store.save(direct=True)` writes a scratch file with direct I/O (aligned
offsets, `scratch.Direct` handles read back with direct I/O): the same values as the
buffered save, no page-cache pages left, no file left when a write fails; the witness
spill (`graph.Witness.spill`) takes it (`graph.SPILL_DIRECT`) and the segments' virtual
tensors are spilled (`graph.SPILL_VIRTUALS`, on)."""

from __future__ import annotations

import ctypes
import mmap
import os

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch
from zklora.zkcore.errors import ProverError

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _arrays():
    rng = np.random.default_rng(7)
    g = rng.integers(0, P, (1 << 15) + 3, dtype=np.uint64)
    g[:4], g[-4:] = EDGE, EDGE
    e = rng.integers(0, P, (5001, 2), dtype=np.uint64)
    e[0], e[-1] = EDGE[:2], EDGE[2:]
    small = rng.integers(-128, 128, 4097, dtype=np.int64)
    small[:2] = (-128, 127)
    wide = rng.integers(-(1 << 62), 1 << 62, (3, 7, 5), dtype=np.int64)
    wide.reshape(-1)[:2] = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    big = rng.integers(-(1 << 20), 1 << 20, (scratch._DIO_STAGE // 4) + 77, dtype=np.int64)
    return [g, scratch.Cast(small, np.dtype(np.int8)), e, np.zeros((0, 3), np.uint64), wide,
            scratch.Cast(big, np.dtype(np.int32)), np.array([5], dtype=np.int16)]


def _plain(a):
    return a.array.astype(a.dtype) if isinstance(a, scratch.Cast) else a


def _direct_ok(path: str) -> bool:
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    try:
        os.close(os.open(os.path.join(path, "probe"), os.O_WRONLY | os.O_CREAT | flag, 0o600))
        return True
    except OSError:
        return False


def test_direct_save_reads_back_the_buffered_values(tmp_path):
    arrays = _arrays()
    with scratch.session(str(tmp_path)) as st:
        old = st.save(arrays, tag="b")
        new = st.save(arrays, tag="d", direct=True)
        direct = _direct_ok(st.path)
        for a, ho, hn in zip(arrays, old, new):
            want = _plain(a)
            assert (hn.shape, hn.dtype) == (ho.shape, ho.dtype)
            if direct:
                assert isinstance(hn, scratch.Direct) and hn.offset % scratch.DIO_ALIGN == 0
            for got in (hn.load(), ho.load()):
                assert got.dtype == want.dtype and np.array_equal(got, want)
            n = want.shape[0]
            for lo, hi in ((0, n), (1, n - 1), (n // 3, n // 2 + 1), (n - 1, n), (2, 2),
                           (n, n + 5), (-3, 2)):
                r = hn.read_range(lo, hi)
                assert r.dtype == want.dtype and np.array_equal(r, ho.read_range(lo, hi))
                assert np.array_equal(r, want[max(0, lo):max(0, min(hi, n))])
            if n:
                idx = [0, n - 1, n // 2]
                assert np.array_equal(hn.read_rows(idx), want[idx])
                with hn.mapped() as m:
                    assert np.array_equal(np.asarray(m), want)
        if direct:
            assert os.path.getsize(new[0].path) % scratch.DIO_ALIGN == 0
        # the reads' descriptors go with the file
        st.discard(new[0])
        assert new[0].path not in st._dfds and not os.path.exists(new[0].path)


def _resident(path: str) -> int:
    """Pages of ``path`` in the page cache (``mincore`` over a read-only map)."""
    n = os.path.getsize(path)
    libc = ctypes.CDLL(None, use_errno=True)
    with open(path, "rb") as f:
        m = mmap.mmap(f.fileno(), n, prot=mmap.PROT_READ)
        try:
            pages = -(-n // mmap.PAGESIZE)
            vec = (ctypes.c_ubyte * pages)()
            addr = np.frombuffer(m, dtype=np.uint8).ctypes.data
            if libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(n), vec) != 0:
                pytest.skip("mincore unavailable")
            return sum(v & 1 for v in vec)
        finally:
            m.close()


def test_direct_save_leaves_no_page_cache(tmp_path):
    a = np.arange(1 << 20, dtype=np.int64)   # 8 MiB: 2,048 pages
    with scratch.session(str(tmp_path)) as st:
        if not _direct_ok(st.path):
            pytest.skip("no O_DIRECT on this file system")
        hb = st.save([a], tag="b")[0]
        hd = st.save([a], tag="d", direct=True)[0]
        assert np.array_equal(hd.read_range(0, 1 << 20), a)
        assert np.array_equal(hd.load(), a)
        assert _resident(hb.path) > 1000      # the buffered file is in the page cache
        assert _resident(hd.path) == 0        # the direct one, written and read: not


@pytest.mark.parametrize("direct", [False, True])
def test_failed_save_leaves_no_file(tmp_path, monkeypatch, direct):
    arrays = _arrays()
    with scratch.session(str(tmp_path)) as st:
        calls = []

        def broken(fd, buf, pos):
            calls.append(pos)
            raise OSError(28, "No space left on device")

        if direct and _direct_ok(st.path):
            monkeypatch.setattr(scratch, "_pwrite_all", broken)
        else:
            real = open

            def fopen(path, mode="r", *a, **k):
                f = real(path, mode, *a, **k)
                if "w" in mode:
                    f.write = lambda b: broken(None, b, 0)
                return f

            monkeypatch.setattr("builtins.open", fopen)
        before = set(os.listdir(st.path))
        with pytest.raises(ProverError, match="cannot write scratch file"):
            st.save(arrays, direct=direct)
        monkeypatch.undo()
        assert calls and set(os.listdir(st.path)) == before

        class Stop(BaseException):
            pass

        def interrupted(dst, src, casting="same_kind"):
            raise Stop

        monkeypatch.setattr(np, "copyto", interrupted)
        with pytest.raises(Stop):
            st.save([scratch.Cast(np.arange(10, dtype=np.int64), np.dtype(np.int8))],
                    direct=direct)
        monkeypatch.undo()
        assert set(os.listdir(st.path)) == before


def test_direct_refused_falls_back_to_buffered(tmp_path, monkeypatch):
    real = os.open

    def no_direct(path, flags, *a):
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(22, "Invalid argument")
        return real(path, flags, *a)

    monkeypatch.setattr(os, "open", no_direct)
    arrays = _arrays()
    with scratch.session(str(tmp_path)) as st:
        hs = st.save(arrays, direct=True)
        assert not any(isinstance(h, scratch.Direct) for h in hs)
        for a, h in zip(arrays, hs):
            assert np.array_equal(h.load(), _plain(a))
        # a Direct handle whose reads are refused O_DIRECT reads buffered
        monkeypatch.undo()
        hd = st.save(arrays[:1], direct=True)[0]
        monkeypatch.setattr(os, "open", no_direct)
        st._forget_fd(hd.path)
        assert np.array_equal(hd.read_range(3, 100), arrays[0][3:100])


@pytest.mark.parametrize("direct,switch", [(False, True), (True, True), (True, False)])
def test_witness_spill_direct(tmp_path, monkeypatch, direct, switch):
    monkeypatch.setattr(graphlib, "SPILL_DIRECT", switch)
    vals = {
        "a": torch.tensor([0, 1, -1, 255, -128, 7] * 1000),
        "b": torch.tensor([[np.iinfo(np.int64).min, np.iinfo(np.int64).max], [0, 1]]),
        "c": torch.arange(70000, dtype=torch.int64) - 35000,
    }
    with scratch.session(str(tmp_path), threshold=1) as st:
        w = graphlib.Witness({k: v.clone() for k, v in vals.items()})
        assert sorted(w.spill(list(vals), force=True, direct=direct)) == sorted(vals)
        kinds = {type(h) for h in w._disk.values()}
        if direct and switch and _direct_ok(st.path):
            assert kinds == {scratch.Direct}
        else:
            assert kinds == {scratch.Spilled}
        for k, v in vals.items():
            got = w[k]
            assert got.dtype == torch.int64 and torch.equal(got, v), k


def test_switches():
    """As landed (s34h2): virtual tensors not spilled (`SPILL_VIRTUALS` off, s33h5's
    A/B and this one's); when they are, written direct."""
    assert graphlib.SPILL_VIRTUALS is False
    assert graphlib.SPILL_DIRECT is True


def test_forward_spills_virtuals_direct_committed_buffered(tmp_path, monkeypatch):
    """Phase 1's forward with `SPILL_VIRTUALS`: a segment's virtual tensors in
    `scratch.Direct` files, its committed outputs in buffered ones; phase 2 sees the
    values of a plain forward."""
    from tests.test_s33h5_spill_virtuals import _graph_inputs
    from zklora.zkcore.plugins import registry

    monkeypatch.setattr(graphlib, "SPILL_VIRTUALS", True)
    g, inputs = _graph_inputs(1)
    reg = registry()
    with scratch.session(str(tmp_path), threshold=1) as st:
        values = graphlib.forward(g, inputs, reg, drop=True)
        kinds: dict[str, set] = {}
        for t, h in values._disk.items():
            kinds.setdefault(g.tensors[t].kind, set()).add(type(h))
        assert kinds["committed"] == {scratch.Spilled}
        assert kinds["virtual"] == ({scratch.Direct} if _direct_ok(st.path)
                                    else {scratch.Spilled})
        full = graphlib.forward(g, inputs, reg)
        for t in values.spilled:
            assert torch.equal(values[t], full[t]), t
