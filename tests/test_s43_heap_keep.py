"""`scratch.trim`'s bounded keep (`HEAP_KEEP`): the heap is trimmed only when its resident
free memory exceeds the cap, always when forced; `heap_resident_free` sees freed heap."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import scratch
from zklora.zkcore.errors import ConfigError


@pytest.fixture
def trims(monkeypatch):
    calls = []
    scratch.trim(force=True)   # loads libc into scratch._LIBC
    monkeypatch.setattr(scratch, "_LIBC", [lambda pad: calls.append(pad) or 0])
    return calls


def test_keep_skips_small_free(monkeypatch, trims):
    monkeypatch.setattr(scratch, "HEAP_KEEP", 100 << 20)
    monkeypatch.setattr(scratch, "heap_resident_free", lambda: 50 << 20)
    scratch.trim()
    assert trims == []
    scratch.trim(force=True)
    assert trims == [0]


def test_keep_trims_large_free(monkeypatch, trims):
    monkeypatch.setattr(scratch, "HEAP_KEEP", 100 << 20)
    monkeypatch.setattr(scratch, "heap_resident_free", lambda: (100 << 20) + 1)
    scratch.trim()
    assert trims == [0]


def test_keep_off_and_unknown_trim(monkeypatch, trims):
    monkeypatch.setattr(scratch, "HEAP_KEEP", 0)
    monkeypatch.setattr(scratch, "heap_resident_free", lambda: 0)
    scratch.trim()
    monkeypatch.setattr(scratch, "HEAP_KEEP", 1 << 30)
    monkeypatch.setattr(scratch, "heap_resident_free", lambda: None)
    scratch.trim()
    assert trims == [0, 0]


def test_release_with_trim_heap_goes_through_the_policy(monkeypatch, trims):
    monkeypatch.setattr(scratch, "HEAP_KEEP", 100 << 20)
    monkeypatch.setattr(scratch, "heap_resident_free", lambda: 1 << 20)
    scratch.release(trim_heap=True)
    assert trims == []


@pytest.mark.parametrize("bad", ["x", "-1", "1.5"])
def test_env_is_checked(monkeypatch, bad):
    monkeypatch.setenv("ZKLORA_HEAP_KEEP", bad)
    with pytest.raises(ConfigError, match="ZKLORA_HEAP_KEEP"):
        scratch._env_keep()
    monkeypatch.setenv("ZKLORA_HEAP_KEEP", "123")
    assert scratch._env_keep() == 123


def test_resident_free_sees_freed_heap():
    if scratch.heap_resident_free() is None:
        pytest.skip("no glibc mallinfo2 / /proc here")
    scratch.trim(force=True)
    # small blocks from the heap (below the mmap threshold), every other one kept so
    # the freed ones cannot merge into the heap's top and be released by free() itself
    blocks = [np.ones(8192) for _ in range(4096)]   # 64 KiB each, 256 MiB
    before = scratch.heap_resident_free()
    del blocks[::2]
    after = scratch.heap_resident_free()
    assert after - before > 64 << 20
    scratch.trim(force=True)
    assert scratch.heap_resident_free() < after - (64 << 20)
    del blocks
