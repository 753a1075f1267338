"""The scalar field Fr of BLS12-381 (the paper's field, needed by Hyrax).

r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001 (255 bits), so
it is its own challenge field.  Arrays are numpy ``object`` arrays of Python ints in
[0, r); arithmetic is numpy's element-wise dispatch to Python big ints (≈ 2–3 M
mulmod/s), which is what the paper profile's small examples need.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zklora.zkcore.errors import ProofFormatError
from zklora.zkcore.field import ByteReader, Field
from zklora.zkcore.hookspecs import hookimpl

R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def _obj(a) -> np.ndarray:
    return np.asarray(a, dtype=object)


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int | np.integer) else tuple(shape)


class Bls12381Fr(Field):
    """Prime field of order r (BLS12-381 group order)."""

    name = "bls12-381-fr"
    p = R
    degree = 1
    elem_shape = ()
    nbytes = 32
    dtype = np.dtype(object)

    def zeros(self, shape):
        a = np.empty(_shape(shape), dtype=object)
        a.fill(0)
        return a

    def from_ints(self, x):
        if hasattr(x, "detach"):
            x = x.detach().cpu().numpy()
        a = np.asarray(x)
        if a.dtype != object:
            a = a.astype(np.int64).astype(object)
        return np.asarray(a % R, dtype=object)

    def to_ints(self, a):
        a = np.asarray(a, dtype=object)
        return np.where(a > R // 2, a - R, a)

    def add(self, a, b):
        return _obj((_obj(a) + _obj(b)) % R)

    def sub(self, a, b):
        return _obj((_obj(a) - _obj(b)) % R)

    def mul(self, a, b):
        return _obj((_obj(a) * _obj(b)) % R)

    def neg(self, a):
        return np.asarray((-np.asarray(a, dtype=object)) % R, dtype=object)

    def inv(self, a):
        a = np.asarray(a, dtype=object)
        flat = a.reshape(-1)
        out = np.empty(flat.shape, dtype=object)
        acc = 1
        for i, v in enumerate(flat):
            if v == 0:
                raise ZeroDivisionError("inverse of zero in bls12-381-fr")
            out[i] = acc
            acc = acc * v % R
        inv = pow(acc, R - 2, R)
        for i in range(flat.shape[0] - 1, -1, -1):
            out[i] = out[i] * inv % R
            inv = inv * flat[i] % R
        return out.reshape(a.shape)

    def sum(self, a):
        return np.array(int(np.sum(np.asarray(a, dtype=object))) % R, dtype=object)

    def dot(self, a, b):
        return np.array(int(np.sum(np.asarray(a, dtype=object) * np.asarray(b, dtype=object))) % R,
                        dtype=object)

    def vecmat(self, e, M):
        e = np.asarray(e, dtype=object).reshape(-1, 1)
        return np.asarray((e * np.asarray(M, dtype=object)).sum(axis=0) % R, dtype=object)

    def equal(self, a, b):
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        return a.shape == b.shape and bool(np.all(a == b))

    def encode(self, a):
        flat = np.asarray(a, dtype=object).reshape(-1)
        return b"".join(int(v).to_bytes(32, "little") for v in flat)

    def decode(self, buf):
        n = self._check_len(buf)
        out = np.empty(n, dtype=object)
        for i in range(n):
            v = int.from_bytes(buf[32 * i : 32 * i + 32], "little")
            if v >= R:
                raise ProofFormatError("non-canonical bls12-381-fr element (value >= r)")
            out[i] = v
        return out

    def sample(self, read: ByteReader):
        while True:
            v = int.from_bytes(read(32), "little") & ((1 << 255) - 1)
            if v < R:
                return np.array(v, dtype=object)

    def random(self, rng, shape):
        shape = _shape(shape)
        n = int(np.prod(shape, dtype=np.int64))
        words = rng.integers(0, 1 << 63, size=(n, 5), dtype=np.int64)
        vals = [
            (int(w[0]) | int(w[1]) << 63 | int(w[2]) << 126 | int(w[3]) << 189 | int(w[4]) << 252)
            % R
            for w in words
        ]
        out = np.empty(n, dtype=object)
        out[:] = vals
        return out.reshape(shape)

    def sc_round(self, stack, starts, factors, coeffs, degree):
        stack = np.asarray(stack, dtype=object)
        lo = stack[:, 0::2]
        diff = (stack[:, 1::2] - lo) % R
        out = np.empty(degree + 1, dtype=object)
        vals = lo.copy()
        for t in range(degree + 1):
            acc = 0
            for j in range(len(starts) - 1):
                prod = np.full(lo.shape[1], int(coeffs[j]) % R, dtype=object)
                for q in range(starts[j], starts[j + 1]):
                    prod = prod * vals[factors[q]] % R
                acc += int(np.sum(prod))
            out[t] = acc % R
            vals = (vals + diff) % R
        return out

    def sc_fold(self, stack, r):
        stack = np.asarray(stack, dtype=object)
        lo = stack[:, 0::2]
        return (lo + int(r) * (stack[:, 1::2] - lo)) % R


BLS12_381_FR = Bls12381Fr()


@hookimpl
def zk_fields():
    return [BLS12_381_FR]
