"""`scratch.trim`'s bounded keep (`HEAP_KEEP`): the heap is trimmed only when its resident
free memory exceeds the cap, always when forced; `heap_resident_free` sees freed heap."""

from __future__ import annotations

import os

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
        scratch._env_bytes("ZKLORA_HEAP_KEEP", 0)
    monkeypatch.setenv("ZKLORA_HEAP_KEEP", "123")
    assert scratch._env_bytes("ZKLORA_HEAP_KEEP", 0) == 123
    monkeypatch.delenv("ZKLORA_HEAP_KEEP")
    assert scratch._env_bytes("ZKLORA_HEAP_KEEP", 7) == 7


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


def test_thresholds_nest_and_restore(monkeypatch, trims):
    """A session sets `HEAP_MMAP`; the lookups' `heap_reuse` inside keeps the larger of
    its own and the session's; each block's end restores the enclosing thresholds."""
    calls = []
    monkeypatch.setattr(scratch, "_mallopt", lambda p, v: calls.append((p, v)) or True)
    monkeypatch.setattr(scratch, "HEAP_MMAP", 1 << 30)
    monkeypatch.setattr(scratch, "HEAP_KEEP", 0)
    M, T = scratch._M_MMAP_THRESHOLD, scratch._M_TRIM_THRESHOLD
    with scratch.session():
        assert calls == [(M, 1 << 30), (T, 64 << 20)]
        with scratch.heap_reuse(768 << 20):
            assert calls[-2:] == [(M, 1 << 30), (T, 1 << 30)]
        assert calls[-2:] == [(M, 1 << 30), (T, 64 << 20)] and len(calls) == 6
        with scratch.heap_thresholds(2 << 30, 5):
            pass
        assert calls[-2:] == [(M, 1 << 30), (T, 64 << 20)]
    assert calls[-2:] == [(M, 32 << 20), (T, 64 << 20)]
    assert scratch._THRESHOLDS == [(32 << 20, 64 << 20)]
    assert len(trims) == 3   # after each block


def test_no_session_thresholds_when_off(monkeypatch):
    calls = []
    monkeypatch.setattr(scratch, "_mallopt", lambda p, v: calls.append((p, v)) or True)
    monkeypatch.setattr(scratch, "HEAP_MMAP", 0)
    with scratch.session():
        pass
    assert calls == []


def test_prove_defaults_keep_the_heap():
    """Session 44's defaults: a prove's heap serves every array itself (glibc's largest
    mmap threshold) and its phase ends keep up to 1 GiB of freed memory."""
    if os.environ.get("ZKLORA_HEAP_KEEP") or os.environ.get("ZKLORA_HEAP_MMAP"):
        pytest.skip("the environment sets the heap policy")
    assert scratch.HEAP_KEEP == 1 << 30
    assert scratch.HEAP_MMAP == scratch._MALLOPT_MAX == (1 << 31) - 1


def test_mallopt_values_are_clamped_to_an_int(monkeypatch):
    got = []

    class Lib:
        @staticmethod
        def mallopt(p, v):
            got.append((p, v))
            return 1

    monkeypatch.setattr(scratch, "_libc", lambda: Lib)
    assert scratch._mallopt(scratch._M_TRIM_THRESHOLD, 16 << 30)
    assert scratch._mallopt(scratch._M_MMAP_THRESHOLD, 5)
    assert got == [(scratch._M_TRIM_THRESHOLD, (1 << 31) - 1), (scratch._M_MMAP_THRESHOLD, 5)]
