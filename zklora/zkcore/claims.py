"""Claims on tensors and the claim-reduction sumcheck.

A `Claim` says "the MLE of tensor T at point r equals v".  Many claims on one tensor
are merged into one by the reduction sumcheck

    Σ_x f(x) · Σ_k ρ_k eq(r_k, x)  =  Σ_k ρ_k v_k,

after which one claim f(r*) = v* remains; the verifier evaluates Σ_k ρ_k eq(r_k, r*)
itself.  Duplicate claims (same point) are merged first; two different values at the
same point make the verifier reject at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from . import mle, sumcheck
from .errors import VerificationError
from .field import Field
from .transcript import ProverChannel, VerifierChannel


@attrs.define
class Claim:
    """The MLE of ``tensor`` at ``point`` equals ``value`` (challenge-field elements)."""

    tensor: str
    point: np.ndarray
    value: np.ndarray

    def key(self) -> bytes:
        return np.ascontiguousarray(self.point).tobytes()


def dedupe(F: Field, claims: Sequence[Claim]) -> list[Claim]:
    """Merge claims at identical points; `VerificationError` if their values differ."""
    seen: dict[bytes, Claim] = {}
    for c in claims:
        k = c.key()
        if k in seen:
            if not F.equal(seen[k].value, c.value):
                raise VerificationError(
                    f"two different values claimed for {c.tensor} at the same point"
                )
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


def reduce_prove(ch: ProverChannel, F: Field, table: np.ndarray, claims: Sequence[Claim],
                 *, base: bool, label: str) -> Claim:
    """Reduce claims on one tensor (flat table, base or F elements) to one claim."""
    claims = dedupe(F, claims)
    if len(claims) == 1:
        return claims[0]
    rho = ch.challenge(f"{label}/rho", F)
    w = F.zeros(F.length(mle.lift(F, table, base)))
    coef = F.scalar(1)
    claim = F.scalar(0)
    for c in claims:
        w = F.add(w, F.mul(mle.eq_table(F, c.point), coef))
        claim = F.add(claim, F.mul(coef, c.value))
        coef = F.mul(coef, rho)
    point, finals = sumcheck.prove(ch, F, [mle.lift(F, table, base), w], [(1, (0, 1))], claim,
                                   label=label, public=[1])
    return Claim(claims[0].tensor, point, finals[0])


def reduce_verify(ch: VerifierChannel, F: Field, num_vars: int, claims: Sequence[Claim],
                  *, label: str) -> Claim:
    """Verifier side of `reduce_prove`."""
    claims = dedupe(F, claims)
    if len(claims) == 1:
        return claims[0]
    rho = ch.challenge(f"{label}/rho", F)
    coef = F.scalar(1)
    claim = F.scalar(0)
    for c in claims:
        claim = F.add(claim, F.mul(coef, c.value))
        coef = F.mul(coef, rho)
    at = _eq_combo(F, [c.point for c in claims], rho)
    point, finals = sumcheck.verify(ch, F, num_vars, 2, [(1, (0, 1))], claim, label=label,
                                    public={1: at})
    return Claim(claims[0].tensor, point, finals[0])
