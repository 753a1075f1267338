"""Fixed-point arithmetic: the integer spec every op's ``forward`` follows (DESIGN §4).

A real value x is represented by the integer ``to_fixed(x, s) = floor(x·2^s + 1/2)``
(round half up, i.e. towards +∞ on ties: 0.5 → 1, −0.5 → 0, −1.5 → −1).  A product of
values at scales s1 and s2 is at scale s1 + s2 and is brought back by `rescale`:

    X = 2^s·Y + R − 2^(s−1),   R ∈ [0, 2^s)      ⇔   Y = floor((X + 2^(s−1)) / 2^s),

i.e. Y is X/2^s rounded half up, exactly like `to_fixed`.  The pair (Y, R) is unique
over the integers; over a field of characteristic p it is unique when both are
range-checked and 2^s·(hi_Y − lo_Y + 1) < p (`rescale_unique`).

Every tensor carries a declared inclusive integer range (`Bound`).  The helpers below
propagate bounds through the arithmetic of the ops (sums, products, dot products) and
`check_bound_fits` refuses any bound that could leave int64 (the spec's arithmetic) or
reach p/2 in the field (where the centred lift, and hence the integer meaning of a
field element, would become ambiguous).  The error names the tensor.

All functions are pure and work on torch int64 tensors (or Python ints for bounds).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import torch

from .errors import ConfigError, ProverError

#: p of Goldilocks, the smallest field the project ships.
GOLDILOCKS_P = (1 << 64) - (1 << 32) + 1
#: the largest magnitude any integer of the spec may reach: it must be an int64 and
#: lie strictly below p/2 for p = Goldilocks (so every field also lifts it uniquely).
SAFE_MAX = min((1 << 63) - 1, (GOLDILOCKS_P - 1) // 2 - 1)
#: largest scale accepted anywhere (x·2^s must stay exact in float64 for to_fixed).
MAX_SCALE = 48


@contextmanager
def serial_torch() -> Iterator[None]:
    """torch (its OpenMP loops and MKL) on one thread within the block, the caller's
    count restored after: the witness runs one op after another on one core, and on a
    shared 2-core box a second BLAS thread spins or waits for a core (a 64×512×512 dgemm
    took 14 ms with 2 threads while another process ran, 1 ms with 1).  Thread-local in
    effect (``omp_set_num_threads``, ``mkl_set_num_threads_local``); ~0.3 µs a switch."""
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


class BoundError(ConfigError):
    """A declared bound (or a bound derived from declared bounds) does not fit the
    integer arithmetic: int64 or the centred range of the field."""


# -- scalar conversions ---------------------------------------------------------------


def _check_scale(s: int, *, allow_zero: bool = True) -> int:
    if not isinstance(s, int) or isinstance(s, bool):
        raise ConfigError(f"scale must be an int, got {s!r}")
    if s < (0 if allow_zero else 1) or s > MAX_SCALE:
        lo = 0 if allow_zero else 1
        raise ConfigError(f"scale {s} outside [{lo}, {MAX_SCALE}]")
    return s


def to_fixed(x: torch.Tensor | float, s: int, *, name: str = "tensor") -> torch.Tensor:
    """round(x·2^s) as int64, rounding half up (floor(x·2^s + 1/2)).

    Computed in float64 (x is converted first), so it is exact for |x·2^s| < 2^52.
    Raises `ProverError` naming ``name`` for a non-finite value or one whose fixed-point
    value would exceed `SAFE_MAX`.
    """
    _check_scale(s)
    x = torch.as_tensor(x).to(torch.float64)
    y = torch.mul(x, float(1 << s)).add_(0.5).floor_()   # the same roundings, in place
    if y.numel():
        # one pass for both checks: NaN fails every comparison, ±inf the bound
        lo, hi = (float(v) for v in torch.aminmax(y))
        if not (-float(1 << 62) <= lo and hi <= float(1 << 62)):
            if not bool(torch.isfinite(x).all()):
                raise ProverError(f"{name}: non-finite value cannot be converted to fixed "
                                  "point")
            raise ProverError(f"{name}: value {float(x.abs().max())} too large for scale "
                              f"2^{s}")
    return y.to(torch.int64)


def from_fixed(q: torch.Tensor, s: int) -> torch.Tensor:
    """The real value q/2^s as float64 (exact for |q| < 2^53)."""
    _check_scale(s)
    return torch.as_tensor(q).to(torch.float64) / float(1 << s)


def rescale(x: torch.Tensor, s: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(Y, R) with X = 2^s·Y + R − 2^(s−1) and R ∈ [0, 2^s); s ≥ 1.

    Y = floor((X + 2^(s−1)) / 2^s): X/2^s rounded half up.  Computed with an
    arithmetic shift, exact on int64 as long as X + 2^(s−1) does not overflow.
    """
    _check_scale(s, allow_zero=False)
    x = torch.as_tensor(x)
    if x.dtype != torch.int64:
        raise TypeError(f"rescale needs an int64 tensor, got {x.dtype}")
    half = 1 << (s - 1)
    if x.numel() and int(x.max()) > SAFE_MAX - half:
        raise ProverError(f"rescale: input {int(x.max())} too large")
    t = x + half
    y = t >> s
    r = t.bitwise_and_((1 << s) - 1)   # = t − 2^s·y: the low s bits (two's complement)
    return y, r


def div_round(x: torch.Tensor, s: int) -> torch.Tensor:
    """Only Y of `rescale`: X/2^s rounded half up."""
    return rescale(x, s)[0]


# -- bounds -----------------------------------------------------------------------------


@attrs.frozen
class Bound:
    """Declared inclusive integer range [lo, hi] of a tensor's entries."""

    lo: int
    hi: int

    def __attrs_post_init__(self):
        if self.lo > self.hi:
            raise ConfigError(f"empty bound [{self.lo}, {self.hi}]")

    @classmethod
    def symmetric(cls, m: int) -> Bound:
        """[−m, m]."""
        return cls(-int(m), int(m))

    @classmethod
    def bits(cls, k: int, signed: bool = True) -> Bound:
        """[−2^(k−1), 2^(k−1) − 1] if signed, else [0, 2^k − 1]."""
        return cls(-(1 << (k - 1)), (1 << (k - 1)) - 1) if signed else cls(0, (1 << k) - 1)

    @classmethod
    def of_real(cls, max_abs: float, s: int) -> Bound:
        """The bound of `to_fixed` of reals in [−max_abs, max_abs] at scale s."""
        m = math.floor(max_abs * (1 << s) + 0.5)
        return cls(-m, m)

    @property
    def max_abs(self) -> int:
        return max(abs(self.lo), abs(self.hi))

    @property
    def width(self) -> int:
        """Number of integers in the range."""
        return self.hi - self.lo + 1

    def as_tuple(self) -> tuple[int, int]:
        """The (lo, hi) pair `zklora.zkcore.op.TensorSpec` takes."""
        return (self.lo, self.hi)

    def __add__(self, o: Bound) -> Bound:
        return Bound(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o: Bound) -> Bound:
        return Bound(self.lo - o.hi, self.hi - o.lo)

    def __neg__(self) -> Bound:
        return Bound(-self.hi, -self.lo)

    def __mul__(self, o: Bound | int) -> Bound:
        if isinstance(o, int):
            o = Bound(o, o)
        c = (self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi)
        return Bound(min(c), max(c))

    __rmul__ = __mul__

    def sum(self, n: int) -> Bound:
        """Bound of a sum of n entries."""
        if n < 0:
            raise ValueError("negative count")
        return Bound(self.lo * n, self.hi * n)

    def dot(self, o: Bound, n: int) -> Bound:
        """Bound of a dot product of length n (e.g. a matmul's inner dimension)."""
        return (self * o).sum(n)

    def rescaled(self, s: int) -> Bound:
        """Bound of `rescale`'s Y for inputs in this bound."""
        half = 1 << (s - 1)
        return Bound((self.lo + half) >> s, (self.hi + half) >> s)

    def contains(self, x: torch.Tensor) -> bool:
        if x.numel() == 0:
            return True
        return int(x.min()) >= self.lo and int(x.max()) <= self.hi


def check_bound_fits(name: str, bound: Bound, p: int | None = None) -> Bound:
    """Raise `BoundError` naming ``name`` unless every integer in ``bound`` is an int64
    below `SAFE_MAX` in magnitude and, for a field of characteristic ``p``, strictly
    below p/2 (so its centred lift is unique).  Returns ``bound``."""
    limit = SAFE_MAX if p is None else min(SAFE_MAX, (p - 1) // 2)
    if bound.max_abs > limit:
        bits = math.log2(bound.max_abs) if bound.max_abs else 0.0
        raise BoundError(
            f"tensor {name}: range [{bound.lo}, {bound.hi}] (≈2^{bits:.1f}) exceeds the "
            f"safe integer range ±{limit} (≈2^{math.log2(limit):.1f}); lower a scale or "
            f"a declared bound"
        )
    return bound


def product_bound(name: str, a: Bound, b: Bound, n: int = 1, p: int | None = None) -> Bound:
    """Checked bound of Σ_{k<n} a_k·b_k (n = 1: a Hadamard product)."""
    return check_bound_fits(name, a.dot(b, n), p)


def rescale_unique(name: str, y: Bound, s: int, p: int) -> None:
    """Raise `BoundError` unless the rescale pair (Y, R), Y ∈ ``y``, R ∈ [0, 2^s), is
    unique modulo p: the map (Y, R) ↦ 2^s·Y + R is injective on that box iff
    2^s·width(Y) ≤ p (a collision needs two values differing by a multiple of p)."""
    if (1 << s) * y.width > p:
        raise BoundError(
            f"tensor {name}: rescale by 2^{s} with Y in [{y.lo}, {y.hi}] is not unique modulo "
            f"p (2^{s}·{y.width} > p); narrow the declared bound of Y"
        )


def check_values(name: str, x: torch.Tensor, bound: Bound) -> None:
    """Prover-side: raise `ProverError` naming ``name`` if a value leaves ``bound``."""
    if x.numel() == 0:
        return
    lo, hi = int(x.min()), int(x.max())
    if lo < bound.lo or hi > bound.hi:
        bad = lo if lo < bound.lo else hi
        raise ProverError(f"tensor {name}: value {bad} outside its declared range "
                          f"[{bound.lo}, {bound.hi}]")


# -- configuration ------------------------------------------------------------------------


def _scale_validator(inst, attr, value):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SCALE:
        raise ConfigError(f"quant.{attr.name} must be an integer in [1, {MAX_SCALE}], "
                          f"got {value!r}")


@attrs.frozen
class QuantConfig:
    """Fixed-point scales (log2).  Every real of a class is stored as round(x·2^scale).

    * ``weight_scale`` — base weights and LoRA adapters;
    * ``act_scale`` — activations (hidden states, attention scores, norms' outputs);
    * ``grad_scale`` — gradients (smaller values than activations: a finer scale);
    * ``optim_scale`` — Adam moments (v = g² is tiny: the finest scale).

    Table domains (SiLU, exp, log) and the bounds of advice tensors are declared by the
    ops that use them, from these scales.
    """

    weight_scale: int = attrs.field(default=20, validator=_scale_validator)
    act_scale: int = attrs.field(default=16, validator=_scale_validator)
    grad_scale: int = attrs.field(default=24, validator=_scale_validator)
    optim_scale: int = attrs.field(default=32, validator=_scale_validator)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuantConfig:
        """From a TOML table; unknown keys are a `ConfigError` naming them."""
        known = {a.name for a in attrs.fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"unknown quant keys {extra}; allowed: {sorted(known)}")
        return cls(**dict(d))

    def to_dict(self) -> dict[str, int]:
        return attrs.asdict(self)
