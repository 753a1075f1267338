"""`scratch.Store.build(direct=True)` writes its parts' whole aligned blocks with direct
I/O (`scratch.DIRECT_BUILD`): the map it returns holds exactly the bytes written — parts at
aligned and unaligned offsets, ragged tails, gaps read as zeros — with direct I/O on or
off, and when the file system refuses a direct write part-way (buffered fallback)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from zklora.zkcore import scratch

#: (first row, rows) of a (rows, 5) uint64 array: 40-byte rows, so a part starts on a
#: 4096-byte block only at multiples of 512 rows, and most parts end inside a block
PARTS = [(0, 1024), (1024, 3), (1100, 700), (2048, 1536), (3600, 1), (4096, 2000)]
ROWS = 6400


def _expected(rng_seed: int = 1) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    rng = np.random.default_rng(rng_seed)
    full = np.zeros((ROWS, 5), np.uint64)
    parts = []
    for first, n in PARTS:
        a = rng.integers(0, 1 << 63, (n, 5), dtype=np.uint64)
        full[first:first + n] = a
        parts.append((first, a))
    return full, parts


def _track_direct(monkeypatch) -> set[int]:
    """The descriptors `scratch._open_direct_w` hands out from now on (the direct ones)."""
    fds: set[int] = set()
    real_open = scratch._open_direct_w

    def opener(path):
        fd = real_open(path)
        if fd >= 0:
            fds.add(fd)
        return fd

    monkeypatch.setattr(scratch, "_open_direct_w", opener)
    return fds


def _direct_ok(path: str) -> bool:
    fd = scratch._open_direct_w(path)
    if fd < 0:
        return False
    os.close(fd)
    return True


@pytest.mark.parametrize("direct, switch", [(True, True), (True, False), (False, True)])
def test_build_holds_the_parts(tmp_path, monkeypatch, direct, switch):
    monkeypatch.setattr(scratch, "DIRECT_BUILD", switch)
    full, parts = _expected()
    calls = []
    real = scratch.Store._write_direct

    def spy(self, dfd, fd, b, pos):
        calls.append((pos, len(b)))
        return real(self, dfd, fd, b, pos)

    monkeypatch.setattr(scratch.Store, "_write_direct", spy)
    with scratch.session(str(tmp_path)) as store:
        mm = store.build((ROWS, 5), np.uint64, parts, direct=direct)
        assert np.array_equal(np.asarray(mm), full)
        probe = os.path.join(store.path, "probe.bin")
        open(probe, "wb").close()
        took = _direct_ok(probe)
    if direct and switch and took:
        # every part went through the direct writer (which writes whole blocks direct)
        assert len(calls) == len(PARTS)
    else:
        assert calls == []


def test_build_direct_blocks_are_direct(tmp_path, monkeypatch):
    """The aligned whole blocks go to the direct descriptor, the ragged tails and the
    unaligned parts to the buffered one."""
    full, parts = _expected(2)
    writes: list[tuple[bool, int, int]] = []
    real = scratch._pwrite_all
    direct_fds = _track_direct(monkeypatch)

    def spy(fd, buf, pos):
        writes.append((fd in direct_fds, pos, len(buf)))
        return real(fd, buf, pos)

    monkeypatch.setattr(scratch, "_pwrite_all", spy)
    with scratch.session(str(tmp_path)) as store:
        mm = store.build((ROWS, 5), np.uint64, parts, direct=True)
        assert np.array_equal(np.asarray(mm), full)
    if not direct_fds:
        pytest.skip("no O_DIRECT on this file system")
    for is_direct, pos, n in writes:
        if is_direct:
            assert pos % scratch.DIO_ALIGN == 0 and n % scratch.DIO_ALIGN == 0
    # part (0, 1024 rows) = 40,960 B from 0: 10 whole blocks direct; (2048, 1536) from
    # byte 81,920 (aligned): 61,440 B = 15 blocks direct; (4096, 2000) from 163,840:
    # 80,000 B = 19 blocks direct + 2,176 B buffered
    assert sum(n for d, _, n in writes if d) == (10 + 15 + 19) * 4096
    assert sum(n for _, _, n in writes) == sum(n * 40 for _, n in PARTS)


def test_build_falls_back_when_direct_write_fails(tmp_path, monkeypatch):
    full, parts = _expected(3)
    real = scratch._pwrite_all
    direct_fds = _track_direct(monkeypatch)
    failed = []

    def flaky(fd, buf, pos):
        if fd in direct_fds and pos >= 81920:   # the second direct run fails part-way
            failed.append(pos)
            raise OSError(22, "Invalid argument")
        return real(fd, buf, pos)

    monkeypatch.setattr(scratch, "_pwrite_all", flaky)
    with scratch.session(str(tmp_path)) as store:
        mm = store.build((ROWS, 5), np.uint64, parts, direct=True)
        assert np.array_equal(np.asarray(mm), full)
    if direct_fds:
        assert failed == [81920]
