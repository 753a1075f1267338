"""Compute backends: where the prover's field-vector kernels run.

A `ComputeBackend` implements the kernel operations the prover spends its time in, for
Goldilocks (p = 2^64 − 2^32 + 1, ``uint64`` arrays of canonical residues) and its
quadratic extension F_p[x]/(x² − 7) (``(n, 2)`` ``uint64`` arrays, ``[a0, a1]`` meaning
a0 + a1·x): element-wise arithmetic, sums and dot products, batched inverses, eq tables,
the rounds and folds of the product sumcheck, Reed–Solomon encoding by NTT, BLAKE3
Merkle layers and the LogUp-GKR layer sums.  Every operation has one meaning, fixed by
the pure-Python/numpy references in `zklora.kernels` (the ``cpu`` backend *is* those
kernels, in numba); the conformance suite `zklora.zkcore.testing.backend_suite` checks
each backend against the references on random and edge inputs.  A backend therefore
never changes a proof: a prover that calls the backend makes the same bytes on every
backend.

Arrays passed to and returned by a backend's vector operations are its *device arrays*
(numpy for ``cpu``, cupy for ``cuda``); `ComputeBackend.to_device` / `to_host` move them.
Reductions (sums, dot products, sumcheck round sums) return small host numpy arrays:
their results go into the transcript.

Backends are plugins (hook ``zk_backends``): a backend class with a ``name`` and a
class method `available` that says, without side effects, whether it can run here and
why not.  `select` turns a config value (``"cpu"``, ``"cuda"``, ``"auto"``) into an
instance or a one-line `ConfigError`; `use` installs one for a block of code and
`current` returns the one in force (``cpu`` when none was installed).
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator

import attrs
import numpy as np

from .errors import ConfigError, PluginError

#: config / CLI values of ``backend``
CHOICES = ("cpu", "cuda", "auto")


@attrs.frozen
class Availability:
    """Whether a backend can run on this machine; ``reason`` says why not (one line)."""

    ok: bool
    reason: str = ""

    def __str__(self) -> str:
        return "available" if self.ok else f"unavailable: {self.reason}"


class ComputeBackend(ABC):
    """The kernel operations of the Goldilocks prover (see module doc).

    Shapes: base vectors ``(n,)``, extension vectors ``(n, 2)``, sumcheck stacks
    ``(k, 2m, 2)`` (k tables, pairs (2i, 2i+1) differing in the variable being bound).
    Every result is canonical (values < p).
    """

    #: registry name (``zklora plugins`` kind ``backend``)
    name: str = ""

    @classmethod
    @abstractmethod
    def available(cls) -> Availability:
        """Whether this backend can run here (no side effects besides imports)."""

    # -- data movement ---------------------------------------------------------------
    @abstractmethod
    def to_device(self, a: np.ndarray):
        """A device array holding a copy of the host array ``a`` (dtype kept)."""

    @abstractmethod
    def to_host(self, a) -> np.ndarray:
        """A host numpy array holding a copy of the device array ``a``."""

    def fetch(self, a) -> np.ndarray:
        """A host numpy array with the values of the device array ``a``, which the caller
        gives up: it may be ``a`` itself where device memory is host memory (the ``cpu``
        backend), so neither is written while the other is in use.  The default copies
        (`to_host`)."""
        return self.to_host(a)

    def borrow(self, a: np.ndarray):
        """A device array with the values of the host array ``a``, for reading only: it
        may share ``a``'s memory where host memory is device memory (the ``cpu``
        backend), so the caller writes to neither while it is in use."""
        return self.to_device(a)

    # -- base field vectors (n,) -------------------------------------------------------
    @abstractmethod
    def add(self, a, b):
        """a + b mod p, element-wise."""

    @abstractmethod
    def sub(self, a, b):
        """a − b mod p, element-wise."""

    @abstractmethod
    def mul(self, a, b):
        """a·b mod p, element-wise."""

    @abstractmethod
    def neg(self, a):
        """−a mod p, element-wise."""

    @abstractmethod
    def reduce(self, a):
        """Arbitrary uint64 words to canonical residues (x mod p)."""

    @abstractmethod
    def sum(self, a) -> int:
        """Σ a_i mod p."""

    @abstractmethod
    def dot(self, a, b) -> int:
        """Σ a_i·b_i mod p."""

    @abstractmethod
    def inv(self, a):
        """1/a_i for every i (batched); `ZeroDivisionError` naming the first zero."""

    # -- extension vectors (n, 2) ------------------------------------------------------
    @abstractmethod
    def eadd(self, a, b):
        """a + b in the extension, element-wise."""

    @abstractmethod
    def esub(self, a, b):
        """a − b in the extension, element-wise."""

    @abstractmethod
    def emul(self, a, b):
        """a·b in the extension (x² = 7), element-wise."""

    @abstractmethod
    def emul_scalar(self, a, s: np.ndarray):
        """a_i·s for one extension scalar ``s`` (2,) (host)."""

    @abstractmethod
    def emul_base(self, a, b):
        """a_i·b_i for an extension vector a and a base vector b."""

    @abstractmethod
    def esum(self, a) -> np.ndarray:
        """Σ a_i: a host (2,) array."""

    @abstractmethod
    def edot(self, a, b) -> np.ndarray:
        """Σ a_i·b_i: a host (2,) array."""

    @abstractmethod
    def einv(self, a):
        """1/a_i in the extension (batched); `ZeroDivisionError` naming the first zero."""

    # -- multilinear tables and sumcheck ----------------------------------------------
    @abstractmethod
    def eq_table(self, r: np.ndarray):
        """eq(r, x) for x ∈ {0,1}^n, bit j of x ↔ r_j; ``r`` host (n, 2) → (2^n, 2)."""

    @abstractmethod
    def sc_fold(self, stack, r: np.ndarray):
        """Bind the lowest variable of every table to r (host (2,)): lo + r·(hi − lo);
        (k, 2m, 2) → (k, m, 2)."""

    @abstractmethod
    def fold_base(self, table, r: np.ndarray):
        """Bind the lowest variable of a base-field table (2m,) to an extension challenge
        r (host (2,)): lo + r·(hi − lo) → (m, 2)."""

    @abstractmethod
    def evec_mat(self, e, M):
        """eᵀ·M for an extension vector e (R, 2) and a base matrix M (R, C) → (C, 2)."""

    @abstractmethod
    def mat_evec(self, M, e):
        """M·e for a base matrix M (R, C) and an extension vector e (C, 2) → (R, 2)."""

    @abstractmethod
    def sc_round(self, stack, starts: np.ndarray, factors: np.ndarray, coeffs: np.ndarray,
                 degree: int) -> np.ndarray:
        """Round polynomial g(t) = Σ_i Σ_j coeffs[j]·Π_{f ∈ term j} (lo_f + t·(hi_f − lo_f)),
        t = 0..degree, of a sum of products (term j's tables are
        ``factors[starts[j]:starts[j+1]]``); host (degree+1, 2)."""

    @abstractmethod
    def p2_sums(self, stack, fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
        """Round sums of Σ_j f_{fa[j]}·f_{fb[j]}: per term j, [Σ lo_a·lo_b, Σ Δ_a·Δ_b]
        (the value at 0 and the X² coefficient); host (T, 2, 2)."""

    @abstractmethod
    def p2_fold_sums(self, stack, r: np.ndarray, fa: np.ndarray, fb: np.ndarray):
        """`sc_fold` at r, then `p2_sums` of the folded stack: (folded, host sums)."""

    def pair_sums(self, a, b) -> np.ndarray:
        """[Σ lo_a·lo_b, Σ Δ_a·Δ_b] over the pairs of two tables of equal length, each a
        base (N,) or an extension (N, 2) table (`zklora.kernels.sumcheck.pair_sums`): the
        first round of a product sumcheck read in place; host (2, 2).  The default lifts
        both tables into one stack and calls `p2_sums`."""
        a, b = self._lift(a), self._lift(b)
        return np.asarray(self.p2_sums(self._stack2(a, b), np.zeros(1, np.int64),
                                       np.ones(1, np.int64))).reshape(2, 2)

    def fold_tables(self, tables, r: np.ndarray):
        """Bind the lowest variable of each table (base (2m,) or extension (2m, 2), all of
        one length) to r (host (2,)) into one extension stack (k, m, 2)
        (`zklora.kernels.sumcheck.fold_into` per table).  The default folds each table on
        the device and assembles the stack through the host."""
        rows = []
        for t in tables:
            t = self.to_host(t)
            f = (self.fold_base(self.to_device(t), r) if t.ndim == 1
                 else self.sc_fold(self.to_device(t.reshape(1, -1, 2)), r))
            rows.append(np.asarray(self.to_host(f), np.uint64).reshape(-1, 2))
        return self.to_device(np.stack(rows))

    def _lift(self, t):
        t = np.asarray(self.to_host(t), np.uint64)
        if t.ndim == 1:
            t = np.stack([t, np.zeros_like(t)], axis=1)
        return t

    def _stack2(self, a: np.ndarray, b: np.ndarray):
        return self.to_device(np.ascontiguousarray(np.stack([a, b])))

    # -- encoding and hashing ------------------------------------------------------------
    @abstractmethod
    def rs_encode(self, M, rate_log: int):
        """Reed–Solomon codewords of the rows of M (rows, k) at rate 2^-rate_log as the
        columns of an (k·2^rate_log, rows) array: entry [i, r] = Σ_j M[r, j]·ω^(i·j),
        ω the primitive (k·2^rate_log)-th root of `zklora.kernels.ntt.root_of_unity`."""

    @abstractmethod
    def blake3_rows(self, data):
        """BLAKE3 digests (n, 32) uint8 of the rows of an (n, L) uint8 array (any L: a row
        longer than one 1024-byte chunk is hashed as BLAKE3's tree of chunks, as the
        ``blake3`` package does)."""

    @abstractmethod
    def merkle_parents(self, level):
        """Parents (n/2, 32) of a Merkle level (n, 32): BLAKE3(0x01 ‖ left ‖ right)."""

    def merkle_levels(self, leaves) -> list:
        """Every level of the BLAKE3 Merkle tree over ``leaves`` (a power-of-two count of
        digests), leaves first (`zklora.kernels.merkle.build`)."""
        n = int(leaves.shape[0])
        if n < 1 or n & (n - 1):
            raise ValueError(f"Merkle tree needs a power-of-two number of leaves, got {n}")
        levels = [leaves]
        while int(levels[-1].shape[0]) > 1:
            levels.append(self.merkle_parents(levels[-1]))
        return levels

    # -- LogUp-GKR --------------------------------------------------------------------------
    @abstractmethod
    def leaf_denoms(self, cols, apow: np.ndarray, beta: np.ndarray):
        """Fraction-tree leaves β − Σ_k apow[k]·cols[k, i]; cols (w, N) base, apow host
        (w, 2), beta host (2,) → (N, 2)."""

    @abstractmethod
    def frac_up(self, p, q):
        """One fraction-tree layer, halves paired by the top index bit:
        p'[i] = p[i]·q[i+h] + p[i+h]·q[i], q'[i] = q[i]·q[i+h] (``p is None``: numerators
        all 1, p'[i] = q[i] + q[i+h]).  Returns (p', q')."""

    @abstractmethod
    def gkr_sums(self, WP, WQ, slots: np.ndarray, E, want1: bool):
        """Pair sums of one LogUp-GKR layer round with the eq factor split off
        (`zklora.kernels.lookup_gkr.e_gkr_sums`): (host sums (T, 3, 2, 2), E_{j+1})."""

    def __repr__(self) -> str:
        return f"<ComputeBackend {self.name}>"


# -- selection -------------------------------------------------------------------------

_LOCAL = threading.local()
_CACHE: dict[str, ComputeBackend] = {}
_LOCK = threading.Lock()


def _classes(reg=None) -> dict[str, type[ComputeBackend]]:
    if reg is None:
        from .plugins import registry

        reg = registry()
    return {n: reg.get("backend", n) for n in reg.names("backend")}


def availability(reg=None) -> dict[str, Availability]:
    """Every registered backend's availability, by name."""
    out = {}
    for name, cls in _classes(reg).items():
        try:
            out[name] = cls.available()
        except Exception as e:  # a backend's probe must not be a trace
            out[name] = Availability(False, f"availability check failed: {e}")
    return out


def resolve_name(name: str, reg=None) -> str:
    """The backend a config value names: ``auto`` is ``cuda`` where it is available,
    ``cpu`` otherwise.  `ConfigError` for an unknown or unavailable backend."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"backend must be one of {', '.join(CHOICES)}, got {name!r}")
    classes = _classes(reg)
    if name == "auto":
        if "cuda" in classes and _avail(classes["cuda"]).ok:
            return "cuda"
        return "cpu"
    if name not in classes:
        raise ConfigError(f"unknown backend {name!r}; registered: "
                          f"{', '.join(sorted(classes)) or 'none'} (or auto)")
    av = _avail(classes[name])
    if not av.ok:
        raise ConfigError(f"backend {name!r} is unavailable on this machine: {av.reason}")
    return name


def _avail(cls) -> Availability:
    try:
        return cls.available()
    except Exception as e:
        return Availability(False, f"availability check failed: {e}")


def select(name: str = "auto", reg=None) -> ComputeBackend:
    """The backend instance for a config value (``cpu``, ``cuda``, ``auto``; one instance
    per name and process).  `ConfigError` with the reason when it cannot run here."""
    chosen = resolve_name(name, reg)
    with _LOCK:
        if chosen not in _CACHE or reg is not None:
            cls = _classes(reg)[chosen]
            try:
                inst = cls()
            except (ConfigError, PluginError):
                raise
            except Exception as e:
                raise ConfigError(f"backend {chosen!r} failed to start: {e}") from e
            if reg is not None:
                return inst
            _CACHE[chosen] = inst
        return _CACHE[chosen]


def current() -> ComputeBackend:
    """The backend in force in this thread (`use`), else the process default (`cpu`)."""
    stack = getattr(_LOCAL, "stack", None)
    if stack:
        return stack[-1]
    be = _CACHE.get("cpu")  # hot path: called at every routed kernel call site
    return be if be is not None else select("cpu")


@contextlib.contextmanager
def use(backend: ComputeBackend | str) -> Iterator[ComputeBackend]:
    """Run a block with ``backend`` (an instance or a config value) as `current`."""
    be = select(backend) if isinstance(backend, str) else backend
    if not isinstance(be, ComputeBackend):
        raise TypeError(f"use() needs a ComputeBackend or a name, got {type(be).__name__}")
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    stack.append(be)
    try:
        yield be
    finally:
        stack.pop()
