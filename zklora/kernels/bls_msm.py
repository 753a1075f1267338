"""BLS12-381 G1 helpers for Pedersen-style commitments: MSM, generators, point codec.

Fast path: ``py-arkworks-bls12381`` (Rust/arkworks; Pippenger MSM whose cost grows with
the bit length of the largest scalar).  Slow reference: ``py_ecc`` (pure Python), used
only by the tests to check the fast path on small sizes.

* `msm(points, scalars)` — Σ s_i·P_i for canonical scalars in [0, r).
* `msm_signed(points, values)` — the same for field elements that are mostly small
  signed integers (typical quantised tensors): the centred lift is split into its
  positive and negative parts, two short-scalar MSMs instead of one 255-bit one.
* `generators(seed, n)` / `hash_point(seed, label)` — hash-to-curve (RFC 9380,
  ``BLS12381G1_XMD:SHA-256_SSWU_RO_``) points with a project domain-separation tag, so
  nobody knows a discrete-log relation between them (binding of Pedersen vectors).
* `blinding_generator(seed)` — the Pedersen blinding base H = hash_point(seed, "blind"):
  nothing up the sleeve (a hash of a public string, like every other generator), so its
  discrete log to the vector generators is unknown (hiding is perfect for any H ≠ 0,
  binding needs the unknown relation).
* `encode_point` / `decode_point(s)` — 48-byte compressed encoding; decoding is strict:
  on the curve, in the prime-order subgroup, x < p, and the canonical encoding of the
  point it yields (so flag bits and the infinity encoding are unique).  Anything else
  raises `ProofFormatError`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
from py_arkworks_bls12381 import G1Point, Scalar

from zklora.zkcore.errors import ProofFormatError

#: order of G1 (= the scalar field modulus of BLS12-381)
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
#: bytes of a compressed G1 point
POINT_BYTES = 48
#: domain-separation tag of every hash-to-curve call of this module
DST = b"ZKLORA-V1-BLS12381G1_XMD:SHA-256_SSWU_RO_"
#: centred values up to this many bits are committed by the split (signed) MSM
SMALL_BITS = 128

IDENTITY = G1Point.identity()


def scalars(values: Iterable) -> list[Scalar]:
    """Canonical ints in [0, r) → arkworks scalars (caller guarantees the range)."""
    return [Scalar(int(v)) for v in values]


def msm(points: Sequence[G1Point], values: Sequence) -> G1Point:
    """Σ values[i]·points[i] for canonical scalars (ints in [0, r))."""
    if len(points) != len(values):
        raise ValueError(f"msm: {len(points)} points but {len(values)} scalars")
    if not points:
        return IDENTITY
    return G1Point.multiexp_unchecked(list(points), scalars(values))


def msm_signed(points: Sequence[G1Point], values: np.ndarray) -> G1Point:
    """Σ values[i]·points[i] for canonical field elements, fast when they are small
    signed integers: with c the centred lift, Σ max(c,0)·P − Σ max(−c,0)·P."""
    vals = np.asarray(values, dtype=object).reshape(-1)
    if len(points) != vals.shape[0]:
        raise ValueError(f"msm: {len(points)} points but {vals.shape[0]} scalars")
    if not points:
        return IDENTITY
    c = np.where(vals > R // 2, vals - R, vals)
    big = int(np.max(np.abs(c))) if c.shape[0] else 0
    if big.bit_length() > SMALL_BITS:
        return msm(points, vals)
    pos_mask = c > 0
    neg_mask = c < 0
    pts = np.empty(len(points), dtype=object)
    pts[:] = list(points)
    out = IDENTITY
    if pos_mask.any():
        out = msm(pts[pos_mask].tolist(), c[pos_mask])
    if neg_mask.any():
        out = out - msm(pts[neg_mask].tolist(), -c[neg_mask])
    return out


# -- generators -------------------------------------------------------------------------

_LOCK = threading.Lock()
_GENS: dict[bytes, list[G1Point]] = {}


def hash_point(seed: bytes, label: bytes) -> G1Point:
    """The hash-to-curve point of ``seed ‖ "/" ‖ label`` (on G1, in the subgroup)."""
    return G1Point.hash_to_curve(seed + b"/" + label, DST)


#: label of the blinding generator under a seed (distinct from "U" and "gen" ‖ u64)
BLIND_LABEL = b"blind"


def blinding_generator(seed: bytes) -> G1Point:
    """H = hash_point(seed, "blind"): the Pedersen blinding base (module doc)."""
    return hash_point(seed, BLIND_LABEL)


def generators(seed: bytes, n: int) -> list[G1Point]:
    """The first n vector generators G_j = H(seed ‖ "/gen" ‖ j as u64 LE), cached."""
    with _LOCK:
        gens = _GENS.setdefault(seed, [])
        for j in range(len(gens), n):
            gens.append(hash_point(seed, b"gen" + j.to_bytes(8, "little")))
        return gens[:n]


# -- codec ----------------------------------------------------------------------------


def encode_point(p: G1Point) -> bytes:
    return p.to_compressed_bytes()


def decode_point(buf: bytes, what: str = "point") -> G1Point:
    """Strict decoding of one compressed G1 point (see module doc)."""
    if len(buf) != POINT_BYTES:
        raise ProofFormatError(f"{what}: {len(buf)} bytes, a G1 point takes {POINT_BYTES}")
    try:
        p = G1Point.from_compressed_bytes(bytes(buf))
    except (ValueError, TypeError, OverflowError) as e:
        raise ProofFormatError(f"{what}: not a valid compressed G1 point ({e})") from None
    if p.to_compressed_bytes() != bytes(buf):
        raise ProofFormatError(f"{what}: non-canonical G1 point encoding")
    # from_compressed_bytes validates curve and subgroup membership (tested with an
    # on-curve point outside the subgroup), so no second is_in_subgroup() here
    return p


def decode_points(buf: bytes, count: int, what: str = "points") -> list[G1Point]:
    """``count`` concatenated compressed points, each decoded strictly."""
    if len(buf) != count * POINT_BYTES:
        raise ProofFormatError(
            f"{what}: {len(buf)} bytes, expected {count} points of {POINT_BYTES} bytes"
        )
    return [
        decode_point(buf[i * POINT_BYTES : (i + 1) * POINT_BYTES], f"{what}[{i}]")
        for i in range(count)
    ]


# -- slow reference (py_ecc), for tests ---------------------------------------------------


def to_py_ecc(p: G1Point):
    """The same point as a py_ecc ``optimized_bls12_381`` Jacobian triple."""
    from py_ecc.optimized_bls12_381 import FQ, Z1

    xy = p.to_xy_bytes_be()
    if p == IDENTITY:
        return Z1
    return (FQ(int.from_bytes(xy[:48], "big")), FQ(int.from_bytes(xy[48:], "big")), FQ(1))


def msm_reference(points: Sequence[G1Point], values: Sequence) -> tuple[int, int] | None:
    """Σ values[i]·points[i] with py_ecc double-and-add; affine (x, y) ints or None for
    the identity."""
    from py_ecc.optimized_bls12_381 import Z1, add, multiply, normalize

    acc = Z1
    for p, v in zip(points, values):
        acc = add(acc, multiply(to_py_ecc(p), int(v) % R))
    if acc[2] == 0:
        return None
    x, y = normalize(acc)
    return int(x.n), int(y.n)


def affine(p: G1Point) -> tuple[int, int] | None:
    """Affine coordinates of a G1Point (None for the identity), to compare with py_ecc."""
    if p == IDENTITY:
        return None
    xy = p.to_xy_bytes_be()
    return int.from_bytes(xy[:48], "big"), int.from_bytes(xy[48:], "big")
