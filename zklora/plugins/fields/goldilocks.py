"""The Goldilocks field p = 2^64 − 2^32 + 1 and its quadratic extension F_p[x]/(x² − 7).

Base arrays are ``uint64``; extension arrays carry a trailing axis of 2.  Verifier
challenges of the base field are drawn from the extension (≈ 128 bits).
Hot loops are the numba kernels of `zklora.kernels.goldilocks`; arrays shorter than
`K.SMALL` elements go to their serial twins (no thread launch), which keeps the
verifier's scalar arithmetic at about a microsecond per operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numba
import numpy as np

from zklora.kernels import goldilocks as K
from zklora.kernels import int_gemm as IG
from zklora.zkcore.errors import ProofFormatError
from zklora.zkcore.field import ByteReader, Field
from zklora.zkcore.hookspecs import hookimpl

P = K.P_INT


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int | np.integer) else tuple(shape)


def _pick(n: int, par, ser):
    """The parallel kernel for long vectors, its serial twin for short ones."""
    return par if n >= K.SMALL else ser


@lru_cache(maxsize=64)
def _inv_denominators(degree: int) -> np.ndarray:
    """1/Π_{j≠i}(i − j) mod p for the nodes i = 0..degree (Lagrange weights)."""
    out = []
    for i in range(degree + 1):
        den = 1
        for j in range(degree + 1):
            if j != i:
                den *= i - j
        out.append(pow(den % P, P - 2, P))
    a = np.array(out, dtype=np.uint64)
    a.flags.writeable = False
    return a


def _max(a: np.ndarray) -> int:
    """The largest entry (0 for none); a few entries in Python (``ndarray.max`` costs
    microseconds of dispatch, and the verifier decodes thousands of one-element arrays)."""
    if a.size <= 16:
        return max(a.reshape(-1).tolist(), default=0)
    return int(a.max())


def _sample(read: ByteReader) -> int:
    """One uniform base-field element from the transcript's byte stream (8 bytes, read
    again while the value is not below p)."""
    while True:
        v = int.from_bytes(read(8), "little")
        if v < P:
            return v


#: `GoldilocksExt2.vecmat` of at least this many matrix entries streams the rows
#: (`K.e_vecmat_rows`), smaller ones take the column blocks (`K.e_vecmat_base`)
VECMAT_ROWS = 1 << 15
#: ... when it has at least this many rows (fewer: too few runs of rows to split)
VECMAT_MIN_ROWS = 256

#: `_ints_to_u64` converts signed integer arrays of at least this many elements with the
#: kernel `K.vsigned` (shorter ones with numpy: no thread launch)
SIGNED_KERNEL = 1 << 14


def _ints_to_u64(x) -> np.ndarray:
    """Signed integers of any kind → canonical uint64 residues mod p."""
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype == object or a.dtype.kind == "O":
        flat = [int(v) % P for v in a.reshape(-1)]
        return np.array(flat, dtype=np.uint64).reshape(a.shape)
    if a.dtype.kind == "u":
        a = a.astype(np.uint64)
        out = np.empty_like(a)
        K.vreduce(a.reshape(-1), out.reshape(-1))
        return out
    if a.dtype.kind in "ib":
        a = np.asarray(a, dtype=np.int64, order="C")    # no copy for int64 input; 0-d stays 0-d
        if a.size >= SIGNED_KERNEL and not K.cold(a.size):
            # one parallel pass (`K.vsigned`): the numpy lines below make three
            out = np.empty(a.shape, dtype=np.uint64)
            K.vsigned(a.reshape(-1).view(np.uint64), out.reshape(-1))
            return out
        out = a.view(np.uint64).copy()
        # negative v: v + p = (v mod 2^64) − (2^64 − p) = u − EPS (u ≥ 2^63 > EPS);
        # in place, one byte of mask per element (a 2^28 table allocated 33 B/element)
        np.subtract(out, np.uint64(K.EPS), out=out, where=a < 0)
        return out
    raise TypeError(f"cannot convert dtype {a.dtype} to field elements")


def ints_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`_ints_to_u64` of a flat int64 array ``a`` written into ``out`` (uint64, at least
    as long; a caller's reused buffer, so no fresh pages): ``out[:len(a)]``, returned."""
    n = a.shape[0]
    if a.dtype != np.int64 or out.dtype != np.uint64 or out.shape[0] < n:
        raise ValueError("ints_into: a flat int64 array and a uint64 buffer as long")
    o = out[:n]
    if n >= SIGNED_KERNEL and not K.cold(n):
        K.vsigned(np.ascontiguousarray(a).view(np.uint64), o)
    else:
        np.copyto(o, a.view(np.uint64))
        np.subtract(o, np.uint64(K.EPS), out=o, where=a < 0)
    return o


#: `_int_rows` converts blocks of about this many entries (at least `VECMAT_MIN_ROWS`
#: rows, so a block's `vecmat` keeps the small-integer kernel)
INT_ROWS_BLOCK = 1 << 19


def _int_rows(M: np.ndarray):
    """(r0, r1, the rows [r0, r1) of the int64 matrix M (R, C) as field elements) for
    blocks of rows covering M, each converted into one reused buffer (the scratch
    session's, `zklora.zkcore.scratch.Store.buffer`, else one array for the call): a
    block is valid until the next is made."""
    from zklora.zkcore import scratch

    R, C = M.shape
    rows = max(1, min(R, max(VECMAT_MIN_ROWS, INT_ROWS_BLOCK // max(1, C))))
    store = scratch.current()
    n = rows * C
    buf = store.buffer("goldilocks-int-rows", n) if store is not None else \
        np.empty(n, np.uint64)
    flat = M.reshape(-1)
    for r0 in range(0, R, rows):
        r1 = min(R, r0 + rows)
        yield r0, r1, ints_into(flat[r0 * C:r1 * C], buf).reshape(r1 - r0, C)


class Goldilocks(Field):
    """The prime field of order 2^64 − 2^32 + 1."""

    name = "goldilocks"
    p = P
    degree = 1
    elem_shape = ()
    nbytes = 8
    dtype = np.dtype(np.uint64)

    def __init__(self) -> None:
        self._ext = GoldilocksExt2(self)

    @property
    def ext(self) -> Field:
        return self._ext

    def zeros(self, shape):
        return np.zeros(_shape(shape), dtype=np.uint64)

    def from_ints(self, x):
        return _ints_to_u64(x)

    def from_ints_into(self, a, out):
        """`from_ints` of a flat int64 array into a reused uint64 buffer (`ints_into`)."""
        return ints_into(a, out)

    def to_ints(self, a):
        a = np.asarray(a, dtype=np.uint64)
        half = np.uint64(P // 2)
        return np.where(a > half, -((K.P - a).astype(np.int64)), a.astype(np.int64))

    def _bin(self, par, ser, a, b):
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        if a.shape != b.shape:  # (broadcasting is slow: skip it when not needed)
            a, b = (np.array(x) for x in np.broadcast_arrays(a, b))  # owned, writeable
        shape = a.shape
        a = np.ascontiguousarray(a).reshape(-1)
        b = np.ascontiguousarray(b).reshape(-1)
        out = np.empty(a.shape[0], dtype=np.uint64)
        _pick(a.shape[0], par, ser)(a, b, out)
        return out.reshape(shape)

    def add(self, a, b):
        return self._bin(K.vadd, K.vadd_s, a, b)

    def sub(self, a, b):
        return self._bin(K.vsub, K.vsub_s, a, b)

    def mul(self, a, b):
        return self._bin(K.vmul, K.vmul_s, a, b)

    def neg(self, a):
        a = np.ascontiguousarray(a, dtype=np.uint64)
        out = np.empty_like(a)
        _pick(a.size, K.vneg, K.vneg_s)(a.reshape(-1), out.reshape(-1))
        return out

    def inv(self, a):
        a = np.ascontiguousarray(a, dtype=np.uint64)
        out = np.empty_like(a)
        if K.vinv(a.reshape(-1), out.reshape(-1)) >= 0:
            raise ZeroDivisionError("inverse of zero in goldilocks")
        return out

    def sum(self, a):
        a = np.ascontiguousarray(a, dtype=np.uint64).reshape(-1)
        if a.shape[0] < K.SMALL:
            return np.uint64(K.vsum_s(a))
        return np.uint64(K.vsum(a, K.nchunks_for(a.shape[0])))

    def dot(self, a, b):
        a, b = np.broadcast_arrays(np.asarray(a, np.uint64), np.asarray(b, np.uint64))
        a = np.ascontiguousarray(a).reshape(-1)
        b = np.ascontiguousarray(b).reshape(-1)
        if a.shape[0] < K.SMALL:
            return np.uint64(K.vdot_s(a, b))
        return np.uint64(K.vdot(a, b, K.nchunks_for(a.shape[0])))

    def encode(self, a):
        return np.ascontiguousarray(a, dtype="<u8").tobytes()

    def decode(self, buf):
        self._check_len(buf)
        a = np.frombuffer(buf, dtype="<u8").astype(np.uint64)
        if _max(a) >= P:
            raise ProofFormatError("non-canonical goldilocks element (value >= p)")
        return a

    def sample(self, read: ByteReader):
        return np.uint64(_sample(read))

    def random(self, rng, shape):
        shape = _shape(shape)
        a = rng.integers(0, np.iinfo(np.uint64).max, size=shape, dtype=np.uint64, endpoint=True)
        bad = a >= K.P
        while bad.any():
            a[bad] = rng.integers(0, P - 1, size=int(bad.sum()), dtype=np.uint64, endpoint=True)
            bad = a >= K.P
        return a

    def sc_round(self, stack, starts, factors, coeffs, degree):
        e = self.ext
        return e.sc_round(e.embed(stack), starts, factors, e.embed(coeffs), degree)

    def sc_fold(self, stack, r):
        raise TypeError("goldilocks sumchecks run in the extension; embed first")


#: the shape of one extension element
_ONE = (2,)


def _one_elem(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int] | None:
    """The limbs of two single extension elements as Python integers, or None when a
    limb is not canonical (< p; the kernels then decide what such input gives).

    One element's arithmetic in Python integers costs about a microsecond; the kernel
    path (contiguous copies, a dispatch, an output array) several.  The verifier makes
    tens of thousands of such calls."""
    a0, a1 = a.tolist()
    b0, b1 = b.tolist()
    if a0 < P and a1 < P and b0 < P and b1 < P:
        return a0, a1, b0, b1
    return None


class GoldilocksExt2(Field):
    """F_p[x]/(x² − 7) over Goldilocks; elements ``[a0, a1]`` = a0 + a1·x."""

    name = "goldilocks-ext2"
    p = P
    degree = 2
    elem_shape = (2,)
    nbytes = 16
    dtype = np.dtype(np.uint64)

    def __init__(self, base: Goldilocks):
        self._base = base

    @property
    def base(self) -> Field:
        return self._base

    def zeros(self, shape):
        return np.zeros(_shape(shape) + (2,), dtype=np.uint64)

    def from_ints(self, x):
        if type(x) is int:  # one Python integer (the verifier's common case)
            return np.array((x % P, 0), np.uint64)
        return self.embed(_ints_to_u64(x))

    def to_ints(self, a):
        a = np.asarray(a, dtype=np.uint64)
        if np.any(a[..., 1] != 0):
            raise ValueError("element not in the base field")
        return self._base.to_ints(a[..., 0])

    def embed(self, a):
        a = np.asarray(a, dtype=np.uint64)
        out = np.zeros(a.shape + (2,), dtype=np.uint64)
        out[..., 0] = a
        return out

    def is_in_base(self, a):
        return bool(np.all(np.asarray(a)[..., 1] == 0))

    def _prep(self, a, b):
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
        return shape, a, b

    def _pair(self, a, b):
        """Both operands broadcast to one shape, as contiguous (n, 2) arrays."""
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        if a.shape == b.shape:  # (np.broadcast_* costs µs: skip it when not needed)
            shape = a.shape[:-1]
        else:
            shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
            a = np.broadcast_to(a, shape + (2,))
            b = np.broadcast_to(b, shape + (2,))
        return shape, np.ascontiguousarray(a).reshape(-1, 2), np.ascontiguousarray(b).reshape(-1, 2)

    def _bin(self, par, ser, a, b):
        shape, a, b = self._pair(a, b)
        out = np.empty_like(a)
        _pick(a.shape[0], par, ser)(a, b, out)
        return out.reshape(shape + (2,))

    def add(self, a, b):
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        if a.shape == _ONE == b.shape:
            x = _one_elem(a, b)
            if x is not None:
                a0, a1, b0, b1 = x
                return np.array(((a0 + b0) % P, (a1 + b1) % P), np.uint64)
        return self._bin(K.eadd, K.eadd_s, a, b)

    def sub(self, a, b):
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        if a.shape == _ONE == b.shape:
            x = _one_elem(a, b)
            if x is not None:
                a0, a1, b0, b1 = x
                return np.array(((a0 - b0) % P, (a1 - b1) % P), np.uint64)
        return self._bin(K.esub, K.esub_s, a, b)

    def mul(self, a, b):
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        if a.shape == b.shape:
            if a.shape == _ONE:
                x = _one_elem(a, b)
                if x is not None:
                    a0, a1, b0, b1 = x
                    return np.array(((a0 * b0 + 7 * a1 * b1) % P, (a0 * b1 + a1 * b0) % P),
                                    np.uint64)
            return self._bin(K.emul, K.emul_s, a, b)
        shape, a, b = self._prep(a, b)
        if b.ndim == 1 and a.ndim >= 1:  # vector × scalar: no broadcast copy
            a2 = np.ascontiguousarray(np.broadcast_to(a, shape + (2,))).reshape(-1, 2)
            out = np.empty_like(a2)
            _pick(a2.shape[0], K.emul_scalar, K.emul_scalar_s)(a2, b[0], b[1], out)
            return out.reshape(shape + (2,))
        if a.ndim == 1 and b.ndim > 1:
            return self.mul(b, a)
        return self._bin(K.emul, K.emul_s, a, b)

    def mul_base(self, a, b):
        """Extension array × base array, element-wise (broadcasting)."""
        a = np.asarray(a, np.uint64)
        b = np.asarray(b, np.uint64)
        shape = np.broadcast_shapes(a.shape[:-1], b.shape)
        a2 = np.ascontiguousarray(np.broadcast_to(a, shape + (2,))).reshape(-1, 2)
        b2 = np.ascontiguousarray(np.broadcast_to(b, shape)).reshape(-1)
        out = np.empty_like(a2)
        _pick(a2.shape[0], K.emul_base, K.emul_base_s)(a2, b2, out)
        return out.reshape(shape + (2,))

    def neg(self, a):
        return self.sub(self.zeros(np.asarray(a).shape[:-1]), a)

    def inv(self, a):
        a = np.asarray(a, np.uint64)
        flat = np.ascontiguousarray(a).reshape(-1, 2)
        out = np.empty_like(flat)
        if K.einv(flat, out) >= 0:
            raise ZeroDivisionError("inverse of zero in goldilocks-ext2")
        return out.reshape(a.shape)

    def sum(self, a):
        a = np.ascontiguousarray(a, np.uint64).reshape(-1, 2)
        if a.shape[0] < K.SMALL:
            return K.esum_s(a)
        return K.esum(a, K.nchunks_for(a.shape[0]))

    def dot(self, a, b):
        _, a, b = self._pair(a, b)
        if a.shape[0] < K.SMALL:
            return K.edot_s(a, b)
        return K.edot(a, b, K.nchunks_for(a.shape[0]))

    def interpolate(self, g, r):
        """g̃(r) for the polynomial of degree ≤ d with values ``g[i]`` at i = 0..d
        (optional fast path of the sumcheck verifier: one kernel call per round)."""
        g = np.ascontiguousarray(g, np.uint64).reshape(-1, 2)
        r = np.asarray(r, np.uint64)
        return K.e_interpolate(g, _inv_denominators(g.shape[0] - 1), r[0], r[1])

    def encode(self, a):
        return np.ascontiguousarray(a, dtype="<u8").tobytes()

    def decode(self, buf):
        n = self._check_len(buf)
        a = np.frombuffer(buf, dtype="<u8").astype(np.uint64).reshape(n, 2)
        if _max(a) >= P:
            raise ProofFormatError("non-canonical goldilocks-ext2 element (limb >= p)")
        return a

    def sample(self, read: ByteReader):
        return np.array((_sample(read), _sample(read)), dtype=np.uint64)

    def random(self, rng, shape):
        return np.stack([self._base.random(rng, shape), self._base.random(rng, shape)], axis=-1)

    def sc_round(self, stack, starts, factors, coeffs, degree):
        stack = np.ascontiguousarray(stack, np.uint64)
        m = stack.shape[1] // 2
        starts = np.ascontiguousarray(starts, np.int64)
        factors = np.ascontiguousarray(factors, np.int64)
        coeffs = np.ascontiguousarray(coeffs, np.uint64).reshape(-1, 2)
        work = m * max(1, stack.shape[0])
        if work < K.SMALL:
            return K.e_sc_round_s(stack, starts, factors, coeffs, int(degree))
        return K.e_sc_round(
            stack, starts, factors, coeffs, int(degree),
            K.nchunks_for(work * (degree + 1) // 4),
        )

    def sc_fold(self, stack, r):
        stack = np.ascontiguousarray(stack, np.uint64)
        out = np.empty((stack.shape[0], stack.shape[1] // 2, 2), dtype=np.uint64)
        kern = _pick(stack.shape[0] * stack.shape[1], K.e_sc_fold, K.e_sc_fold_s)
        kern(stack, np.uint64(r[0]), np.uint64(r[1]), out)
        return out

    def vecmat(self, e, M):
        """eᵀ·M for an extension vector e (R,) and a base matrix M (R, C); an int64 M
        holds the signed integers its elements stand for (`from_ints`), converted a
        block of rows at a time into a reused buffer (`_int_rows`)."""
        e = np.ascontiguousarray(e, np.uint64).reshape(-1, 2)
        if np.asarray(M).dtype == np.int64:
            M = np.ascontiguousarray(M)
            out = np.empty((M.shape[1], 2), dtype=np.uint64)
            if not K.cold(M.size) and IG.vecmat_small(e, M, out, numba.get_num_threads()):
                return out   # small integers: read as they are, nothing converted
            out = None
            for r0, r1, Mb in _int_rows(M):
                v = self.vecmat(e[r0:r1], Mb)
                out = v if out is None else self.add(out, v)
            return out
        M = np.ascontiguousarray(M, np.uint64)
        out = np.empty((M.shape[1], 2), dtype=np.uint64)
        R = M.shape[0]
        if not K.cold(R * M.shape[1]) and IG.vecmat_small(e, M, out, numba.get_num_threads()):
            return out   # small-integer tables (the einsums' folds): integer products
        if R >= VECMAT_MIN_ROWS and R * M.shape[1] >= VECMAT_ROWS and \
                not K.cold(R * M.shape[1]):   # rows streamed
            K.e_vecmat_rows(e, M, out, max(1, min(2 * numba.get_num_threads(), R // 64)))
        else:
            K.e_vecmat_base(e, M, out)
        return out

    def matvec(self, e, M):
        """M·e for a base matrix M (P, Q) and an extension vector e (Q,): `vecmat` of Mᵀ
        without transposing M (`K.e_matvec_base`)."""
        e = np.ascontiguousarray(e, np.uint64).reshape(-1, 2)
        if np.asarray(M).dtype == np.int64:   # (`vecmat`: converted a block at a time)
            M = np.ascontiguousarray(M)
            out = np.empty((M.shape[0], 2), dtype=np.uint64)
            for r0, r1, Mb in _int_rows(M):
                K.e_matvec_base(e, Mb, out[r0:r1])
            return out
        M = np.ascontiguousarray(M, np.uint64)
        out = np.empty((M.shape[0], 2), dtype=np.uint64)
        K.e_matvec_base(e, M, out)
        return out

    def eq_table(self, r):
        """Fast eq table (see `zklora.zkcore.mle.eq_table`)."""
        r = np.ascontiguousarray(r, np.uint64).reshape(-1, 2)
        out = np.zeros((1 << r.shape[0], 2), dtype=np.uint64)
        _pick(out.shape[0], K.eq_expand, K.eq_expand_s)(r, out)
        return out

    def fold_base(self, table, r):
        """Bind the lowest variable of a base-field table to an extension element."""
        table = np.ascontiguousarray(table, np.uint64).reshape(-1)
        out = np.empty((table.shape[0] // 2, 2), dtype=np.uint64)
        K.e_fold_base(table, np.uint64(r[0]), np.uint64(r[1]), out)
        return out


GOLDILOCKS = Goldilocks()


@hookimpl
def zk_fields():
    return [GOLDILOCKS, GOLDILOCKS.ext]
