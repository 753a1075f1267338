"""Per-proof scratch directory for large prover state kept on disk (DESIGN.md §3.9).

A commitment scheme whose prover state is large (Ligero's codewords and Merkle levels)
writes it to files in the *current scratch store* instead of holding it in RAM, and
reads back only what an opening needs.  The store is a temporary directory created by
`session` (the kernel enters one per proof: `zklora.zkcore.api.prove` and
`zklora.zkcore.graph.prove`) and removed when the session ends, whether the proof
succeeds, fails or is interrupted (KeyboardInterrupt included).  Nested sessions share
the outermost store.  Outside a session `current()` is None and schemes keep their
state in RAM.

Files are written with plain sequential writes and read through short-lived read-only
memory maps (`Store.read_rows`), so pages of a spilled array count towards the
process's resident set only while a read runs; the kernel's page cache holds them
otherwise and may evict them under memory pressure.

``ZKLORA_SCRATCH_DIR`` chooses the parent directory (default: the system temporary
directory); ``ZKLORA_SPILL_BYTES`` the size above which a scheme spills (default
`DEFAULT_THRESHOLD`; 0 spills everything, useful in tests).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import attrs
import numpy as np

from .errors import ConfigError, ProverError

#: spill arrays of at least this many bytes (64 MiB)
DEFAULT_THRESHOLD = 64 << 20

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
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

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
        """Rows [lo, hi) (along the first axis) copied into RAM, read with one positioned
        read (no mapping: nothing of the file stays in the resident set)."""
        row = self.nbytes // max(1, self.shape[0]) if self.shape else self.nbytes
        lo, hi = max(0, int(lo)), min(int(hi), self.shape[0] if self.shape else 1)
        out = np.empty((max(0, hi - lo),) + tuple(self.shape[1:]), dtype=self.dtype)
        if hi <= lo:
            return out
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset + lo * row)
                got = f.readinto(memoryview(out.reshape(-1)).cast("B"))
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

    def wants(self, nbytes: int) -> bool:
        """Whether an array of ``nbytes`` should be spilled."""
        return nbytes >= self.threshold

    def save(self, arrays: Sequence[np.ndarray], tag: str = "a") -> list[Spilled]:
        """Write ``arrays`` (C order) one after another into a new file; their handles."""
        path = os.path.join(self.path, f"{tag}-{next(self._count)}.bin")
        out, offset = [], 0
        try:
            with open(path, "wb") as f:
                for a in arrays:
                    a = np.ascontiguousarray(a)
                    f.write(memoryview(a.reshape(-1)).cast("B"))
                    out.append(Spilled(path, offset, tuple(a.shape), a.dtype.str))
                    offset += a.nbytes
        except OSError as e:
            raise ProverError(f"cannot write scratch file {path}: {e}") from None
        self.bytes_written += offset
        return out

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def current() -> Store | None:
    """The store of the innermost active session, or None."""
    return _CURRENT.get()


@contextmanager
def session(parent: str | None = None, threshold: int | None = None) -> Iterator[Store]:
    """Enter a scratch store for one proof (reusing an active one): the directory is
    removed when the outermost session ends, however it ends."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    store = Store(parent, threshold)
    token = _CURRENT.set(store)
    try:
        yield store
    finally:
        _CURRENT.reset(token)
        store.close()
