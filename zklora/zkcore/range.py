"""Range tables and range checks by limb decomposition.

`RangeTable(bits, lo)` is the one-column table lo, lo+1, …, lo + 2^bits − 1 (row j holds
lo + j); its MLE is lo + Σ_j 2^j·r_j, so the verifier evaluates it in O(bits).  Signed
ranges are offset tables (lo < 0).

`prove_range` / `verify_range` prove that every entry of a tensor X lies in [lo, hi]
(both sides call them from an op's prove/verify, in the same place):

* width W = hi − lo + 1, B = bits of W − 1 (so [lo, lo + 2^B) ⊇ [lo, hi]);
* X − lo ∈ [0, 2^B) is proven, and when W is not a power of two also hi − X ∈ [0, 2^B);
  together they give X ∈ [lo, hi];
* each side d ∈ [0, 2^B) is a lookup of X itself into an offset range table when X is
  committed and B ≤ limb_bits; otherwise d is decomposed into limbs
  d = Σ_j 2^(limb_bits·j)·L_j (the top limb narrower), each limb is committed and looked
  up in its range table, and the recomposition is proven linearly at one random point z:
  X̃(z) − lo = Σ_j 2^(limb_bits·j)·L̃_j(z) (resp. hi − X̃(z) = …) — an identity of
  multilinear polynomials, so it holds everywhere w.h.p.  The limbs are sound as
  integers because 2^B < p/2.

`prove_ranges` / `verify_ranges` run several checks at once: every limb is committed
before the first point z is drawn, so all limbs share one stacked commitment.

Claims on X at z are handed to X's owner (its opening if committed, its producer if it
is a virtual input of the calling op).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import attrs
import numpy as np
import torch

from . import selfcheck
from .errors import ProverError, VerificationError
from .field import Field
from .lookup import Table

LIMB_BITS = 16


class RangeTable(Table):
    """The table [lo, lo + 2^bits) with O(bits) MLE evaluation."""

    width = 1

    def __init__(self, bits: int, lo: int = 0):
        if not 0 <= bits <= 30:
            raise ValueError(f"range table of {bits} bits is not supported (0..30)")
        self.num_vars = bits
        self.lo = int(lo)
        self.name = f"range{bits}" if lo == 0 else f"range{bits}@{lo}"
        self._col = np.arange(self.lo, self.lo + (1 << bits), dtype=np.int64)

    def columns(self):
        return [self._col]

    def evaluate(self, F: Field, point):
        acc = F.scalar(self.lo)
        for j in range(self.num_vars):
            acc = F.add(acc, F.mul(F.scalar(1 << j), point[j]))
        return [acc]

    def locate(self, cols):
        idx = np.asarray(cols[0], np.int64) - self.lo
        return np.where((idx >= 0) & (idx < self.size), idx, -1)

    def explain(self, row):
        return f"outside [{self.lo}, {self.lo + self.size - 1}]"


@cache
def _range_table(bits: int, lo: int) -> RangeTable:
    return RangeTable(bits, lo)


def range_table(bits: int, lo: int = 0) -> RangeTable:
    """The cached range table [lo, lo + 2^bits)."""
    return _range_table(int(bits), int(lo))


def _plan(F: Field, lo: int, hi: int, limb_bits: int):
    if hi < lo:
        raise ValueError(f"empty range [{lo}, {hi}]")
    width = hi - lo + 1
    B = (width - 1).bit_length()
    if B + 2 > F.p.bit_length():
        raise ValueError(f"range [{lo}, {hi}] is too wide for field {F.name}")
    limbs = [limb_bits] * (B // limb_bits) + ([B % limb_bits] if B % limb_bits else [])
    sides = [("lo", 1)] + ([("hi", -1)] if width != 1 << B else [])
    return B, limbs, sides


def _direct(ctx, tensor: str, B: int, limb_bits: int) -> bool:
    return B <= limb_bits and ctx.spec(tensor).kind == "committed"


def _table_for(side: str, lo: int, hi: int, B: int) -> RangeTable:
    return range_table(B, lo if side == "lo" else hi - (1 << B) + 1)


@attrs.frozen
class RangeCheck:
    """One range check: every entry of ``tensor`` lies in [lo, hi]; ``label`` names its
    limbs and transcript entries (unique in the proof)."""

    tensor: str
    lo: int
    hi: int
    label: str
    limb_bits: int = LIMB_BITS


def prove_range(ctx, tensor: str, lo: int, hi: int, *, label: str,
                limb_bits: int = LIMB_BITS) -> None:
    """Prove every entry of ``tensor`` lies in [lo, hi] (see module doc).  A value
    outside is a `ProverError` naming the tensor, the value and the range."""
    prove_ranges(ctx, [RangeCheck(tensor, lo, hi, label, limb_bits)])


def verify_range(ctx, tensor: str, lo: int, hi: int, *, label: str,
                 limb_bits: int = LIMB_BITS) -> None:
    """Mirror of `prove_range`."""
    verify_ranges(ctx, [RangeCheck(tensor, lo, hi, label, limb_bits)])


def prove_ranges(ctx, checks: Sequence[RangeCheck]) -> None:
    """Prove several range checks together: the limbs of all of them are committed
    before the first recomposition challenge is drawn, so they share one stacked
    commitment; then each check draws its own point z (module doc)."""
    prove_range_points(ctx, commit_range_limbs(ctx, checks))


def verify_ranges(ctx, checks: Sequence[RangeCheck]) -> None:
    """Mirror of `prove_ranges`."""
    verify_range_points(ctx, receive_range_limbs(ctx, checks))


def commit_range_limbs(ctx, checks: Sequence[RangeCheck]) -> list:
    """First half of `prove_ranges`: check the values (self-check), commit the limbs
    (deferred into the pending stack: a caller may commit them together with other
    tensors) and request the lookups; returns what `prove_range_points` needs.  Draws no
    challenge."""
    pending = []
    for rc in checks:
        lo, hi, label, limb_bits = rc.lo, rc.hi, rc.label, rc.limb_bits
        tensor = rc.tensor
        B, limbs, sides = _plan(ctx.F, lo, hi, limb_bits)
        x = ctx.value(tensor).reshape(-1).to(torch.int64)
        if x.numel() and selfcheck.enabled():
            bad = torch.nonzero((x < lo) | (x > hi)).reshape(-1)
            if bad.numel():
                i = int(bad[0])
                raise ProverError(f"range check {label!r}: tensor {tensor!r} has value "
                                  f"{int(x[i])} at flat index {i}, outside [{lo}, {hi}]")
        shape = ctx.spec(tensor).shape
        limb_names = []
        for side, sign in sides:
            if _direct(ctx, tensor, B, limb_bits):
                ctx.require_lookup(_table_for(side, lo, hi, B), [tensor], f"{label}/{side}")
                continue
            d = (x - lo) if sign > 0 else (hi - x)
            names = []
            for j, bits in enumerate(limbs):
                name = f"{label}/{side}/limb{j}"
                limb = (d >> (limb_bits * j)) & ((1 << bits) - 1)
                ctx.commit_advice(name, limb.reshape(shape), bound=(0, (1 << bits) - 1))
                ctx.require_lookup(range_table(bits), [name], f"{label}/{side}/limb{j}")
                names.append(name)
            limb_names.append((side, names))
        if limb_names:
            pending.append((rc, limb_names))
    return pending


def prove_range_points(ctx, pending: list) -> None:
    """Second half of `prove_ranges`: per check a random z, the values of X and its
    limbs at z, and the claims on them."""
    for rc, limb_names in pending:
        tensor, label = rc.tensor, rc.label
        z = ctx.ch.challenges(f"{label}/range/z", ctx.E, ctx.spec(tensor).num_vars)
        vx = ctx.evaluate(tensor, z)
        vals = [vx] + [ctx.evaluate(n, z) for _, names in limb_names for n in names]
        ctx.send(f"{label}/range/values", np.stack(vals))
        ctx.claim(tensor, z, vx)
        for _, names in limb_names:
            for n in names:
                ctx.claim(n, z, ctx.evaluate(n, z))


def receive_range_limbs(ctx, checks: Sequence[RangeCheck]) -> list:
    """Mirror of `commit_range_limbs`."""
    pending = []
    for rc in checks:
        lo, hi, label, limb_bits = rc.lo, rc.hi, rc.label, rc.limb_bits
        tensor = rc.tensor
        B, limbs, sides = _plan(ctx.F, lo, hi, limb_bits)
        shape = ctx.spec(tensor).shape
        limb_names = []
        for side, sign in sides:
            if _direct(ctx, tensor, B, limb_bits):
                ctx.require_lookup(_table_for(side, lo, hi, B), [tensor], f"{label}/{side}")
                continue
            names = []
            for j, bits in enumerate(limbs):
                name = f"{label}/{side}/limb{j}"
                ctx.commit_advice(name, shape, bound=(0, (1 << bits) - 1))
                ctx.require_lookup(range_table(bits), [name], f"{label}/{side}/limb{j}")
                names.append(name)
            limb_names.append((sign, names))
        if limb_names:
            pending.append((rc, limb_names))
    return pending


def verify_range_points(ctx, pending: list) -> None:
    """Mirror of `prove_range_points`: checks that the limbs recompose X at z."""
    E = ctx.E
    for rc, limb_names in pending:
        tensor, label, lo, hi, limb_bits = rc.tensor, rc.label, rc.lo, rc.hi, rc.limb_bits
        z = ctx.ch.challenges(f"{label}/range/z", E, ctx.spec(tensor).num_vars)
        count = 1 + sum(len(n) for _, n in limb_names)
        vals = ctx.recv(f"{label}/range/values", count)
        vx = vals[0]
        ctx.claim(tensor, z, vx)
        i = 1
        for sign, names in limb_names:
            acc = E.scalar(0)
            for j, n in enumerate(names):
                acc = E.add(acc, E.mul(E.scalar(1 << (limb_bits * j)), vals[i]))
                ctx.claim(n, z, vals[i])
                i += 1
            d = E.sub(vx, E.scalar(lo)) if sign > 0 else E.sub(E.scalar(hi), vx)
            if not E.equal(d, acc):
                raise VerificationError(f"range check {label!r}: limbs of {tensor!r} do not "
                                        "recompose")
