"""Prover-cache size limit (`provercache.ProverCache.evict`): least recently used entries
go first, an entry in use (a shared lock on its directory) or just stored is never
removed, and the limit comes from ``max_bytes`` or ``ZKLORA_PROVER_CACHE_MAX_GB``."""

from __future__ import annotations

import fcntl
import os

import pytest

from zklora.zkcore import provercache as PC
from zklora.zkcore.errors import ConfigError

MB = 1 << 20


def _entry(root, name, nbytes, mtime):
    d = root / name
    (d / "g0").mkdir(parents=True)
    (d / "g0" / "f-1.bin").write_bytes(os.urandom(nbytes))
    (d / PC.ENTRY).write_bytes(b"{}")
    os.link(d / "g0" / "f-1.bin", d / "g0" / "f-2.bin")   # counted once
    os.utime(d, (mtime, mtime))
    return d


def _names(root):
    return sorted(p.name for p in root.iterdir())


def test_entry_bytes_counts_links_once(tmp_path):
    d = _entry(tmp_path, "a", MB, 1000)
    assert MB <= PC.entry_bytes(d) < MB + 64 * 1024


def test_evict_lru_until_under_limit(tmp_path):
    for i, n in enumerate("abcd"):
        _entry(tmp_path, n, MB, 1000 + i)
    c = PC.ProverCache.open(tmp_path, max_bytes=int(2.5 * MB))
    assert c.evict(keep=("a",)) == 2          # b, c: the oldest but a (kept)
    assert _names(tmp_path) == ["a", "d"]
    assert c.evicted == 2
    assert c.evict() == 0 or _names(tmp_path) != []


def test_no_limit_evicts_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(PC.MAX_GB_ENV, raising=False)
    for i, n in enumerate("ab"):
        _entry(tmp_path, n, MB, 1000 + i)
    c = PC.ProverCache.open(tmp_path)
    assert c.max_bytes is None and c.evict() == 0
    assert _names(tmp_path) == ["a", "b"]


def test_entry_in_use_is_kept(tmp_path):
    for i, n in enumerate("abc"):
        _entry(tmp_path, n, MB, 1000 + i)
    # another prover's hit: a shared lock on "a" (a separate open file description)
    fd = os.open(tmp_path / "a", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        c = PC.ProverCache.open(tmp_path, max_bytes=0)
        assert c.evict() == 2
        assert _names(tmp_path) == ["a"]
    finally:
        os.close(fd)
    assert c.evict() == 1 and _names(tmp_path) == []


def test_own_lock_and_close(tmp_path):
    _entry(tmp_path, "a", MB, 1000)
    c = PC.ProverCache.open(tmp_path, max_bytes=0)
    c._locks["a"] = PC._lock_dir(tmp_path / "a", fcntl.LOCK_SH)
    other = PC.ProverCache.open(tmp_path, max_bytes=0)
    assert c.evict() == 0 and other.evict() == 0
    c.close()
    assert other.evict() == 1 and _names(tmp_path) == []


def test_limit_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv(PC.MAX_GB_ENV, "0.5")
    assert PC.ProverCache.open(tmp_path).max_bytes == 1 << 29
    assert PC.ProverCache.open(tmp_path, max_bytes=7).max_bytes == 7
    for bad in ("x", "-1", "nan"):
        monkeypatch.setenv(PC.MAX_GB_ENV, bad)
        with pytest.raises(ConfigError):
            PC.ProverCache.open(tmp_path)
    with pytest.raises(ConfigError):
        PC.ProverCache.open(tmp_path, max_bytes=-1)


def test_hit_holds_lock_until_close(tmp_path):
    """A tiny prove with a cache: a hit's entry survives a zero limit while its cache is
    open (a `ProverCache` passed in is the caller's to close), is evictable after
    `close`; a cache `api.prove` opened itself (a directory) is closed by it."""
    import hashlib

    from zklora.zkcore import pyapi

    cache = tmp_path / "cache"
    kw = dict(task="train", model="tiny", zero_knowledge=False)
    r1 = pyapi.prove(prover_cache=str(cache), **kw)
    assert r1.prover_cache == "miss-stored"
    (k,) = [p.name for p in cache.iterdir() if not p.name.startswith(".")]
    mine = PC.ProverCache.open(cache)
    r2 = pyapi.prove(prover_cache=mine, **kw)
    assert r2.prover_cache == "hit"
    assert hashlib.sha256(r2.data).digest() == hashlib.sha256(r1.data).digest()
    other = PC.ProverCache.open(cache, max_bytes=0)
    assert other.evict() == 0 and (cache / k).is_dir()
    mine.close()
    assert other.evict() == 1 and not (cache / k).exists()
