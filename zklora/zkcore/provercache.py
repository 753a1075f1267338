"""Persistent prover cache of the frozen base-model commitments (the "prover key").

Every proof over a model with frozen weights commits them first (`api.commit_frozen`:
stack each group of the model commitment and commit it, `published.commit_groups`), and
the proof later opens those commitments through their prover states.  The model
commitment is a fixed function of the frozen tensors' integers, the protocol stack and
the commitment parameters, so a prover proving many steps over one base model remakes
the same states every time.  A *prover cache* is a directory of such states:

    DIR/<key>/entry.json      format, key, scheme, groups with their commitments
    DIR/<key>/g<k>/...        group k's state, written by the scheme's state store

``key`` = BLAKE3 (`key`) of everything a state depends on: `FORMAT`, the scheme, its
store's version, the field, the stack, the commitment parameters, the model's scope, the
groups (names and sizes) and every frozen tensor's dtype, shape and bytes.

A scheme takes part when a plugin contributes a *state store* for it (hook
``zk_state_stores``: an object with ``name`` = the scheme's name, ``version`` (int) and
``save(table, state, dir)`` / ``load(dir, scheme, num_vars) -> (table, state)``); a
scheme without one simply gets no cache (`CacheNote`).  The kernel never imports a
plugin.

* A hit loads the states: the store maps the entry's files (read-only memory maps,
  `scratch.Spilled` handles) — nothing large is read or copied — and the commitments
  are not made.  A cached file is never written: the prover's readers open them
  read-only, and the scratch store deletes only files of its own directory
  (`scratch.Store.discard`).
* A miss commits as before and then stores the entry *atomically*: it is written into
  ``DIR/.tmp-*`` (the scratch session's files hard-linked when on the same file system,
  copied otherwise) and renamed to ``DIR/<key>`` in one step, the temporary directory
  removed on any error or interrupt; a reader never sees a half-written entry.
* An entry that does not parse, is of another format or key, or whose files are
  missing or shorter than recorded is a miss with a warning (and is replaced).  What a
  cheap check cannot see (a flipped byte in a large cached file) makes a proof that
  verification rejects (the opened leaves no longer hash to the committed root): never
  a proof of other weights that verifies.

Zero-knowledge proofs commit with randomised hiding commitments: they cannot use the
cache (`api.prove` refuses the combination).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import blake3
import numpy as np

from . import scratch
from .canon import canonical_json
from .errors import ConfigError, ProverError

#: version of the cache layout (entry.json) and of the key's definition
FORMAT = 1
ENTRY = "entry.json"
MAX_ENTRY = 4 << 20


class CacheWarning(UserWarning):
    """A prover-cache entry was unusable (treated as a miss) or could not be stored."""


class CacheNote(UserWarning):
    """The prover cache was not used (a scheme without a state store)."""


def _array(v) -> np.ndarray:
    """A C-contiguous numpy view of a tensor's integers (a torch tensor or an array)."""
    if hasattr(v, "detach"):
        v = v.detach()
        if getattr(v, "device", None) is not None and str(v.device) != "cpu":
            v = v.cpu()
        v = v.contiguous().numpy()
    return np.ascontiguousarray(np.asarray(v))


def key(*, scheme: str, store_version: int, field: str, stack: Mapping[str, Any],
        commitment_params: Mapping[str, Any], scope: Mapping[str, Any],
        groups: Sequence, values: Mapping[str, Any]) -> str:
    """The entry key (module doc): BLAKE3 (multi-threaded) of a canonical header and
    every member tensor's bytes, in group order."""
    arrays = {n: _array(values[n]) for g in groups for n in g.names}
    head = canonical_json({
        "format": FORMAT, "scheme": scheme, "store_version": int(store_version),
        "field": field, "stack": dict(stack), "commitment_params": dict(commitment_params),
        "scope": dict(scope),
        "groups": [[g.name, list(g.names), list(g.nvars)] for g in groups],
        "tensors": [[n, a.dtype.str, list(a.shape)] for n, a in arrays.items()]})
    h = blake3.blake3(b"zklora/prover-cache/v1", max_threads=blake3.blake3.AUTO)
    h.update(len(head).to_bytes(8, "little") + head)
    for a in arrays.values():
        if a.size:
            h.update(memoryview(a.reshape(-1)).cast("B"))
    return h.hexdigest()


def link_or_copy(src: str, dst: str) -> None:
    """``dst`` becomes the file ``src``: a hard link (no bytes copied) on the same file
    system, a copy otherwise."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def write_array(path: str, a: np.ndarray) -> dict[str, Any]:
    """Write ``a`` (C order) to a new file; its description for `read_array`."""
    a = np.ascontiguousarray(a)
    with open(path, "wb") as f:
        if a.size:
            f.write(memoryview(a.reshape(-1)).cast("B"))
    return {"file": os.path.basename(path), "offset": 0, "shape": list(a.shape),
            "dtype": a.dtype.str}


def check_file(d: Path, desc: Mapping[str, Any]) -> str:
    """The path of a described array's file in entry directory ``d``, after checking
    that it exists and holds the described bytes (`ProverError` otherwise)."""
    name = desc["file"]
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        raise ProverError(f"prover cache: bad file name {name!r}")
    p = d / name
    need = int(desc["offset"]) + int(np.prod(desc["shape"], dtype=np.int64)) * \
        np.dtype(desc["dtype"]).itemsize
    try:
        size = p.stat().st_size
    except OSError:
        raise ProverError(f"prover cache: {p} is missing") from None
    if size < need:
        raise ProverError(f"prover cache: {p} is truncated ({size} of {need} bytes)")
    return str(p)


def map_array(d: Path, desc: Mapping[str, Any]) -> np.ndarray:
    """A described array as a read-only memory map of its file (nothing read)."""
    path = check_file(d, desc)
    shape = tuple(int(x) for x in desc["shape"])
    if not int(np.prod(shape, dtype=np.int64)):
        return np.empty(shape, dtype=np.dtype(desc["dtype"]))
    return np.memmap(path, dtype=np.dtype(desc["dtype"]), mode="r",
                     offset=int(desc["offset"]), shape=shape)


def read_array(d: Path, desc: Mapping[str, Any]) -> np.ndarray:
    """A (small) described array read into RAM."""
    return np.array(map_array(d, desc))


#: a temporary directory older than this (seconds) is a store killed before it could
#: clean up (a store takes seconds): `ProverCache.open` removes it
STALE_TMP = 3600


def _sweep(path: Path, now: float | None = None) -> None:
    """Remove the ``.tmp-*`` directories a killed store left in ``path`` (older than
    `STALE_TMP`; a live store's are younger and kept)."""
    import time

    now = time.time() if now is None else now
    for p in path.glob(".tmp-*"):
        try:
            if p.is_dir() and now - p.stat().st_mtime > STALE_TMP:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


#: environment variable: the cache's size limit in GiB (`ProverCache.open`)
MAX_GB_ENV = "ZKLORA_PROVER_CACHE_MAX_GB"


def parse_max_gb(value, what: str = MAX_GB_ENV) -> int:
    """Bytes of a size limit ``value`` given in GiB (a number or its text, e.g. "2.5");
    a `ConfigError` naming ``what`` (the option or variable it came from) unless it is a
    finite number ≥ 0."""
    try:
        gb = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number of GiB (≥ 0), got {value!r}") from None
    if not math.isfinite(gb) or gb < 0:
        raise ConfigError(f"{what} must be a finite number of GiB ≥ 0, got {value!r}")
    return int(gb * (1 << 30))


def _max_bytes(max_bytes: int | None) -> int | None:
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or int(max_bytes) < 0:
            raise ConfigError(f"prover cache size limit must be ≥ 0 bytes, got {max_bytes!r}")
        return int(max_bytes)
    env = os.environ.get(MAX_GB_ENV)
    if env is None or not env.strip():
        return None
    return parse_max_gb(env, MAX_GB_ENV)


def entry_bytes(d: Path) -> int:
    """Disk bytes of an entry directory (allocated blocks; a file linked twice counted
    once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def _lock_dir(d: Path, how: int) -> int | None:
    """A descriptor of directory ``d`` holding ``flock`` lock ``how``, checked to be
    still the directory at ``d`` (an evicted entry is renamed away); None when ``d`` is
    gone or (non-blocking) the lock is held elsewhere."""
    try:
        fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, how)
        if os.path.samestat(os.fstat(fd), os.stat(d)):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


@attrs.define
class ProverCache:
    """A prover-cache directory (module doc); created when missing.

    ``max_bytes`` (None: no limit): after storing an entry, the least recently used
    other entries are evicted until the directory's entries take at most that many
    bytes on disk (`evict`).  An entry a prover is using (a hit of this or another
    process, until `close`) holds a shared lock on its directory and is never
    evicted."""

    path: Path
    hits: int = 0
    misses: int = 0
    stored: int = 0
    max_bytes: int | None = None
    evicted: int = 0
    #: shared locks on the entries in use (key -> directory descriptor)
    _locks: dict = attrs.field(factory=dict, repr=False)

    @classmethod
    def open(cls, path, max_bytes: int | None = None) -> ProverCache:
        """The cache at ``path``; ``max_bytes`` (default: ``ZKLORA_PROVER_CACHE_MAX_GB``
        GiB when set, else no limit) its size limit."""
        limit = _max_bytes(max_bytes)
        p = Path(os.fspath(path))
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"prover cache {p}: cannot create it ({e.strerror or e})") \
                from None
        if not p.is_dir() or not os.access(p, os.W_OK | os.X_OK):
            raise ConfigError(f"prover cache {p} is not a writable directory")
        _sweep(p)
        return cls(p, max_bytes=limit)

    def load(self, k: str, store, scheme, groups: Sequence) -> list | None:
        """[(group with its commitment, table, state)] of entry ``k`` for the expected
        ``groups``; None on a miss (a bad entry: a `CacheWarning` too).  A hit holds a
        shared lock on the entry (no eviction) until `close` and marks it used (its
        directory's mtime: the eviction order)."""
        d = self.path / k
        fd = self._locks.get(k)
        if fd is None:
            fd = _lock_dir(d, fcntl.LOCK_SH) if d.is_dir() else None
        if fd is None:
            self.misses += 1
            return None
        try:
            out = self._load(d, k, store, scheme, groups)
        except (ProverError, OSError, ValueError, KeyError, TypeError, IndexError,
                AttributeError) as e:
            self._locks.pop(k, None)
            os.close(fd)
            warnings.warn(f"prover cache entry {d} is unusable ({e}); committing the base "
                          "weights again and replacing it", CacheWarning, stacklevel=3)
            self.misses += 1
            return None
        self._locks[k] = fd
        try:
            os.utime(d)
        except OSError:
            pass
        self.hits += 1
        store_ = scratch.current()
        if store_ is not None:   # the tables' pages given back at the phase boundaries
            for _, table, _ in out:
                store_.adopt(table)
        return out

    def _load(self, d: Path, k: str, store, scheme, groups: Sequence) -> list:
        raw = (d / ENTRY).read_bytes()
        if len(raw) > MAX_ENTRY:
            raise ProverError("entry.json is too large")
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("zklora_prover_cache") != FORMAT:
            raise ProverError("not an entry of this format")
        if doc.get("key") != k or doc.get("scheme") != scheme.name or \
                doc.get("store_version") != store.version:
            raise ProverError("entry of another key, scheme or store version")
        descs = doc["groups"]
        if not isinstance(descs, list) or len(descs) != len(groups):
            raise ProverError("entry of other groups")
        out = []
        for i, (g, gd) in enumerate(zip(groups, descs)):
            if gd.get("name") != g.name or gd.get("tensors") != g.members():
                raise ProverError(f"group {g.name!r}: other members")
            com = bytes.fromhex(gd["commitment"])
            if len(com) != scheme.commitment_size(g.num_vars):
                raise ProverError(f"group {g.name!r}: commitment of the wrong size")
            table, state = store.load(d / f"g{i}", scheme, g.num_vars)
            if state.commitment != com:
                raise ProverError(f"group {g.name!r}: state of another commitment")
            out.append((g.with_commitment(com), table, state))
        return out

    def save(self, k: str, store, scheme, done: Sequence) -> bool:
        """Store entry ``k`` of ``done`` = [(group with commitment, table, state)]
        atomically (module doc); False (with a `CacheWarning`) when it could not be
        written.  An existing entry ``k`` (a concurrent prover's, or a bad one) is
        replaced."""
        tmp = None
        try:
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.path))
            groups = []
            for i, (g, table, state) in enumerate(done):
                sub = tmp / f"g{i}"
                sub.mkdir()
                store.save(table, state, sub)
                groups.append({"name": g.name, "commitment": g.commitment.hex(),
                               "tensors": g.members()})
            doc = {"zklora_prover_cache": FORMAT, "key": k, "scheme": scheme.name,
                   "store_version": store.version, "groups": groups}
            (tmp / ENTRY).write_bytes(canonical_json(doc))
            for p in tmp.rglob("*"):   # nothing may write a cached file (module doc)
                if p.is_file():
                    os.chmod(p, 0o444)
            final = self.path / k
            if final.exists():   # a bad entry (`load` warned) or a concurrent prover's
                old = Path(tempfile.mkdtemp(prefix=".tmp-old-", dir=self.path))
                os.replace(final, old / "e")
                shutil.rmtree(old, ignore_errors=True)
            os.replace(tmp, final)
            tmp = None
            self.stored += 1
        except (OSError, ProverError, ValueError) as e:
            warnings.warn(f"prover cache {self.path}: cannot store the entry ({e}); the "
                          "proof goes on without it", CacheWarning, stacklevel=3)
            return False
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        self.evict(keep=(k,))
        return True

    def evict(self, keep: Sequence[str] = ()) -> int:
        """With a size limit, remove the least recently used entries (oldest directory
        mtime first) until the entries take at most ``max_bytes``, except ``keep``, the
        entries this cache uses and any another prover holds (its shared lock): each is
        locked exclusively and renamed out of the way in one step, then deleted (a
        reader never sees half an entry).  The number removed."""
        if self.max_bytes is None:
            return 0
        ents = []
        try:
            for p in self.path.iterdir():
                if p.name.startswith(".") or not p.is_dir():
                    continue
                try:
                    ents.append((p.stat().st_mtime, p.name, entry_bytes(p)))
                except OSError:
                    continue
        except OSError:
            return 0
        total = sum(b for _, _, b in ents)
        done = 0
        for _, name, size in sorted(ents):
            if total <= self.max_bytes:
                break
            if name in keep or name in self._locks:
                continue
            d = self.path / name
            fd = _lock_dir(d, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if fd is None:   # in use by another prover, or gone
                continue
            old = None
            try:
                old = Path(tempfile.mkdtemp(prefix=".tmp-old-", dir=self.path))
                os.replace(d, old / "e")
                ok = True
            except OSError:
                ok = False
            finally:
                os.close(fd)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            if not ok:
                continue
            total -= size
            done += 1
        self.evicted += done
        return done

    def close(self) -> None:
        """Release the entries in use (their shared locks): they may be evicted again."""
        locks, self._locks = self._locks, {}
        for fd in locks.values():
            try:
                os.close(fd)
            except OSError:
                pass

    def status(self) -> str:
        """``hit``, ``miss`` (stored), ``miss`` or ``unused``."""
        if self.hits:
            return "hit"
        if self.misses:
            return "miss-stored" if self.stored else "miss"
        return "unused"


def commit_frozen_cached(cache: ProverCache, store, scheme, field, *, stack, params, scope,
                         groups: Sequence, values: Mapping[str, Any], commit) -> list:
    """The frozen groups with their commitments and (group, table, state) each: from
    ``cache`` on a hit, else made by ``commit(groups, states)`` (the caller's
    `published.commit_groups`) and stored."""
    k = key(scheme=scheme.name, store_version=store.version, field=field.name, stack=stack,
            commitment_params=params, scope=scope, groups=groups, values=values)
    hit = cache.load(k, store, scheme, groups)
    if hit is not None:
        return hit
    states: dict = {}
    done = commit(groups, states)
    out = [(g, states[g.names[0]].table, states[g.names[0]].state) for g in done]
    cache.save(k, store, scheme, out)
    return out
