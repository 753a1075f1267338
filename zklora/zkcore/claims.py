"""Claims on tensors and the claim-reduction sumcheck.

A `Claim` says "the MLE of tensor T at point r equals v".  Many claims on one tensor
are merged into one by the reduction sumcheck

    Σ_x f(x) · Σ_k ρ_k eq(r_k, x)  =  Σ_k ρ_k v_k,

after which one claim f(r*) = v* remains; the verifier evaluates Σ_k ρ_k eq(r_k, r*)
itself.  Duplicate claims (same point) are merged first; two different values at the
same point make the verifier reject at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np

from zklora.kernels import sumcheck as KS

from . import mle
from .errors import ProverError, VerificationError
from .field import Field


def _own(a):
    """``a`` itself, or a copy of it when it is a view of a larger array: a claim's point
    or value is often a slice of a sumcheck's folded tables (its finals), and a claim
    kept until the opening would otherwise keep that whole table alive."""
    if isinstance(a, np.ndarray) and a.base is not None:
        return a.copy()
    return a


@attrs.define
class Claim:
    """The MLE of ``tensor`` at ``point`` equals ``value`` (challenge-field elements)."""

    tensor: str
    point: np.ndarray = attrs.field(converter=_own)
    value: np.ndarray = attrs.field(converter=_own)

    def key(self) -> bytes:
        return np.ascontiguousarray(self.point).tobytes()


def dedupe(F: Field, claims: Sequence[Claim], err: type[Exception] = VerificationError
           ) -> list[Claim]:
    """Merge claims at identical points; ``err`` (the side's error) if their values
    differ."""
    seen: dict[bytes, Claim] = {}
    for c in claims:
        k = c.key()
        if k in seen:
            if not F.equal(seen[k].value, c.value):
                raise err(f"two different values claimed for {c.tensor} at the same point")
        else:
            seen[k] = c
    return list(seen.values())


def _eq_combo(F: Field, points: Sequence[np.ndarray], rho: np.ndarray):
    def at(r):
        acc = F.scalar(0)
        coef = F.scalar(1)
        for p in points:
            acc = F.add(acc, F.mul(coef, mle.eq_eval(F, p, r)))
            coef = F.mul(coef, rho)
        return acc

    return at


def _table(E: Field, t, base: bool) -> np.ndarray:
    """f for the sumcheck: base-field tables stay flat (`sumcheck.prove` reads them in
    the base field until the first challenge)."""
    if base and E.elem_shape:
        return np.asarray(t).reshape(-1)
    return mle.lift(E, t, base)


def _w_table(E: Field, n: int, coefs: np.ndarray, claims: Sequence[Claim]) -> np.ndarray:
    """W = Σ_k ρ^k eq(r_k, ·) (over goldilocks-ext2 one kernel pass per claim)."""
    w = E.zeros(1 << n)
    if E.name == "goldilocks-ext2":
        pts = np.stack([np.asarray(c.point, np.uint64).reshape(n, 2) for c in claims]) \
            if n else np.zeros((len(claims), 1, 2), np.uint64)
        KS.eq_acc(pts, [n] * len(claims), [0] * len(claims), coefs, w)
        return w
    for cf, c in zip(coefs, claims):
        w = E.add(w, E.mul(mle.eq_table(E, c.point), cf))
    return w


def reduce(ctx, claims: Sequence[Claim], *, num_vars: int, label: str,
           table: Callable[[], np.ndarray] | None = None, base: bool = True) -> Claim:
    """Reduce claims on one tensor of ``num_vars`` variables to one claim, on either side
    (``ctx`` a `zklora.zkcore.op.ProverContext` or ``VerifierContext``): ρ drawn, then the
    sumcheck Σ_x f(x)·W(x) = Σ_k ρ^k v_k with W = Σ_k ρ^k eq(r_k, ·), which the verifier
    evaluates itself.  ``table()`` (prover only) gives f as a flat array (base-field
    elements if ``base``)."""
    E = ctx.E
    claims = dedupe(E, claims, ProverError if ctx.prover else VerificationError)
    if len(claims) == 1:
        return claims[0]
    rho = ctx.challenge(f"{label}/rho")
    coefs = E.powers(rho, len(claims))
    total = E.scalar(0)
    for cf, c in zip(coefs, claims):
        total = E.add(total, E.mul(cf, c.value))

    def tables():
        return [_table(E, table(), base), _w_table(E, num_vars, coefs, claims)]

    point, finals = ctx.run_sumcheck(label, num_vars, [(1, (0, 1))], total, tables,
                                     public={1: _eq_combo(E, [c.point for c in claims], rho)})
    return Claim(claims[0].tensor, point, finals[0])
