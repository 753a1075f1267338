"""s41h3: `scratch.Store.free_buffers` hands the phase's work arrays (`Store.buffer`) that
no view holds any more to a bounded pool, and a later phase's requests are served from
it (the smallest pooled array large enough), so their pages are not given back and
faulted in afresh phase after phase.  A pooled array must never alias live data: an
array a caller still holds a view of is not pooled; the pool keeps `POOL_BYTES` at most;
a request none fits empties it (the peak does not grow by arrays a phase never asks
for); the session's end forgets it."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import scratch

MiB = 1 << 20


@pytest.fixture(autouse=True)
def _pool_on(monkeypatch):
    """The pool is off by default (`scratch.POOL_BYTES` 0): these tests turn it on."""
    monkeypatch.setattr(scratch, "POOL_BYTES", 128 * MiB)


def test_pool_off_by_default_keeps_nothing(monkeypatch):
    monkeypatch.undo()
    assert scratch.POOL_BYTES == 0
    with scratch.session() as st:
        st.buffer("a", MiB // 4)
        st.free_buffers()
        assert not st._pool and st._pooled(MiB) is None


def _addr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_freed_buffer_serves_a_later_smaller_request():
    with scratch.session() as st:
        a = st.buffer("x", MiB // 4)          # 2 MiB of uint64
        p = _addr(a)
        a[:] = 7
        del a
        st.free_buffers()
        assert [b.nbytes for b in st._pool] == [2 * MiB]
        b = st.buffer("y", MiB, np.uint8)     # another tag, dtype and size: the same memory
        assert _addr(b) == p and b.dtype == np.uint8 and b.shape == (MiB,)
        assert not st._pool
        c = st.buffer("y", MiB // 2, np.uint8)   # the tag's array, as before
        assert _addr(c) == p
        del b, c
        st.free_buffers()                     # a pooled array's view goes back too
        assert [b.nbytes for b in st._pool] == [2 * MiB]
        d = st.buffer("z", MiB // 4, np.uint32)
        assert _addr(d) == p and d.dtype == np.uint32


def test_a_held_view_is_never_pooled():
    with scratch.session() as st:
        held = st.buffer("x", MiB // 4)
        held[:] = 1
        st.free_buffers()
        assert not st._pool
        b = st.buffer("y", MiB // 4)
        assert _addr(b) != _addr(held)
        b[:] = 2
        assert (held == 1).all()
        # nor a view of a pooled array
        del b
        st.free_buffers()
        v = st.buffer("z", MiB // 8)[3:]      # served from the pool, a view kept
        st.free_buffers()
        assert not st._pool
        w = st.buffer("u", MiB // 8)
        assert not np.shares_memory(v, w)


def test_pool_cap_and_small_arrays(monkeypatch):
    monkeypatch.setattr(scratch, "POOL_BYTES", 3 * MiB)
    with scratch.session() as st:
        for t, n in (("a", 2 * MiB), ("b", 2 * MiB), ("c", MiB), ("d", MiB // 2)):
            st.buffer(t, n // 8)
        st.free_buffers()
        # largest first within the cap; under POOL_MIN never
        assert sorted(b.nbytes for b in st._pool) == [MiB, 2 * MiB]
        assert st._pooled(MiB // 2) is None and len(st._pool) == 2
    assert not st._pool                        # the session's end forgets it
    monkeypatch.setattr(scratch, "POOL_BYTES", 0)
    with scratch.session() as st:
        st.buffer("a", MiB // 4)
        st.free_buffers()
        assert not st._pool


def test_a_request_none_fits_empties_the_pool():
    with scratch.session() as st:
        st.buffer("a", MiB // 4)
        st.buffer("b", MiB // 2)
        st.free_buffers()
        assert sorted(b.nbytes for b in st._pool) == [2 * MiB, 4 * MiB]
        big = st.buffer("w", MiB)             # 8 MiB: none fits
        assert not st._pool and big.shape == (MiB,)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64])
def test_pooled_contents_are_the_callers(dtype):
    """The pooled memory holds what its last user left (like a reused tag's array);
    the caller overwrites it: a round trip keeps its values."""
    with scratch.session() as st:
        st.buffer("a", MiB // 2)[:] = 0x5A5A5A5A5A5A5A5A
        st.free_buffers()
        n = 3 * MiB // np.dtype(dtype).itemsize
        b = st.buffer("b", n, dtype)
        want = (np.arange(n) % 251).astype(dtype)
        b[:] = want
        assert (st.buffer("b", n, dtype) == want).all()


@pytest.mark.parametrize("background", [False, True])
def test_discard_and_remove_delete_the_file(background, monkeypatch, tmp_path):
    """`Store.discard` / `Store.remove`: the file's name is gone when the call returns
    (with `BACKGROUND_DELETE` it is moved to the store's trash and unlinked by a thread),
    and nothing of the store is left after the session."""
    import os
    import time

    from zklora.zkcore.errors import ProverError

    monkeypatch.setattr(scratch, "BACKGROUND_DELETE", background)
    a = np.arange(1 << 12, dtype=np.uint64)
    with scratch.session(parent=str(tmp_path)) as st:
        hs = [st.save([a], tag=f"t{i}")[0] for i in range(5)]
        mm = st.build(a.shape, a.dtype, [(0, a)])
        path = mm.filename
        for h in hs:
            st.discard(h)
            assert not os.path.exists(h.path)
            with pytest.raises(ProverError):
                h.read_range(0, 1)
        st.remove(mm)
        assert not os.path.exists(path) and np.array_equal(np.asarray(mm), a)
        st.discard(hs[0])                      # gone already: nothing
        assert os.listdir(st.path) == []       # the store's folder: nothing left
        trash = st._trash
        assert (trash is not None) == background
        for _ in range(200):                   # the deleter thread empties the trash
            if not (trash and os.listdir(trash)):
                break
            time.sleep(0.01)
        assert not (trash and os.listdir(trash))
        h = st.save([a], tag="late")[0]
        st.discard(h)                          # a later discard: another thread
    assert os.listdir(tmp_path) == []
