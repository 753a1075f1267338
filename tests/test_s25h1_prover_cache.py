"""The prover cache of frozen base-model commitments (`zklora.zkcore.provercache`,
`zklora.plugins.commitments.whir_cache`): the same proof with and without it, cached
files never written, bad entries a miss with a warning, corrupted large files a proof
that verification rejects, atomic stores."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from zklora.zkcore import provercache, pyapi
from zklora.zkcore.errors import ConfigError, ZkLoraError

TINY = "baf4528a9d24614999ecd7b5ada1d12199069c1358b6ced577cb8532a61f9021"


def _prove(cache=None, **kw):
    return pyapi.prove(task="train", model="tiny", zero_knowledge=False,
                       prover_cache=cache, **kw)


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _files(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): _sha(p.read_bytes()) for p in sorted(d.rglob("*"))
            if p.is_file()}


def _entry(d: Path) -> Path:
    (e,) = [p for p in d.iterdir() if not p.name.startswith(".")]
    return e


@pytest.fixture(params=["ram", "spilled"])
def mode(request, monkeypatch):
    """States in RAM (the tiny model's default) or spilled to scratch files (every
    array spilled: the streamed commitment's linked files)."""
    if request.param == "spilled":
        monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    return request.param


def test_same_proof_miss_then_hit_files_unchanged(tmp_path, mode):
    cache = tmp_path / "cache"
    r1 = _prove(cache)
    assert r1.prover_cache == "miss-stored"
    before = _files(cache)
    r2 = _prove(cache)
    assert r2.prover_cache == "hit"
    assert r1.data == r2.data
    assert _sha(r2.data) == TINY
    assert _files(cache) == before      # nothing wrote a cached file
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]
    if mode == "spilled":   # the tree's files are linked scratch files, not copies
        st = json.loads((_entry(cache) / "g0" / "state.json").read_text())
        assert st["tree"]["leaves"].get("spilled")
    pyapi.verify(r2.data)


def test_without_cache_same_bytes(tmp_path):
    assert _prove().data == _prove(tmp_path / "c").data


def _warned_miss(cache) -> bytes:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = _prove(cache)
    assert r.prover_cache == "miss-stored"
    assert any(issubclass(x.category, provercache.CacheWarning) for x in w)
    assert _sha(r.data) == TINY
    return r.data


def test_foreign_entry_is_a_miss(tmp_path):
    cache = tmp_path / "cache"
    _prove(cache)
    e = _entry(cache)
    doc = json.loads((e / "entry.json").read_text())
    doc["key"] = "0" * 64      # an entry made for other weights
    os.chmod(e / "entry.json", 0o644)
    (e / "entry.json").write_text(json.dumps(doc))
    _warned_miss(cache)
    assert _prove(cache).prover_cache == "hit"   # replaced by a good entry


def test_other_params_entry_is_a_miss(tmp_path):
    cache = tmp_path / "cache"
    _prove(cache)
    st = _entry(cache) / "g0" / "state.json"
    doc = json.loads(st.read_text())
    doc["params"]["rate_log"] = int(doc["params"]["rate_log"]) + 1
    os.chmod(st, 0o644)
    st.write_text(json.dumps(doc))
    _warned_miss(cache)


@pytest.mark.parametrize("part", ["table", "leaves", "level"])
def test_truncated_file_is_a_miss(tmp_path, mode, part):
    cache = tmp_path / "cache"
    _prove(cache)
    g = _entry(cache) / "g0"
    doc = json.loads((g / "state.json").read_text())
    desc = {"table": doc["table"], "leaves": doc["tree"]["leaves"],
            "level": doc["tree"]["levels"][0]}[part]
    f = g / desc["file"]
    os.chmod(f, 0o644)
    with open(f, "r+b") as fh:
        fh.truncate(max(0, f.stat().st_size - 8))
    _warned_miss(cache)


def test_bad_commitment_is_a_miss(tmp_path):
    cache = tmp_path / "cache"
    _prove(cache)
    st = _entry(cache) / "g0" / "state.json"
    doc = json.loads(st.read_text())
    doc["ood_values"][0] = (doc["ood_values"][0] + 1) % (2**64 - 2**32 + 1)
    os.chmod(st, 0o644)
    st.write_text(json.dumps(doc))
    _warned_miss(cache)


def _flip(path: Path, row_bytes: int, offset: int = 0, span: tuple[int, int] | None = None
          ) -> None:
    """Flip one byte of every row (a corruption no query can miss); with ``span``
    (start, bytes) only the rows of that part of the file (a tree's levels share one)."""
    os.chmod(path, 0o644)
    a = np.memmap(path, dtype=np.uint8, mode="r+")
    if span is not None:
        a = a[span[0]:span[0] + span[1]]
    a[offset::row_bytes] ^= 1
    a.flush()
    del a


@pytest.mark.parametrize("part", ["table", "leaves", "level"])
def test_corrupted_file_proof_rejected(tmp_path, mode, part):
    cache = tmp_path / "cache"
    _prove(cache)
    g = _entry(cache) / "g0"
    doc = json.loads((g / "state.json").read_text())
    if part == "level" and not doc["tree"]["levels"][0].get("spilled"):
        part = "leaves"   # an in-RAM tree's levels: read back, the root checked
    desc = {"table": doc["table"], "leaves": doc["tree"]["leaves"],
            "level": doc["tree"]["levels"][0]}[part]
    row = int(np.prod(desc["shape"][1:], dtype=np.int64)) * np.dtype(desc["dtype"]).itemsize \
        if part != "table" else 8
    span = None
    if part == "level":   # level 0 only: the levels above it (the root) share its file
        span = (int(desc["offset"]), row * int(desc["shape"][0]))
    _flip(g / desc["file"], row, 0 if span else int(desc["offset"]) % row, span)
    try:
        r = _prove(cache)
    except ZkLoraError:
        return   # detected by the prover
    assert r.prover_cache == "hit"
    with pytest.raises(ZkLoraError):
        pyapi.verify(r.data)


def test_zk_refused(tmp_path):
    with pytest.raises(ConfigError, match="zero_knowledge"):
        pyapi.prove(task="train", model="tiny", zero_knowledge=True,
                    prover_cache=tmp_path / "c")


def test_interrupted_store_leaves_nothing(tmp_path, monkeypatch):
    from zklora.plugins.commitments import whir_cache

    cache = tmp_path / "cache"
    real = whir_cache.WhirStateStore.save

    def boom(self, table, state, d):
        real(self, table, state, d)
        raise KeyboardInterrupt

    monkeypatch.setattr(whir_cache.WhirStateStore, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        _prove(cache)
    assert list(cache.iterdir()) == []

    def fail(self, table, state, d):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(whir_cache.WhirStateStore, "save", fail)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = _prove(cache)
    assert r.prover_cache == "miss" and _sha(r.data) == TINY
    assert any(issubclass(x.category, provercache.CacheWarning) for x in w)
    assert list(cache.iterdir()) == []


def test_commit_model_fills_the_cache(tmp_path):
    cache = tmp_path / "cache"
    mc = pyapi.commit_model("tiny", prover_cache=cache)
    r = _prove(cache, model_commitment=mc.commitment)
    assert r.prover_cache == "hit" and _sha(r.data) == TINY


def test_key_depends_on_values():
    from zklora.zkcore import published

    g = published.plan("frozen", [("a", 2), ("b", 1)])
    kw = dict(scheme="whir", store_version=1, field="goldilocks", stack={"x": 1},
              commitment_params={}, scope={"s": 1}, groups=g)
    v = {"a": np.arange(4), "b": np.array([5, 6])}
    k = provercache.key(values=v, **kw)
    assert k == provercache.key(values={"a": np.arange(4), "b": np.array([5, 6])}, **kw)
    assert k != provercache.key(values={"a": np.arange(4), "b": np.array([5, 7])}, **kw)
    assert k != provercache.key(values={"a": np.arange(4).astype(np.int32),
                                        "b": np.array([5, 6])}, **kw)
    assert k != provercache.key(values=v, **{**kw, "scope": {"s": 2}})


def test_stale_tmp_dirs_swept(tmp_path):
    """A ``.tmp-*`` directory a killed store left behind (older than STALE_TMP) is
    removed when the cache is opened; a young one (a live store's) is kept; entries are
    never touched."""
    old, young, entry = tmp_path / ".tmp-dead", tmp_path / ".tmp-live", tmp_path / "abc"
    for d in (old, young, entry):
        d.mkdir()
        (d / "f").write_bytes(b"x")
    t = os.stat(young).st_mtime
    os.utime(old, (t - provercache.STALE_TMP - 10, t - provercache.STALE_TMP - 10))
    os.utime(entry, (t - provercache.STALE_TMP - 10, t - provercache.STALE_TMP - 10))
    provercache.ProverCache.open(tmp_path)
    assert not old.exists()
    assert young.exists() and entry.exists()
