"""Per-proof scratch directory for large prover state kept on disk (DESIGN.md §3.9).

A commitment scheme whose prover state is large (Ligero's codewords and Merkle levels)
writes it to files in the *current scratch store* instead of holding it in RAM, and
reads back only what an opening needs.  The store is a temporary directory created by
`session` (the kernel enters one per proof: `zklora.zkcore.api.prove` and
`zklora.zkcore.graph.prove`) and removed when the session ends, whether the proof
succeeds, fails or is interrupted (KeyboardInterrupt included, and SIGTERM: in the main
thread the outermost session turns a SIGTERM whose handler is the default into
`SystemExit`, so a killed prover removes its directory too).  Nested sessions share
the outermost store.  Outside a session `current()` is None and schemes keep their
state in RAM.

Files are written with plain sequential writes and read through short-lived read-only
memory maps (`Store.read_rows`), so pages of a spilled array count towards the
process's resident set only while a read runs; the kernel's page cache holds them
otherwise and may evict them under memory pressure.  Arrays that many readers share
(the kernel's stacked vectors, `Store.build`) are long-lived read-only maps instead;
their pages are given back by `drop`/`release` (``MADV_DONTNEED``) once a phase or a
segment has read them.

``ZKLORA_SCRATCH_DIR`` chooses the parent directory (default: the system temporary
directory); ``ZKLORA_SPILL_BYTES`` the size above which a scheme spills (default
`DEFAULT_THRESHOLD`; 0 spills everything, useful in tests).
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import itertools
import math
import mmap
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import attrs
import numpy as np

from .errors import ConfigError, ProverError

#: spill arrays of at least this many bytes (64 MiB)
DEFAULT_THRESHOLD = 64 << 20

#: elements per block of `Store.save`'s type conversion (its buffer: 8 bytes each at
#: most, 1 MiB, cache-resident between the conversion and the write)
_SAVE_BLOCK = 1 << 17

#: `Store.free_buffers` keeps at most this many bytes of the phase's work arrays
#: (`Store.buffer`) for the next phases' requests (fresh pages cost ≈ 0.5–0.9 s of CPU
#: a GiB on this VM); 0 (the default): none kept, each phase faults its own in.  At
#: 128 MiB (s41h3) 84m without the prover cache took 40 MiB of commitments' arrays from
#: model-commitment's (peak 2,412 -> 2,420 MiB, the CPU gain below the noise), but 25m's
#: peak grew 984 -> 1,115 MiB: pooled arrays a later phase never asks for stay resident
#: through its peak (the lookups', then the openings')
POOL_BYTES = 0
#: work arrays under this many bytes are not pooled (the C heap keeps them cheaply)
POOL_MIN = 1 << 20

#: `Store.discard` and `Store.remove` move the file into the store's trash folder and a
#: thread unlinks it (the prover does not wait for the file system); False: removed at
#: once in the caller's thread
BACKGROUND_DELETE = True

#: direct I/O (``O_DIRECT``): file offsets, lengths and buffer addresses are multiples
#: of this many bytes
DIO_ALIGN = 4096
#: bytes of `Store.save`'s staging buffer with ``direct`` (a multiple of `DIO_ALIGN`;
#: written to the file when full)
_DIO_STAGE = 4 << 20

_CURRENT: contextvars.ContextVar[Store | None] = contextvars.ContextVar("zklora_scratch",
                                                                       default=None)


@attrs.frozen
class Spilled:
    """An array stored in a scratch file: ``shape`` and ``dtype`` at byte ``offset``."""

    path: str
    offset: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        # (math.prod: every positioned read asks; np.prod of a tuple costs ~5 µs)
        return math.prod(int(d) for d in self.shape) * np.dtype(self.dtype).itemsize

    def _map(self) -> np.memmap:
        try:
            return np.memmap(self.path, dtype=self.dtype, mode="r", offset=self.offset,
                             shape=self.shape)
        except (OSError, ValueError) as e:
            raise ProverError(f"scratch file {self.path} is gone or truncated ({e}); was "
                              "the state used after its proof ended?") from None

    def read_rows(self, idx: np.ndarray | Sequence[int]) -> np.ndarray:
        """Rows ``idx`` (along the first axis) copied into RAM."""
        mm = self._map()
        try:
            return np.array(mm[np.asarray(idx, dtype=np.int64)])
        finally:
            del mm

    def read_range(self, lo: int, hi: int) -> np.ndarray:
        """Rows [lo, hi) (along the first axis) copied into RAM, read with positioned
        reads (no mapping: nothing of the file stays in the resident set).  Inside the
        session whose store made the file, the store's descriptor of it is reused
        (`Store.reader`) instead of opening and closing the file for every read."""
        row = self.nbytes // max(1, self.shape[0]) if self.shape else self.nbytes
        lo, hi = max(0, int(lo)), min(int(hi), self.shape[0] if self.shape else 1)
        out = np.empty((max(0, hi - lo),) + tuple(self.shape[1:]), dtype=self.dtype)
        if hi <= lo:
            return out
        buf = memoryview(out.reshape(-1)).cast("B")
        pos = self.offset + lo * row
        store = _CURRENT.get()
        try:
            fd = store.reader(self.path) if store is not None else None
            if fd is None:
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    got = _pread_all(fd, buf, pos)
                finally:
                    os.close(fd)
            else:
                got = _pread_all(fd, buf, pos)
        except OSError as e:
            raise ProverError(f"scratch file {self.path} is gone ({e}); was the state used "
                              "after its proof ended?") from None
        if got != out.nbytes:
            raise ProverError(f"scratch file {self.path} is truncated")
        return out

    def load(self) -> np.ndarray:
        """The whole array copied into RAM."""
        mm = self._map()
        try:
            return np.array(mm)
        finally:
            del mm

    @contextmanager
    def mapped(self) -> Iterator[np.ndarray]:
        """A read-only memory map of the array, unmapped at the end of the block."""
        mm = self._map()
        try:
            yield mm
        finally:
            del mm


@attrs.frozen
class Direct(Spilled):
    """A `Spilled` array that `Store.save` wrote with direct I/O (``direct``): it starts
    at a `DIO_ALIGN`-aligned offset of a file padded to whole aligned blocks, and
    `read_range` (and `load`) read it with direct I/O too, so neither the write nor a
    read leaves page-cache pages behind (fresh pages: see `Store.save`).  Memory-mapped
    reads (`read_rows`, `mapped`) go through the page cache as for any file."""

    def read_range(self, lo: int, hi: int) -> np.ndarray:
        """Rows [lo, hi) copied into RAM (`Spilled.read_range`), read with ``O_DIRECT``
        into an aligned buffer: the result is a view of it (the rows' aligned blocks;
        at most 2 `DIO_ALIGN` more bytes)."""
        row = self.nbytes // max(1, self.shape[0]) if self.shape else self.nbytes
        lo, hi = max(0, int(lo)), min(int(hi), self.shape[0] if self.shape else 1)
        tail = tuple(self.shape[1:])
        if hi <= lo:
            return np.empty((0,) + tail, dtype=self.dtype)
        start, end = self.offset + lo * row, self.offset + hi * row
        a0, a1 = start - start % DIO_ALIGN, end + (-end) % DIO_ALIGN
        buf = aligned_empty(a1 - a0)
        store = _CURRENT.get()
        try:
            fd = store.reader(self.path, direct=True) if store is not None else None
            if fd is None:
                fd = _open_direct(self.path)
                try:
                    got = _pread_all(fd, memoryview(buf), a0)
                finally:
                    os.close(fd)
            else:
                got = _pread_all(fd, memoryview(buf), a0)
        except OSError as e:
            raise ProverError(f"scratch file {self.path} is gone ({e}); was the state used "
                              "after its proof ended?") from None
        if got < end - a0:
            raise ProverError(f"scratch file {self.path} is truncated")
        return buf[start - a0:end - a0].view(self.dtype).reshape((hi - lo,) + tail)

    def load(self) -> np.ndarray:
        """The whole array copied into RAM (`read_range`)."""
        if not self.shape:
            return super().load()
        return self.read_range(0, self.shape[0])


def aligned_empty(nbytes: int) -> np.ndarray:
    """A fresh uninitialised uint8 array of ``nbytes`` at a `DIO_ALIGN`-aligned
    address (a view of a slightly longer one)."""
    nbytes = int(nbytes)
    raw = np.empty(nbytes + DIO_ALIGN, dtype=np.uint8)
    skip = -raw.ctypes.data % DIO_ALIGN
    return raw[skip:skip + nbytes]


def _open_direct(path: str, flags: int = os.O_RDONLY) -> int:
    """A descriptor of ``path`` opened with ``O_DIRECT`` where the platform and the file
    system take it (not tmpfs), else a plain one (buffered: the same bytes)."""
    flag = getattr(os, "O_DIRECT", 0)
    if flag:
        try:
            return os.open(path, flags | flag, 0o600)
        except OSError:
            pass
    return os.open(path, flags, 0o600)


@attrs.frozen
class Cast:
    """An integer array for `Store.save` to store as the integer type ``dtype``; the
    caller guarantees that every value fits (the conversion is not checked)."""

    array: np.ndarray
    dtype: np.dtype


class Store:
    """A temporary directory of scratch files (see module doc); use `session`."""

    def __init__(self, parent: str | None = None, threshold: int | None = None):
        parent = parent or os.environ.get("ZKLORA_SCRATCH_DIR") or None
        if threshold is None:
            env = os.environ.get("ZKLORA_SPILL_BYTES")
            try:
                threshold = DEFAULT_THRESHOLD if env in (None, "") else int(env)
            except ValueError:
                raise ConfigError(f"ZKLORA_SPILL_BYTES must be an integer, got {env!r}") from None
        try:
            self.path = tempfile.mkdtemp(prefix="zklora-scratch-", dir=parent)
        except OSError as e:
            where = parent or "the system temporary directory"
            raise ConfigError(f"cannot create a scratch directory in {where}: {e}") from None
        self.threshold = int(threshold)
        self._count = itertools.count()
        self.bytes_written = 0
        #: read-only maps handed out by `build` (released by `release`)
        self._maps: list[np.memmap] = []
        #: reusable work arrays of `buffer`, by (thread, tag, dtype)
        self._bufs: dict[tuple[int, str, str], np.ndarray] = {}
        #: `free_buffers`' arrays kept for a later phase's `buffer` (at most `POOL_BYTES`)
        self._pool: list[np.ndarray] = []
        self._pool_lock = threading.Lock()
        #: read-only descriptors of this store's files kept open for `Spilled.read_range`
        #: (closed when the file is deleted here, and at `close`)
        self._fds: dict[str, int] = {}
        #: the same, opened with ``O_DIRECT`` (`Direct.read_range`)
        self._dfds: dict[str, int] = {}
        self._fd_lock = threading.Lock()
        #: files `_delete` moved to the trash and the thread unlinking them
        self._doomed: list[str] = []
        self._deleter: threading.Thread | None = None
        self._del_lock = threading.Lock()
        self._trash: str | None = None
        self._prefix = os.path.join(self.path, "")

    def reader(self, path: str, direct: bool = False) -> int | None:
        """A read-only descriptor of ``path``, a file of this store, opened once and kept
        until the file is deleted (`discard`, `remove`) or the store closes; None for a
        file of another directory.  With ``direct``: one opened with ``O_DIRECT`` where
        the file system takes it (`Direct.read_range`)."""
        fds = self._dfds if direct else self._fds
        fd = fds.get(path)
        if fd is not None:
            return fd
        if not path.startswith(self._prefix) or os.sep in path[len(self._prefix):]:
            return None
        with self._fd_lock:
            fd = fds.get(path)
            if fd is None:
                fd = fds[path] = _open_direct(path) if direct else os.open(path, os.O_RDONLY)
        return fd

    def _forget_fd(self, path: str) -> None:
        with self._fd_lock:
            fds = [d.pop(path, None) for d in (self._fds, self._dfds)]
        for fd in fds:
            if fd is not None:
                os.close(fd)

    def buffer(self, tag: str, count: int, dtype=np.uint64) -> np.ndarray:
        """A reusable, uninitialised work array of ``count`` elements for a producer's
        per-block temporaries (one per calling thread and ``tag``): allocated once and
        grown when a larger one is asked for, so its pages are faulted in (and zeroed
        by the kernel) once per phase instead of once per block or table.  Its content
        is whatever its last user left.  `free_buffers` (`release` with ``trim_heap``:
        the phase boundaries) hands the arrays no view holds any more to a pool that a
        later phase's requests are served from (the smallest pooled array large
        enough, `POOL_BYTES` at most kept), so its pages are not given back and faulted
        in afresh phase after phase; the rest are freed, and all when the session
        ends."""
        dt = np.dtype(dtype)
        key = (threading.get_ident(), tag, dt.str)
        a = self._bufs.get(key)
        if a is None or a.shape[0] < count:
            self._bufs.pop(key, None)
            del a
            a = self._pooled(int(count) * dt.itemsize)
            a = np.empty(int(count), dtype=dt) if a is None else \
                a[:(a.nbytes // dt.itemsize) * dt.itemsize].view(dt)
            self._bufs[key] = a
        return a[:count]

    def _pooled(self, nbytes: int) -> np.ndarray | None:
        """The smallest pooled byte array of at least ``nbytes`` bytes, taken out of the
        pool; None when none is large enough (or ``nbytes`` is under `POOL_MIN`).  A
        request of `POOL_MIN` or more that none fits empties the pool: the phase grows
        its working set beyond what was kept, and the pooled arrays it may never ask
        for would add to its peak (84m's lookups: +80 MiB when kept)."""
        if nbytes < POOL_MIN or not self._pool:
            return None
        with self._pool_lock:
            fit = [i for i, b in enumerate(self._pool) if b.nbytes >= nbytes]
            if not fit:
                self._pool = []
                return None
            i = min(fit, key=lambda j: self._pool[j].nbytes)
            return self._pool.pop(i)

    def free_buffers(self) -> None:
        """Forget every `buffer`: the arrays of at least `POOL_MIN` bytes that no view
        holds any more go to the pool (largest first, at most `POOL_BYTES` in all with
        those already there); the others' memory goes with their last view."""
        bufs, self._bufs = self._bufs, {}
        free = []
        while bufs:
            a = bufs.popitem()[1]
            o = a if a.base is None else a.base   # the array owning the memory
            # references besides ours (``a``, ``o``, getrefcount's argument; ``a.base``
            # when ``a`` is a pooled array's view): a caller's view still alive
            live = sys.getrefcount(o) - 3 if o is a else \
                sys.getrefcount(o) - 3 + sys.getrefcount(a) - 2
            if not live and type(o) is np.ndarray and o.nbytes >= POOL_MIN and \
                    o.flags.c_contiguous:
                free.append(o.reshape(-1).view(np.uint8))
            del a, o
        with self._pool_lock:
            kept, total = [], 0
            for b in sorted(self._pool + free, key=lambda x: -x.nbytes):
                if total + b.nbytes <= POOL_BYTES:
                    kept.append(b)
                    total += b.nbytes
            self._pool = kept

    def wants(self, nbytes: int) -> bool:
        """Whether an array of ``nbytes`` should be spilled."""
        return nbytes >= self.threshold

    def save(self, arrays: Sequence[np.ndarray | Cast], tag: str = "a",
             direct: bool = False) -> list[Spilled]:
        """Write ``arrays`` (C order) one after another into a new file; their handles.
        An entry that is a `Cast` is stored as its integer type, converted a block at a
        time through a small reused buffer (no converted copy of the whole array is
        made); its handle reads back that type.

        With ``direct`` the file is written with direct I/O (``O_DIRECT``, where the file
        system takes it; else as without) through an aligned staging buffer, each array
        starting at a `DIO_ALIGN`-aligned offset, and the handles are `Direct` (read back
        with direct I/O): no page-cache pages are made for the file.  On this VM a
        buffered write's page-cache pages are fresh pages (≈ 1.5–2.2 s of system time a
        GiB once the balloon has taken freed memory back), and they stay until the file
        is deleted; a direct write costs the staging copy, a direct read the disk's
        time.  The same bytes either way.  A file whose writing fails is deleted."""
        path = os.path.join(self.path, f"{tag}-{next(self._count)}.bin")
        try:
            if direct:
                out, offset = self._save_direct(path, arrays)
            else:
                out, offset = self._save_buffered(path, arrays)
        except BaseException as e:
            try:
                os.remove(path)
            except OSError:
                pass
            if isinstance(e, OSError):
                raise ProverError(f"cannot write scratch file {path}: {e}") from None
            raise
        self.bytes_written += offset
        return out

    def _save_buffered(self, path: str, arrays: Sequence[np.ndarray | Cast]
                       ) -> tuple[list[Spilled], int]:
        """`save` with buffered writes: (handles, bytes of the arrays)."""
        out, offset = [], 0
        buf: np.ndarray | None = None
        with open(path, "wb") as f:
            for a in arrays:
                dt = np.dtype(a.dtype)
                a = np.ascontiguousarray(a.array if isinstance(a, Cast) else a)
                flat = a.reshape(-1)
                if dt == a.dtype:
                    f.write(memoryview(flat).cast("B"))
                else:
                    if buf is None:
                        buf = np.empty(_SAVE_BLOCK * 8, dtype=np.uint8)
                    for lo in range(0, flat.shape[0], _SAVE_BLOCK):
                        src = flat[lo:lo + _SAVE_BLOCK]
                        dst = buf[:src.shape[0] * dt.itemsize].view(dt)
                        np.copyto(dst, src, casting="unsafe")
                        f.write(memoryview(dst).cast("B"))
                out.append(Spilled(path, offset, tuple(a.shape), dt.str))
                offset += a.size * dt.itemsize
        return out, offset

    def _save_direct(self, path: str, arrays: Sequence[np.ndarray | Cast]
                     ) -> tuple[list[Spilled], int]:
        """`save` with direct I/O: (handles, bytes of the arrays, the padding not
        counted)."""
        flag = getattr(os, "O_DIRECT", 0)
        fd = -1
        if flag:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | flag, 0o600)
            except OSError:   # not taken here (tmpfs): buffered
                fd = -1
        if fd < 0:
            return self._save_buffered(path, arrays)
        stage = self.buffer("scratch-direct", _DIO_STAGE + DIO_ALIGN, np.uint8)
        stage = stage[-stage.ctypes.data % DIO_ALIGN:][:_DIO_STAGE]
        out: list[Spilled] = []
        pos = data = 0
        try:
            for a in arrays:
                dt = np.dtype(a.dtype)
                a = np.ascontiguousarray(a.array if isinstance(a, Cast) else a)
                flat = a.reshape(-1)
                per = _DIO_STAGE // dt.itemsize
                for lo in range(0, flat.shape[0], per):
                    src = flat[lo:lo + per]
                    n = src.shape[0] * dt.itemsize
                    np.copyto(stage[:n].view(dt), src, casting="unsafe")
                    m = n + (-n) % DIO_ALIGN
                    stage[n:m] = 0   # the last block's padding
                    _pwrite_all(fd, memoryview(stage[:m]), pos + lo * dt.itemsize)
                out.append(Direct(path, pos, tuple(a.shape), dt.str))
                size = a.size * dt.itemsize
                pos += size + (-size) % DIO_ALIGN
                data += size
        finally:
            os.close(fd)
        return out, data

    def build(self, shape: tuple[int, ...], dtype, parts, tag: str = "m",
              direct: bool = False) -> np.memmap:
        """A new zero-filled array of ``shape`` written to a scratch file from ``parts``
        (pairs (first row, array of rows), written in turn and not kept), returned as a
        read-only memory map: its pages count towards the resident set only while they
        are read, until `release` (or `drop`) gives them back to the page cache.

        A part that is a contiguous view of another scratch file's map (a table staged
        by `zklora.zkcore.committer.Committer`) is copied file to file inside the kernel
        (``copy_file_range``: page cache to page cache, without faulting the source's
        pages into this process and copying them out again); any other part is written
        with positioned writes straight from its buffer.  ``direct``: its whole aligned
        blocks with direct I/O (`DIRECT_BUILD`, `_write_direct`; the file is then
        read ahead, ``POSIX_FADV_WILLNEED``), for a table written once and read soon
        (the base model's commitment: its page-cache writes cost more system time than
        the fresh pages of the same table in RAM)."""
        dt = np.dtype(dtype)
        row = int(np.prod(shape[1:], dtype=np.int64)) * dt.itemsize
        total = int(shape[0]) * row
        path = os.path.join(self.path, f"{tag}-{next(self._count)}.bin")
        srcs: dict[str, int] = {}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.ftruncate(fd, total)     # sparse: unwritten rows read as zeros
                dfd = _open_direct_w(path) if direct and DIRECT_BUILD else -1
                try:
                    for first, a in parts:
                        pos = int(first) * row
                        src = _file_range(a, dt)
                        if src is None or not _copy_range(srcs, src, fd, pos):
                            a = np.ascontiguousarray(a, dtype=dt)
                            b = memoryview(a.reshape(-1)).cast("B")
                            if dfd >= 0 and not self._write_direct(dfd, fd, b, pos):
                                os.close(dfd)
                                dfd = -1
                            if dfd < 0:
                                _pwrite_all(fd, b, pos)
                        del a
                finally:
                    if dfd >= 0:
                        os.close(dfd)
                        _read_ahead(fd, total)
            finally:
                os.close(fd)
                for s in srcs.values():
                    if s >= 0:
                        os.close(s)
        except OSError as e:
            raise ProverError(f"cannot write scratch file {path}: {e}") from None
        self.bytes_written += total
        mm = np.memmap(path, dtype=dt, mode="r", shape=tuple(int(d) for d in shape))
        self._maps.append(mm)
        return mm

    def _write_direct(self, dfd: int, fd: int, b: memoryview, pos: int) -> bool:
        """`build`'s write of the bytes ``b`` at ``pos``: the whole `DIO_ALIGN` blocks
        from an aligned ``pos`` through ``dfd`` (``O_DIRECT``, from the aligned staging
        buffer), the rest through the buffered ``fd``; False (nothing the caller must
        undo: it writes ``b`` buffered) when the file system refuses a direct write.
        The two never share a page: a direct run starts and ends on block boundaries,
        and a direct write drops any cached page of its range, so the map `build`
        returns reads the bytes written either way."""
        k = len(b) - len(b) % DIO_ALIGN if pos % DIO_ALIGN == 0 else 0
        if k:
            stage = self.buffer("scratch-direct", _DIO_STAGE + DIO_ALIGN, np.uint8)
            stage = stage[-stage.ctypes.data % DIO_ALIGN:][:_DIO_STAGE]
            src = np.frombuffer(b, dtype=np.uint8, count=k)
            try:
                for lo in range(0, k, _DIO_STAGE):
                    part = src[lo:lo + _DIO_STAGE]
                    np.copyto(stage[:part.shape[0]], part)
                    _pwrite_all(dfd, memoryview(stage[:part.shape[0]]), pos + lo)
            except OSError:
                return False
        if k < len(b):
            _pwrite_all(fd, b[k:], pos + k)
        return True

    def adopt(self, mm: np.memmap) -> None:
        """Treat a read-only map of a file made elsewhere (a prover-cache table,
        `zklora.zkcore.provercache`) like `build`'s: its pages are given back by
        `release`.  `remove` forgets it without deleting its file (not of this store)."""
        if isinstance(mm, np.memmap) and not any(m is mm for m in self._maps):
            self._maps.append(mm)

    def create(self, shape: tuple[int, ...], dtype, tag: str = "w"
               ) -> tuple[np.memmap, Spilled]:
        """A new zero-filled (sparse) scratch file of ``shape``, as a *writable* memory
        map and the file's handle: a producer fills it a block at a time, giving each
        block's pages back with `drop_pages` (written pages stay in the page cache and
        reach the file), and readers use the handle (`Spilled.read_range`,
        `Spilled.read_rows`) once the producer has dropped the map.  Not given back by
        `release`: the producer owns the map."""
        dt = np.dtype(dtype)
        shape = tuple(int(d) for d in shape)
        total = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        path = os.path.join(self.path, f"{tag}-{next(self._count)}.bin")
        try:
            with open(path, "wb") as f:
                f.truncate(max(1, total))
            mm = np.memmap(path, dtype=dt, mode="r+", shape=shape)
        except (OSError, ValueError) as e:
            raise ProverError(f"cannot create scratch file {path}: {e}") from None
        self.bytes_written += total
        return mm, Spilled(path, 0, shape, dt.str)

    def raw(self, nbytes: int, tag: str = "r") -> Spilled:
        """A new zero-filled (sparse) scratch file of ``nbytes``, by handle (bytes): for
        a producer that writes and reads it with positioned I/O (``os.pwrite``,
        ``os.preadv``), so none of it is ever mapped."""
        path = os.path.join(self.path, f"{tag}-{next(self._count)}.bin")
        try:
            with open(path, "wb") as f:
                f.truncate(max(1, int(nbytes)))
        except OSError as e:
            raise ProverError(f"cannot create scratch file {path}: {e}") from None
        self.bytes_written += int(nbytes)
        return Spilled(path, 0, (int(nbytes),), np.dtype(np.uint8).str)

    def discard(self, h: Spilled) -> None:
        """Delete the file of a handle made in this store (`save`, `create`) that no
        reader needs any more; a handle of another directory: nothing."""
        if os.path.dirname(os.path.abspath(h.path)) == os.path.abspath(self.path):
            self._forget_fd(h.path)
            self._delete(h.path)

    def remove(self, mm: np.memmap) -> None:
        """Forget a map made by `build` and delete its file (the map stays readable
        until its last reference goes); anything else (a view of one): nothing."""
        if not any(m is mm for m in self._maps):
            return
        self._maps = [m for m in self._maps if m is not mm]
        path = getattr(mm, "filename", None)
        if path and os.path.dirname(os.path.abspath(path)) == os.path.abspath(self.path):
            self._forget_fd(str(path))
            self._delete(str(path))

    def _delete(self, path: str) -> None:
        """Delete a file of this store: with `BACKGROUND_DELETE`, moved into the store's
        trash folder (a sibling of its directory, ``.zklora-trash-*``: its name is gone
        at once) and unlinked by a deleter thread (`_drain`), so the prover does not wait
        for the file system (84m: 41 discards, 0.28 s of wall time, 0.01 s of CPU); else
        removed here.  A file that is gone already: nothing."""
        try:
            if not BACKGROUND_DELETE:
                os.remove(path)
                return
            if self._trash is None:
                self._trash = tempfile.mkdtemp(prefix=".zklora-trash-",
                                               dir=os.path.dirname(self.path))
            dst = os.path.join(self._trash, os.path.basename(path))
            os.rename(path, dst)
        except OSError:
            try:
                os.remove(path)
            except OSError:
                pass
            return
        with self._del_lock:
            self._doomed.append(dst)
            if self._deleter is None:
                self._deleter = threading.Thread(target=self._drain, daemon=True,
                                                 name="zklora-scratch-delete")
                self._deleter.start()

    def _drain(self) -> None:
        """The deleter thread: unlink the doomed files until none is left (a later
        `_delete` starts another); `close` removes whatever is left with the folder."""
        while True:
            with self._del_lock:
                if not self._doomed:
                    self._deleter = None
                    return
                path = self._doomed.pop(0)
            try:
                os.remove(path)
            except OSError:
                pass

    def release(self) -> None:
        """Give every resident page of the maps made by `build` back (`drop`)."""
        for mm in tuple(self._maps):   # a copy: `releasing` runs this from a thread
            drop(mm)

    def close(self) -> None:
        with self._fd_lock:
            fds = list(self._fds.values()) + list(self._dfds.values())
            self._fds, self._dfds = {}, {}
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._maps.clear()
        self._bufs = {}
        self._pool = []
        with self._del_lock:   # the deleter thread stops; the folder goes with the rest
            self._doomed = []
        shutil.rmtree(self.path, ignore_errors=True)
        if self._trash is not None:
            shutil.rmtree(self._trash, ignore_errors=True)



#: `Store.build(direct=True)` writes its parts' whole aligned blocks with direct I/O
#: (``O_DIRECT``) where the file system takes it: the page cache's pages of a buffered
#: write cost this VM about 2 s of system time a GiB (first touches, then writeback and
#: reclaim), a direct write ~0.03 s; the map `build` returns reads the blocks from the
#: file (read ahead).  False: every part buffered (`_pwrite_all`)
DIRECT_BUILD = True


def _read_ahead(fd: int, nbytes: int) -> None:
    """Ask the kernel to read ``nbytes`` of ``fd`` into the page cache in the background
    (``POSIX_FADV_WILLNEED``; where there is no such call: nothing)."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, nbytes, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass


def _open_direct_w(path: str) -> int:
    """``path`` opened for writing with ``O_DIRECT``, or -1 where the platform or the
    file system does not take it (tmpfs)."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return -1
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError:
        return -1


def _pwrite_all(fd: int, buf: memoryview, pos: int) -> None:
    """Write all of ``buf`` at byte ``pos`` of ``fd`` (positioned writes, no buffering)."""
    n = len(buf)
    done = 0
    while done < n:
        w = os.pwrite(fd, buf[done:], pos + done)
        if w <= 0:
            raise OSError(f"short write ({done} of {n} bytes)")
        done += w


def _pread_all(fd: int, buf: memoryview, pos: int) -> int:
    """Read into all of ``buf`` from byte ``pos`` of ``fd``; the bytes read (fewer only
    at the end of the file)."""
    n = len(buf)
    done = 0
    while done < n:
        got = os.preadv(fd, [buf[done:]], pos + done)
        if got <= 0:
            break
        done += got
    return done


def _file_range(a, dt: np.dtype) -> tuple[str, int, int] | None:
    """(file, byte offset, bytes) of ``a`` when it is a C-contiguous array of dtype
    ``dt`` lying in a file-backed memory map (`np.memmap`, or a view of one) whose
    bytes are the file's; else None."""
    if not isinstance(a, np.ndarray) or a.dtype != dt or not a.flags.c_contiguous or \
            not a.size:
        return None
    b = a
    while b is not None and getattr(b, "_mmap", None) is None:
        b = getattr(b, "base", None)
    m = getattr(b, "_mmap", None) if b is not None else None
    path = getattr(b, "filename", None) if b is not None else None
    if m is None or not path:
        return None
    try:
        base = np.frombuffer(m, dtype=np.uint8).ctypes.data
    except (ValueError, TypeError):   # closed
        return None
    lo = a.ctypes.data - base
    if lo < 0 or lo + a.nbytes > len(m):
        return None
    start = int(getattr(b, "offset", 0))
    start -= start % mmap.ALLOCATIONGRANULARITY   # where the map begins in the file
    return str(path), start + lo, int(a.nbytes)


def file_range(a) -> tuple[str, int, int] | None:
    """(file, byte offset, bytes) of ``a`` when it is a C-contiguous array lying in a
    file-backed memory map whose bytes are the file's (a `Store.build` table); else
    None."""
    return _file_range(a, a.dtype) if isinstance(a, np.ndarray) else None


def _copy_range(srcs: dict[str, int], src: tuple[str, int, int], fd: int, pos: int
                ) -> bool:
    """Copy ``src`` (file, offset, bytes) to byte ``pos`` of ``fd`` inside the kernel
    (``os.copy_file_range``); ``srcs`` caches the source descriptors (−1: a file that
    cannot be copied from).  False (nothing written) where the call is not available
    or refuses the files: the caller then writes the bytes itself."""
    cfr = getattr(os, "copy_file_range", None)
    path, off, n = src
    if cfr is None or srcs.get(path, 0) < 0:
        return False
    s = srcs.get(path)
    if s is None:
        try:
            s = srcs[path] = os.open(path, os.O_RDONLY)
        except OSError:
            srcs[path] = -1
            return False
    done = 0
    while done < n:
        try:
            w = cfr(s, fd, n - done, off + done, pos + done)
        except OSError:
            w = 0
        if w <= 0:
            if done == 0:
                srcs[path] = -1
                os.close(s)
                return False
            raise OSError(f"short copy ({done} of {n} bytes) from {path}")
        done += w
    return True

def _mmap_of(a) -> mmap.mmap | None:
    while a is not None:
        m = getattr(a, "_mmap", None)
        if m is not None:
            return m
        a = getattr(a, "base", None)
    return None


def is_mapped(a) -> bool:
    """Whether ``a`` (or the array it is a view of) is a memory map (`Store.build`)."""
    return _mmap_of(a) is not None


def drop(a) -> None:
    """If ``a`` lies in a read-only scratch map (`Store.build`), unmap its resident pages
    (``MADV_DONTNEED``): they leave the resident set and are read again from the page
    cache or the file when next touched.  Anything else: nothing happens."""
    m = _mmap_of(a)
    if m is None or not hasattr(m, "madvise"):
        return
    try:
        m.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):   # closed, or an unsupported platform: keep the pages
        pass


def _byte_bounds(a: np.ndarray) -> tuple[int, int]:
    """(first byte, one past the last byte) of ``a``'s elements in memory."""
    lo = hi = a.ctypes.data
    for n, st in zip(a.shape, a.strides):
        if st < 0:
            lo += (n - 1) * st
        else:
            hi += (n - 1) * st
    return lo, hi + a.itemsize


def drop_pages(a) -> None:
    """Like `drop`, but only the pages spanned by ``a`` itself (a view of a read-only
    scratch map, e.g. a slice of a stacked table): a reader streaming through a large
    map gives back each range once it has read it, so at most the range being read is
    resident.  The range is widened to whole pages (a neighbour's page is read again
    from the page cache when next touched).  Anything not in a map: nothing happens."""
    m = _mmap_of(a)
    if m is None or not hasattr(m, "madvise") or not isinstance(a, np.ndarray) or not a.size:
        return
    try:
        base = np.frombuffer(m, dtype=np.uint8).ctypes.data
    except (ValueError, TypeError):   # closed
        return
    lo, hi = _byte_bounds(a)
    lo, hi = lo - base, hi - base
    if lo < 0 or hi > len(m):         # not a view of this map: leave it
        return
    drop_range(m, lo, hi)


def drop_range(m, lo: int, hi: int) -> None:
    """Give back bytes lo … hi−1 of the map ``m`` (widened to whole pages, clipped to
    the map): they are read again from the page cache or the file when next touched."""
    if hi <= lo:
        return
    size = len(m)
    lo -= lo % mmap.PAGESIZE
    hi = min(size, hi + (-hi) % mmap.PAGESIZE)
    try:
        m.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (OSError, ValueError):
        pass


def release(trim_heap: bool = False) -> None:
    """`Store.release` of the current store, if any; with ``trim_heap`` also its
    `Store.free_buffers` and `trim`."""
    s = _CURRENT.get()
    if s is not None:
        s.release()
        if trim_heap:
            s.free_buffers()
    if trim_heap:
        trim()


_LIBC: list = []


def _env_bytes(name: str, default: int) -> int:
    """A byte count from the environment variable ``name`` (≥ 0), else ``default``."""
    env = os.environ.get(name)
    if env in (None, ""):
        return default
    try:
        v = int(env)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {env!r}") from None
    if v < 0:
        raise ConfigError(f"{name} must be ≥ 0, got {v}")
    return v


#: `trim` leaves the heap alone while it holds at most this many bytes of resident
#: free memory (`heap_resident_free`): a phase's freed temporaries are then reused by
#: the next phase instead of handed back and faulted in (and zeroed) again.  On a VM
#: whose balloon reports freed memory to the host (the AMD host of sessions 43–44) a
#: 2 MiB page touched again a second or more after it was freed costs 0.8–2.5 s of
#: system time a GiB, against 0.04 s for memory the process kept.  Default 1 GiB:
#: 84m's prove faults ≈ 300 huge pages instead of ≈ 1,150 and spends ≈ 1 s less system
#: time, for a higher peak (+200–300 MiB at 84m, session 44, `docs/PERFORMANCE.md`); the
#: same bound holds after a prove (a process proving step after step, or training
#: between proves, reuses it).  0: every `trim` trims.
#: ``ZKLORA_HEAP_KEEP`` sets it.
HEAP_KEEP = _env_bytes("ZKLORA_HEAP_KEEP", 1 << 30)

#: the largest value glibc's ``mallopt`` takes (an ``int``)
_MALLOPT_MAX = (1 << 31) - 1

#: while a scratch `session` (a prove) runs, the C heap serves allocations under this
#: many bytes itself (glibc ``M_MMAP_THRESHOLD``; its dynamic threshold stops at 32 MiB,
#: so each larger array would be a mapping of its own, unmapped when freed and faulted
#: in afresh by the next) and hands its top back only above `HEAP_KEEP` free bytes
#: (``M_TRIM_THRESHOLD``): a large array freed by one step is reused by the next; the
#: phases' `trim` (bounded by `HEAP_KEEP`) hands the excess back.  Default: glibc's
#: largest (2 GiB − 1), so every array of a prove comes from the heap.  0: glibc's own
#: thresholds.  ``ZKLORA_HEAP_MMAP`` sets it (capped at 2 GiB − 1).
HEAP_MMAP = min(_env_bytes("ZKLORA_HEAP_MMAP", _MALLOPT_MAX), _MALLOPT_MAX)


class _MallInfo2(ctypes.Structure):
    """glibc ``struct mallinfo2`` (malloc.h, glibc ≥ 2.33)."""

    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _rss_anon() -> int | None:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"RssAnon:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError, IndexError):
        pass
    return None


def heap_resident_free() -> int | None:
    """An upper estimate of the C heap's free memory that is resident (bytes): the
    process's anonymous resident set less what the allocator has handed out (glibc
    ``mallinfo2``: ``uordblks`` in its arenas + ``hblkhd`` in mappings of their own).
    Over-counts by the anonymous memory outside malloc (the interpreter's small-object
    arenas, thread stacks: tens of MiB); None where either figure is unavailable."""
    lib = _libc()
    fn = getattr(lib, "mallinfo2", None) if lib is not None else None
    rss = _rss_anon()
    if fn is None or rss is None:
        return None
    if fn.restype is not _MallInfo2:
        fn.restype, fn.argtypes = _MallInfo2, []
    m = fn()
    return max(0, rss - int(m.uordblks) - int(m.hblkhd))


_LIBC_DLL: list = []


def _libc():
    """The C library (loaded once), None where it cannot be loaded."""
    if not _LIBC_DLL:
        try:
            import ctypes.util

            _LIBC_DLL.append(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"))
        except (OSError, AttributeError):
            _LIBC_DLL.append(None)
    return _LIBC_DLL[0]


def trim(force: bool = False) -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim(0)``; a
    no-op elsewhere).  Large numpy temporaries freed between phases otherwise stay in
    the resident set when the allocator serves them from its heap (its mmap threshold
    grows with the arrays freed), so a phase starts from what the previous one left.
    Unless ``force``: nothing while the heap's resident free memory is at most
    `HEAP_KEEP` (`heap_resident_free`), so at most that much is kept for the next
    phase's allocations."""
    if not force and HEAP_KEEP > 0:
        free = heap_resident_free()
        if free is not None and free <= HEAP_KEEP:
            return
    if not _LIBC:
        lib = _libc()
        fn = getattr(lib, "malloc_trim", None) if lib is not None else None
        if fn is not None:
            fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
        _LIBC.append(fn)
    if _LIBC[0] is not None:
        _LIBC[0](0)


#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _mallopt(param: int, value: int) -> bool:
    lib = _libc()
    fn = getattr(lib, "mallopt", None) if lib is not None else None
    if fn is None:
        return False
    fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(fn(int(param), min(int(value), _MALLOPT_MAX)))


#: the (mmap, trim) thresholds outside the innermost `heap_thresholds` block: glibc's
#: dynamic ones at their ceiling at the bottom
_THRESHOLDS: list[tuple[int, int]] = [(32 << 20, 64 << 20)]


@contextmanager
def heap_thresholds(mmap_below: int, trim_above: int = 1 << 30) -> Iterator[None]:
    """While the block runs, the C heap serves allocations under ``mmap_below`` bytes
    and trims its top only above ``trim_above`` free bytes (glibc ``mallopt``);
    afterwards the enclosing block's thresholds (outside any: mmap 32 MiB, trim 64 MiB,
    the ceilings of glibc's dynamic ones) and a `trim`.  Elsewhere than glibc:
    nothing."""
    ok = _mallopt(_M_MMAP_THRESHOLD, mmap_below) and _mallopt(_M_TRIM_THRESHOLD, trim_above)
    if ok:
        _THRESHOLDS.append((int(mmap_below), int(trim_above)))
    try:
        yield
    finally:
        if ok:
            _THRESHOLDS.pop()
            m, t = _THRESHOLDS[-1]
            _mallopt(_M_MMAP_THRESHOLD, m)
            _mallopt(_M_TRIM_THRESHOLD, t)
            trim()


@contextmanager
def heap_reuse(below: int = 256 << 20) -> Iterator[None]:
    """While the block runs, the C heap serves allocations under ``below`` bytes (or the
    enclosing block's threshold, if larger: `HEAP_MMAP` in a prove) and keeps the memory
    freed (no trimming) instead of mapping and unmapping each large temporary: a phase
    that allocates and frees the same chunk-sized arrays thousands of times (the lookup
    argument's passes over the leaves) otherwise has the kernel fault in and zero every
    page of each again (its system time matched its user time).  Afterwards the
    enclosing thresholds and a `trim` (`heap_thresholds`), so the phase's peak does not
    stay resident beyond `HEAP_KEEP`."""
    with heap_thresholds(max(int(below), _THRESHOLDS[-1][0])):
        yield


@contextmanager
def releasing(interval: float = 0.05) -> Iterator[None]:
    """While the block runs, a background thread gives the pages of the current store's
    maps back every ``interval`` seconds (`Store.release`), so a phase that streams
    through mapped tables (the lookup argument reading its columns, a view of a stack
    each) holds only what it touched since the last release, not every table it read.
    The maps are read-only views of files: a page given back is read again from the
    page cache when next touched, so readers see the same values.  Outside a session:
    nothing.  Each release is one ``madvise`` per map (about 0.1 ms with the handful of
    maps a proof's lookups read), so the thread costs little even at 20 per second;
    at 0.25 s the short leaf ranges of a 16-layer step's columns (hidden 256) kept
    ≈ 100 MiB more resident than at 0.05 s."""
    store = _CURRENT.get()
    if store is None:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            store.release()

    t = threading.Thread(target=run, name="zklora-scratch-release", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


def open_bytes(default: int) -> int:
    """The RAM budget (bytes) of the openings' folded tables (`stack.RAM_BYTES`,
    `whir.OPEN_BYTES`, given as ``default``): `working_budget` with ``default`` as its cap
    (a fraction of the peak the earlier phases set, so a small model's opening does not
    grow to the cap as its stacks grow); ``ZKLORA_OPEN_BYTES`` overrides it (more: fewer
    streamed passes over the stacks when the machine has the RAM; the proof is the
    same)."""
    if os.environ.get("ZKLORA_OPEN_BYTES") in (None, ""):
        return working_budget(default)
    return _env_bytes("ZKLORA_OPEN_BYTES", default)


def high_water_mark() -> int:
    """The process's resident-set high-water mark so far, in bytes (``ru_maxrss``; 0
    where the platform does not report it)."""
    try:
        import resource
    except ImportError:     # not a POSIX platform
        return 0
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kib) * (1 if sys.platform == "darwin" else 1024)


def working_budget(cap: int, share: int = 8, floor: int = 64 << 20) -> int:
    """A RAM budget (bytes) for the transient working set of a phase that runs after the
    segments (the lookup argument's held tree layers): 1/``share`` of the process's
    resident high-water mark so far — what the largest segment and the commitment state
    already needed — rounded down to a power of two, at least ``floor`` and at most
    ``cap``.  The phase then adds a bounded fraction of the peak the earlier phases set
    instead of a constant, so a small model's peak stays that of its segments and a
    large model's phase gets ``cap``.  A prover-only knob: the proof does not depend on
    it."""
    cap, floor = int(cap), int(floor)
    if cap <= floor:
        return cap
    want = high_water_mark() // max(1, int(share))
    if want <= floor:
        return floor
    return min(cap, 1 << (want.bit_length() - 1))


def current() -> Store | None:
    """The store of the innermost active session, or None."""
    return _CURRENT.get()


@contextmanager
def session(parent: str | None = None, threshold: int | None = None) -> Iterator[Store]:
    """Enter a scratch store for one proof (reusing an active one): the directory is
    removed when the outermost session ends, however it ends.  While it runs the C
    heap's thresholds are `HEAP_MMAP`'s (`heap_thresholds`); when it ends, glibc's, and
    the heap keeps at most `HEAP_KEEP` bytes of free memory for the next prove (`trim`)."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    store = Store(parent, threshold)
    token = _CURRENT.set(store)
    previous = _terminate_as_exit()
    try:
        with heap_thresholds(HEAP_MMAP, max(HEAP_KEEP, 64 << 20)) if HEAP_MMAP else \
                contextlib.nullcontext():
            yield store
    finally:
        _CURRENT.reset(token)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        store.close()


def _on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _terminate_as_exit():
    """Make SIGTERM raise `SystemExit` while a session is open, so the ``finally`` that
    removes the scratch directory runs (the default action kills the process without
    unwinding).  Only in the main thread and only over the default handler; returns the
    handler to restore, or None when nothing was changed."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return None
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return None
    return signal.SIG_DFL
