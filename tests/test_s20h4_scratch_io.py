"""s20h4: `scratch.Store.build`'s in-kernel copies of staged parts and positioned writes,
and `Spilled.read_range`'s kept descriptors (same bytes as plain reads and writes)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from zklora.zkcore import scratch
from zklora.zkcore.errors import ProverError


def test_build_mixed_parts_match_plain_copy():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 1 << 63, (500, 2), dtype=np.uint64)
    with scratch.session() as st:
        m1 = st.build(a.shape, np.uint64, [(0, a)], tag="stage")
        m2 = st.build((300, 2), np.uint64, [(0, a[:100]), (100, a[100:200])], tag="stage")
        v = m2[50:150]
        parts = [(0, m1), (500, v), (700, np.asarray(m2[10:20])), (800, a[::2][:10]),
                 (900, np.arange(4, dtype=np.int64).reshape(2, 2)), (950, m1[::2][:5])]
        assert scratch._file_range(v, np.dtype(np.uint64))[1:] == (50 * 16, 100 * 16)
        assert scratch._file_range(m1[::2], np.dtype(np.uint64)) is None
        assert scratch._file_range(m1, np.dtype(np.int64)) is None
        out = st.build((1024, 2), np.uint64, parts)
        exp = np.zeros((1024, 2), np.uint64)
        exp[:500] = a
        exp[500:600] = a[50:150]
        exp[700:710] = a[10:20]
        exp[800:810] = a[::2][:10]
        exp[900:902] = np.arange(4).reshape(2, 2)
        exp[950:955] = a[::2][:5]
        assert np.array_equal(np.asarray(out), exp)
        assert not out.flags.writeable


def test_build_copies_from_a_removed_file_fall_back():
    a = np.arange(64, dtype=np.uint64)
    with scratch.session() as st:
        m = st.build(a.shape, np.uint64, [(0, a)], tag="stage")
        st.remove(m)            # the map stays readable, the file is gone
        out = st.build((128,), np.uint64, [(64, m)])
        assert np.array_equal(np.asarray(out)[64:], a)
        assert not np.asarray(out)[:64].any()


def test_build_from_offset_memmap(tmp_path):
    a = np.arange(3 * 4096, dtype=np.uint64)
    f = tmp_path / "x.bin"
    a.tofile(f)
    mm = np.memmap(f, dtype=np.uint64, mode="r", offset=8 * 4100, shape=(100,))
    with scratch.session() as st:
        out = st.build((100,), np.uint64, [(0, mm[3:])])
        assert np.array_equal(np.asarray(out)[:97], a[4103:4200])


def test_read_range_keeps_one_descriptor_and_closes_it():
    a = np.arange(40, dtype=np.int64).reshape(10, 4)
    with scratch.session() as st:
        h, = st.save([a])
        for lo, hi in [(0, 10), (3, 7), (9, 10), (5, 5), (-2, 20)]:
            assert np.array_equal(h.read_range(lo, hi), a[max(lo, 0):min(hi, 10)])
        assert list(st._fds) == [h.path]
        st.discard(h)
        assert not st._fds
        with pytest.raises(ProverError):
            h.read_range(0, 2)
        h2, = st.save([a], tag="b")
        h2.read_range(0, 1)
        fds = list(st._fds.values())
    assert fds and all(_closed(fd) for fd in fds)
    with pytest.raises(ProverError):    # after the session: the file is gone
        h2.read_range(0, 1)


def test_read_range_outside_a_session(tmp_path):
    a = np.arange(12, dtype=np.uint32).reshape(3, 4)
    f = tmp_path / "y.bin"
    f.write_bytes(b"\0" * 8 + a.tobytes())
    h = scratch.Spilled(str(f), 8, (3, 4), np.dtype(np.uint32).str)
    assert np.array_equal(h.read_range(1, 3), a[1:3])
    f.write_bytes(b"\0" * 8 + a.tobytes()[:20])
    with pytest.raises(ProverError):
        h.read_range(0, 3)


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False
