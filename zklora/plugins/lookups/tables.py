"""The table registry: range tables and fixed-point function tables.

Every table is named and built deterministically from its parameters, and cached
(`functools.lru_cache`), so prover and verifier build the identical table.  Function
tables have two columns (x, y) with rows x = lo, lo+1, …, lo + 2^bits − 1 and

    y = round_half_up(f(x / 2^s_in) · 2^s_out) = ⌊f(x / 2^s_in) · 2^s_out + 1/2⌋.

y is computed in float64 and every value within 10⁻⁶ of a rounding tie is recomputed
with 50-digit `decimal` arithmetic, so the table does not depend on the platform's libm.
The verifier evaluates the x column in O(bits) and the y column in O(2^bits).

Families (names as in the registry, ``registry().table(name).build(**params)``; ops
get them by name through `zklora.zkcore.build.named_table`, never by importing this
module):

* ``range(bits, lo=0)`` — [lo, lo + 2^bits) (one column; `zklora.zkcore.range`);
* ``silu(in_scale_bits, out_scale_bits, domain_bits)`` — f(u) = u / (1 + e^(−u)) on the
  signed domain x ∈ [−2^(d−1), 2^(d−1));
* ``silu_grad(in_scale_bits, out_scale_bits, domain_bits)`` — f(u) = σ(u)·(1 + u·(1 − σ(u))),
  σ(u) = 1 / (1 + e^(−u)), same signed domain;
* ``silu_lerp(in_scale_bits, out_scale_bits, slope_scale_bits, domain_bits)`` — three
  columns (x, round(silu(u)·2^s_out), round(silu'(u)·2^s_slope)), u = x/2^s_in: the value
  and the slope of a first-order interpolation (`FunctionSlopeTable`);
* ``silu_grad_lerp(in_scale_bits, out_scale_bits, slope_scale_bits, domain_bits)`` — the
  same for silu' with slope silu''(u) = σ(u)(1 − σ(u))(2 + u(1 − 2σ(u)));
* ``exp_digit(in_scale_bits, out_scale_bits, digit_bits, position)`` — digit d ∈ [0, 2^b)
  at ``position`` j of a base-2^b expansion: f = e^(−d·2^(b·j) / 2^s_in), i.e. the factor
  of e^(−x) contributed by that digit (zkAttn);
* ``log(in_scale_bits, out_scale_bits, domain_bits, lo=1)`` — f(u) = ln u on
  x ∈ [lo, lo + 2^d), lo ≥ 1.

Exact definitions and examples are in docs/lookups.md.
"""

from __future__ import annotations

import decimal
import functools
import inspect
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from zklora.zkcore import mle
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import Table, TableSpec
from zklora.zkcore.range import RangeTable, range_table

__all__ = ["FunctionTable", "FunctionSlopeTable", "RangeTable", "range_table", "silu_table",
           "silu_grad_table", "silu_lerp_table", "silu_grad_lerp_table",
           "exp_digit_table", "log_table", "fixed_point_values"]

_CTX = decimal.Context(prec=50)
_TIE = 1e-6
_MAX = float(1 << 40)


def _d_exp(u):
    return u.exp(_CTX)


def _d_sigmoid(u):
    return _CTX.divide(1, _CTX.add(1, _d_exp(-u)))


_FUNCS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable]] = {
    "silu": (lambda u: u / (1.0 + np.exp(-u)),
             lambda u: _CTX.multiply(u, _d_sigmoid(u))),
    "silu_grad": (lambda u: (s := 1.0 / (1.0 + np.exp(-u))) * (1.0 + u * (1.0 - s)),
                  lambda u: _CTX.multiply(_d_sigmoid(u),
                                          1 + _CTX.multiply(u, 1 - _d_sigmoid(u)))),
    "silu_grad2": (lambda u: ((s := 1.0 / (1.0 + np.exp(-u))) * (1.0 - s)
                              * (2.0 + u * (1.0 - 2.0 * s))),
                   lambda u: _CTX.multiply(
                       _CTX.multiply(_d_sigmoid(u), 1 - _d_sigmoid(u)),
                       2 + _CTX.multiply(u, 1 - 2 * _d_sigmoid(u)))),
    "exp_neg": (lambda u: np.exp(-u), lambda u: _d_exp(-u)),
    "log": (np.log, lambda u: u.ln(_CTX)),
}


def _cached(fn):
    """lru_cache keyed on the bound arguments, so positional and keyword calls share the
    cached table."""
    sig = inspect.signature(fn)
    inner = lru_cache(maxsize=None)(fn)

    @functools.wraps(fn)
    def build(*args, **kwargs):
        b = sig.bind(*args, **kwargs)
        b.apply_defaults()
        return inner(*(int(v) for v in b.arguments.values()))

    build.cache_clear = inner.cache_clear
    return build


def fixed_point_values(func: str, xs: np.ndarray, in_scale: int, out_scale: int,
                       pre_scale: int = 1) -> np.ndarray:
    """round_half_up(f(x·pre_scale / 2^in_scale) · 2^out_scale) for integer x (int64)."""
    fast, exact = _FUNCS[func]
    xs = np.asarray(xs, np.int64)
    with np.errstate(over="ignore", divide="ignore"):
        y = fast(xs.astype(np.float64) * pre_scale / 2.0 ** in_scale) * 2.0 ** out_scale
    if not np.all(np.isfinite(y)) or np.any(np.abs(y) > _MAX):
        raise ValueError(f"{func} table values exceed 2^40: reduce the output scale")
    out = np.floor(y + 0.5).astype(np.int64)
    frac = y - np.floor(y)
    for i in np.flatnonzero(np.abs(frac - 0.5) < _TIE):
        u = _CTX.divide(decimal.Decimal(int(xs[i]) * pre_scale), decimal.Decimal(2) ** in_scale)
        v = _CTX.multiply(exact(u), decimal.Decimal(2) ** out_scale)
        out[i] = int((v + decimal.Decimal("0.5")).to_integral_value(decimal.ROUND_FLOOR))
    return out


class FunctionTable(Table):
    """Two columns (x, f_int(x)) for x ∈ [lo, lo + 2^bits) (see module doc)."""

    width = 2

    def __init__(self, name: str, func: str, in_scale: int, out_scale: int, bits: int,
                 lo: int, pre_scale: int = 1):
        if not 0 <= bits <= 24:
            raise ValueError(f"function table of {bits} bits is not supported (0..24)")
        self.name = name
        self.func = func
        self.num_vars = bits
        self.lo = int(lo)
        self._x = np.arange(self.lo, self.lo + (1 << bits), dtype=np.int64)
        self._y = fixed_point_values(func, self._x, in_scale, out_scale, pre_scale)
        self._x.setflags(write=False)
        self._y.setflags(write=False)

    def columns(self):
        return [self._x, self._y]

    def evaluate(self, F: Field, point):
        x = F.scalar(self.lo)
        for j in range(self.num_vars):
            x = F.add(x, F.mul(F.scalar(1 << j), point[j]))
        return [x, mle.evaluate(F, F.base.from_ints(self._y), point, base=True)]

    def locate(self, cols):
        x = np.asarray(cols[0], np.int64)
        y = np.asarray(cols[1], np.int64)
        idx = x - self.lo
        ok = (idx >= 0) & (idx < self.size)
        safe = np.where(ok, idx, 0)
        ok &= self._y[safe] == y
        return np.where(ok, idx, -1)

    def explain(self, row):
        x, y = row
        if not self.lo <= x < self.lo + self.size:
            return f"input {x} outside the domain [{self.lo}, {self.lo + self.size - 1}]"
        return f"expected output {int(self._y[x - self.lo])} for input {x}, got {y}"


class FunctionSlopeTable(FunctionTable):
    """Three columns (x, f_int(x), f'_int(x)) for x ∈ [lo, lo + 2^bits): a function table
    (`FunctionTable`) with the derivative ``dfunc`` at scale ``slope_scale`` beside it, so
    that one lookup gives both the value and the slope of a first-order interpolation
    f(x + δ) ≈ f(x) + δ·f'(x) between the table's points."""

    width = 3

    def __init__(self, name: str, func: str, dfunc: str, in_scale: int, out_scale: int,
                 slope_scale: int, bits: int, lo: int):
        super().__init__(name, func, in_scale, out_scale, bits, lo)
        self._d = fixed_point_values(dfunc, self._x, in_scale, slope_scale)
        self._d.setflags(write=False)

    def columns(self):
        return [self._x, self._y, self._d]

    def evaluate(self, F: Field, point):
        x, y = super().evaluate(F, point)
        return [x, y, mle.evaluate(F, F.base.from_ints(self._d), point, base=True)]

    def locate(self, cols):
        idx = super().locate(cols[:2])
        safe = np.where(idx >= 0, idx, 0)
        return np.where((idx >= 0) & (self._d[safe] == np.asarray(cols[2], np.int64)), idx, -1)

    def explain(self, row):
        x, y, d = row
        if not self.lo <= x < self.lo + self.size or int(self._y[x - self.lo]) != y:
            return super().explain((x, y))
        return f"expected slope {int(self._d[x - self.lo])} for input {x}, got {d}"


@_cached
def silu_lerp_table(in_scale_bits: int, out_scale_bits: int, slope_scale_bits: int,
                    domain_bits: int) -> FunctionSlopeTable:
    """(x, round(silu(u)·2^s_out), round(silu'(u)·2^s_slope)), u = x/2^s_in, for
    x ∈ [−2^(d−1), 2^(d−1))."""
    return FunctionSlopeTable(
        f"silu_lerp[in={in_scale_bits},out={out_scale_bits},slope={slope_scale_bits},"
        f"d={domain_bits}]", "silu", "silu_grad", in_scale_bits, out_scale_bits,
        slope_scale_bits, domain_bits, -(1 << (domain_bits - 1)) if domain_bits else 0)


@_cached
def silu_grad_lerp_table(in_scale_bits: int, out_scale_bits: int, slope_scale_bits: int,
                         domain_bits: int) -> FunctionSlopeTable:
    """(x, round(silu'(u)·2^s_out), round(silu''(u)·2^s_slope)), u = x/2^s_in, for
    x ∈ [−2^(d−1), 2^(d−1))."""
    return FunctionSlopeTable(
        f"silu_grad_lerp[in={in_scale_bits},out={out_scale_bits},slope={slope_scale_bits},"
        f"d={domain_bits}]", "silu_grad", "silu_grad2", in_scale_bits, out_scale_bits,
        slope_scale_bits, domain_bits, -(1 << (domain_bits - 1)) if domain_bits else 0)


@_cached
def silu_table(in_scale_bits: int, out_scale_bits: int, domain_bits: int) -> FunctionTable:
    """(x, round(silu(x/2^s_in)·2^s_out)) for x ∈ [−2^(d−1), 2^(d−1))."""
    return FunctionTable(f"silu[in={in_scale_bits},out={out_scale_bits},d={domain_bits}]",
                         "silu", in_scale_bits, out_scale_bits, domain_bits,
                         -(1 << (domain_bits - 1)) if domain_bits else 0)


@_cached
def silu_grad_table(in_scale_bits: int, out_scale_bits: int, domain_bits: int
                    ) -> FunctionTable:
    """(x, round(silu'(x/2^s_in)·2^s_out)) for x ∈ [−2^(d−1), 2^(d−1))."""
    return FunctionTable(
        f"silu_grad[in={in_scale_bits},out={out_scale_bits},d={domain_bits}]", "silu_grad",
        in_scale_bits, out_scale_bits, domain_bits,
        -(1 << (domain_bits - 1)) if domain_bits else 0)


@_cached
def exp_digit_table(in_scale_bits: int, out_scale_bits: int, digit_bits: int,
                    position: int) -> FunctionTable:
    """(d, round(exp(−d·2^(b·position)/2^s_in)·2^s_out)) for d ∈ [0, 2^b)."""
    return FunctionTable(
        f"exp_digit[in={in_scale_bits},out={out_scale_bits},b={digit_bits},j={position}]",
        "exp_neg", in_scale_bits, out_scale_bits, digit_bits, 0,
        pre_scale=1 << (digit_bits * position))


@_cached
def log_table(in_scale_bits: int, out_scale_bits: int, domain_bits: int, lo: int = 1
              ) -> FunctionTable:
    """(x, round(ln(x/2^s_in)·2^s_out)) for x ∈ [lo, lo + 2^d), lo ≥ 1."""
    if lo < 1:
        raise ValueError("log table domain must start at 1 or above")
    return FunctionTable(
        f"log[in={in_scale_bits},out={out_scale_bits},d={domain_bits},lo={lo}]", "log",
        in_scale_bits, out_scale_bits, domain_bits, lo)


TABLE_SPECS = [
    TableSpec("range", range_table, "[lo, lo + 2^bits); params bits, lo=0"),
    TableSpec("silu", silu_table, "SiLU; params in_scale_bits, out_scale_bits, domain_bits"),
    TableSpec("silu_grad", silu_grad_table,
              "SiLU'; params in_scale_bits, out_scale_bits, domain_bits"),
    TableSpec("silu_lerp", silu_lerp_table,
              "SiLU and SiLU' (slope); params in_scale_bits, out_scale_bits, "
              "slope_scale_bits, domain_bits"),
    TableSpec("silu_grad_lerp", silu_grad_lerp_table,
              "SiLU' and SiLU'' (slope); params in_scale_bits, out_scale_bits, "
              "slope_scale_bits, domain_bits"),
    TableSpec("exp_digit", exp_digit_table,
              "exp(−digit); params in_scale_bits, out_scale_bits, digit_bits, position"),
    TableSpec("log", log_table, "ln; params in_scale_bits, out_scale_bits, domain_bits, lo=1"),
]


@hookimpl
def zk_tables():
    return list(TABLE_SPECS)
