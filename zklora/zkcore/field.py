"""Field protocol.

A `Field` is a finite field together with a vectorised backend for its own array type.
Arrays of field elements are numpy arrays of shape ``shape + elem_shape``:

* a prime field with a 64-bit modulus uses ``uint64`` arrays, ``elem_shape == ()``;
* a degree-2 extension uses ``uint64`` arrays with a trailing axis of 2 (``a0 + a1·x``);
* a big prime field (BLS12-381 Fr) uses ``object`` arrays of Python ints.

A *scalar* is an array of shape ``elem_shape``.  All binary operations broadcast.
Every field names its challenge field ``ext`` (itself when it has ≥ 120 bits) and its
prime subfield ``base``.  The codec is canonical: `decode` rejects any encoding of a
value ≥ p with `ProofFormatError`.

The sumcheck engine never loops over elements itself: it calls `sc_round` and
`sc_fold`, which each field implements with its fastest backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from .errors import ProofFormatError

ByteReader = Callable[[int], bytes]


class Field(ABC):
    """A finite field with vectorised arithmetic on numpy arrays (see module doc)."""

    #: registry name, e.g. ``"goldilocks"``
    name: str
    #: characteristic p
    p: int
    #: extension degree over the prime field
    degree: int = 1
    #: trailing shape of one element in an array
    elem_shape: tuple[int, ...] = ()
    #: bytes of the canonical encoding of one element
    nbytes: int
    #: numpy dtype of arrays
    dtype: np.dtype

    # -- structure ---------------------------------------------------------------
    @property
    def ext(self) -> Field:
        """The field verifier challenges are drawn from."""
        return self

    @property
    def base(self) -> Field:
        """The prime subfield."""
        return self

    @property
    def bits(self) -> float:
        """log2 of the field size (soundness bookkeeping)."""
        return self.degree * float(np.log2(float(self.p)))

    def shape(self, a: np.ndarray) -> tuple[int, ...]:
        """Shape of an array of elements, without the element axes."""
        k = len(self.elem_shape)
        return tuple(a.shape[: a.ndim - k]) if k else tuple(a.shape)

    def length(self, a: np.ndarray) -> int:
        """Number of elements in ``a``."""
        return int(np.prod(self.shape(a), dtype=np.int64))

    def flat(self, a: np.ndarray) -> np.ndarray:
        """``a`` as a 1-d array of elements."""
        return a.reshape((-1,) + self.elem_shape)

    # -- construction --------------------------------------------------------------
    @abstractmethod
    def zeros(self, shape: int | Sequence[int]) -> np.ndarray: ...

    def ones(self, shape: int | Sequence[int]) -> np.ndarray:
        return self.add(self.zeros(shape), self.scalar(1))

    @abstractmethod
    def from_ints(self, x) -> np.ndarray:
        """Map signed integers (numpy/torch int64, Python ints, object arrays) into the
        prime field (embedded in this field)."""

    @abstractmethod
    def to_ints(self, a: np.ndarray) -> np.ndarray:
        """Centred lift of base-field elements: values in (-p/2, p/2]."""

    def scalar(self, v: int) -> np.ndarray:
        """The element ``v mod p`` as a scalar."""
        return self.from_ints(np.array(v, dtype=object)).reshape(self.elem_shape)

    def embed(self, a: np.ndarray) -> np.ndarray:
        """Embed an array of the prime subfield into this field."""
        return a

    def is_in_base(self, a: np.ndarray) -> bool:
        """Whether every element lies in the prime subfield."""
        return True

    # -- arithmetic ---------------------------------------------------------------
    @abstractmethod
    def add(self, a, b) -> np.ndarray: ...

    @abstractmethod
    def sub(self, a, b) -> np.ndarray: ...

    @abstractmethod
    def mul(self, a, b) -> np.ndarray: ...

    @abstractmethod
    def neg(self, a) -> np.ndarray: ...

    @abstractmethod
    def inv(self, a) -> np.ndarray:
        """Element-wise inverse (batch inversion); raises ZeroDivisionError on a zero."""

    @abstractmethod
    def sum(self, a) -> np.ndarray:
        """Sum of all elements of ``a`` (a scalar)."""

    def dot(self, a, b) -> np.ndarray:
        """Σ a_i·b_i over all elements (a scalar)."""
        return self.sum(self.mul(a, b))

    def pow(self, a, e: int) -> np.ndarray:
        """``a**e`` element-wise, e ≥ 0."""
        result = self.ones(self.shape(np.asarray(a)))
        base = np.asarray(a)
        while e:
            if e & 1:
                result = self.mul(result, base)
            base = self.mul(base, base)
            e >>= 1
        return result

    def powers(self, x, n: int) -> np.ndarray:
        """[1, x, x², …, x^(n-1)] for a scalar x."""
        out = self.zeros(n)
        cur = self.scalar(1)
        for i in range(n):
            out[i] = cur
            cur = self.mul(cur, x)
        return out

    def vecmat(self, e: np.ndarray, M: np.ndarray) -> np.ndarray:
        """eᵀ·M for a vector e of this field (R,) and a prime-field matrix M (R, C)."""
        Me = self.embed(M) if self.elem_shape else M
        ee = e.reshape((e.shape[0], 1) + self.elem_shape)
        out = self.mul(ee, Me)
        return np.stack([self.sum(out[:, j]) for j in range(M.shape[1])]) if M.shape[1] else \
            self.zeros(0)

    def matvec(self, e: np.ndarray, M: np.ndarray) -> np.ndarray:
        """M·e for a prime-field matrix M (P, Q) and a vector e of this field (Q,): the
        same elements as ``vecmat(e, Mᵀ)``."""
        return self.vecmat(e, np.ascontiguousarray(np.asarray(M).T))

    def equal(self, a, b) -> bool:
        """Whether two arrays hold the same elements."""
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.all(a == b))

    # -- codec --------------------------------------------------------------------
    @abstractmethod
    def encode(self, a) -> bytes:
        """Canonical little-endian encoding of every element, in row-major order."""

    @abstractmethod
    def decode(self, buf: bytes) -> np.ndarray:
        """Inverse of `encode` for a flat array; `ProofFormatError` if non-canonical."""

    def _check_len(self, buf: bytes) -> int:
        if len(buf) % self.nbytes:
            raise ProofFormatError(
                f"{self.name}: {len(buf)} bytes is not a whole number of elements "
                f"({self.nbytes} bytes each)"
            )
        return len(buf) // self.nbytes

    # -- randomness ---------------------------------------------------------------
    @abstractmethod
    def sample(self, read: ByteReader) -> np.ndarray:
        """A uniformly random element from a stream of uniform bytes (rejection sampling)."""

    @abstractmethod
    def random(self, rng: np.random.Generator, shape: int | Sequence[int]) -> np.ndarray:
        """Uniformly random elements (tests and blinding; not for challenges)."""

    # -- sumcheck backend -----------------------------------------------------------
    @abstractmethod
    def sc_round(
        self,
        stack: np.ndarray,
        starts: np.ndarray,
        factors: np.ndarray,
        coeffs: np.ndarray,
        degree: int,
    ) -> np.ndarray:
        """Round polynomial of a sum of products at t = 0, 1, …, degree.

        ``stack`` has shape ``(k, 2m) + elem_shape``: k tables over the current
        variables, pairs (2i, 2i+1) differing in the variable being summed.  Term j is
        ``coeffs[j] · Π_{f in factors[starts[j]:starts[j+1]]} table_f``.  Returns
        ``g(t) = Σ_i Σ_j coeffs[j] Π_f (lo_f + t·(hi_f − lo_f))`` for each t.
        """

    @abstractmethod
    def sc_fold(self, stack: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Bind the lowest variable of every table to r: ``lo + r·(hi − lo)``."""

    def __repr__(self) -> str:
        return f"<Field {self.name}>"
