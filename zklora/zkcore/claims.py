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

from zklora.kernels import goldilocks as KG
from zklora.kernels import sumcheck as KS
from zklora.kernels import whir_eq as QE

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


@attrs.frozen
class Blind:
    """coefficient·M̃(point), M a committed tensor (a zero-knowledge mask): a term of a
    blinded `Claim` (docs/zero-knowledge.md §5.1)."""

    tensor: str
    point: np.ndarray = attrs.field(converter=_own)
    coefficient: np.ndarray = attrs.field(converter=_own)

    @classmethod
    def owned(cls, tensor: str, point: np.ndarray, coefficient: np.ndarray) -> Blind:
        """A `Blind` of arrays the caller knows to be small (a point already held by
        a blind, a row of a fresh coefficient array): no converter runs (the hot path
        of the zero-knowledge verifier makes ≈13,000 of them per tiny training step)."""
        b = _NEW(cls)
        _SET(b, "tensor", tensor)
        _SET(b, "point", point)
        _SET(b, "coefficient", coefficient)
        return b


_NEW = object.__new__
_SET = object.__setattr__


@attrs.define
class Claim:
    """The MLE of ``tensor`` at ``point`` equals ``value`` (challenge-field elements).
    With ``blind`` terms (zero knowledge only): T̃(point) + Σ_b b.coefficient·M̃_b(b.point)
    = value, the M_b committed masks whose values the verifier never learns."""

    tensor: str
    point: np.ndarray = attrs.field(converter=_own)
    value: np.ndarray = attrs.field(converter=_own)
    blind: tuple[Blind, ...] = ()

    def key(self) -> bytes:
        k = np.ascontiguousarray(self.point).tobytes()
        for b in self.blind:
            k += b"|" + b.tensor.encode() + b"|" + np.ascontiguousarray(b.point).tobytes() \
                + np.ascontiguousarray(b.coefficient).tobytes()
        return k


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
    if F.name == "goldilocks-ext2" and KG.numba_started() and points:
        n = np.shape(points[0])[0]
        if all(np.shape(p) == (n, 2) for p in points):
            pts = np.ascontiguousarray(np.stack(points), np.uint64)
            r0, r1 = np.uint64(rho[0]), np.uint64(rho[1])

            def fast(r):   # one kernel call (the same value)
                out = np.empty(2, np.uint64)
                KS.e_eq_combo(pts, r0, r1, np.ascontiguousarray(r, np.uint64).reshape(n, 2),
                              out)
                return out

            return fast

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


#: `_w_table` over at least this many variables sums all claims' eq tables in one pass
#: (`whir_eq.eq_acc_blocks`: tiles in L1, W written once, no zeroed table); below, the
#: parallel tiles' fixed cost (~0.15 ms a call) exceeds it and `eq_acc` adds claim by claim
W_BLOCKS_MIN = 14


def _w_table(E: Field, n: int, coefs: np.ndarray, claims: Sequence[Claim]) -> np.ndarray:
    """W = Σ_k ρ^k eq(r_k, ·) (over goldilocks-ext2 one kernel call: from `W_BLOCKS_MIN`
    variables all claims a tile at a time, written once; below, one pass per claim added
    into zeros — the same field elements)."""
    if E.name == "goldilocks-ext2":
        pts = np.stack([np.asarray(c.point, np.uint64).reshape(n, 2) for c in claims]) \
            if n else np.zeros((len(claims), 1, 2), np.uint64)
        nv, offs = [n] * len(claims), [0] * len(claims)
        if n >= W_BLOCKS_MIN:
            w = np.empty((1 << n, 2), np.uint64)
            QE.eq_acc_blocks(pts, nv, offs, coefs, w, overwrite=True)
            return w
        w = E.zeros(1 << n)
        KS.eq_acc(pts, nv, offs, coefs, w)
        return w
    w = E.zeros(1 << n)
    for cf, c in zip(coefs, claims):
        w = E.add(w, E.mul(mle.eq_table(E, c.point), cf))
    return w


def scaled_coefficients(E: Field, blind: Sequence[Blind], k) -> Sequence[np.ndarray]:
    """The blind terms' coefficients times ``k`` (a challenge-field element): one vector
    product for several terms (the same values as one product each)."""
    if len(blind) < 2 or not E.elem_shape:   # (a prime field's rows would be ints)
        return [E.mul(b.coefficient, k) for b in blind]
    return list(E.mul(np.stack([np.asarray(b.coefficient) for b in blind]), k))


def scale_blind(E: Field, blind: Sequence[Blind], k) -> tuple[Blind, ...]:
    """The blind terms times ``k`` (a challenge-field element)."""
    own = Blind.owned   # (each point is already a blind's own; the coefficients are
    return tuple(own(b.tensor, b.point, c)   # rows of one fresh array)
                 for b, c in zip(blind, scaled_coefficients(E, blind, k)))


def reduce(ctx, claims: Sequence[Claim], *, num_vars: int, label: str,
           table: Callable[[], np.ndarray] | None = None, base: bool = True,
           hide: bool = False) -> Claim:
    """Reduce claims on one tensor of ``num_vars`` variables to one claim, on either side
    (``ctx`` a `zklora.zkcore.op.ProverContext` or ``VerifierContext``): ρ drawn, then the
    sumcheck Σ_x f(x)·W(x) = Σ_k ρ^k v_k with W = Σ_k ρ^k eq(r_k, ·), which the verifier
    evaluates itself.  ``table()`` (prover only) gives f as a flat array (base-field
    elements if ``base``).  Blinded claims, or ``hide`` (zero knowledge: the tensor's
    claims may be blinded), take `_reduce_blinded`: no final is sent."""
    E = ctx.E
    claims = dedupe(E, claims, ProverError if ctx.prover else VerificationError)
    if len(claims) == 1:
        return claims[0]
    if any(c.blind for c in claims) or (hide and ctx.zk is not None and num_vars > 0):
        return _reduce_blinded(ctx, claims, num_vars=num_vars, label=label, table=table,
                               base=base)
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


def blind_value(ctx, blind: Sequence[Blind]) -> np.ndarray:
    """Prover: Σ_b b.coefficient·M̃_b(b.point)."""
    E = ctx.E
    acc = E.scalar(0)
    for b in blind:
        acc = E.add(acc, E.mul(b.coefficient, ctx.evaluate(b.tensor, b.point)))
    return acc


def _reduce_blinded(ctx, claims: Sequence[Claim], *, num_vars: int, label: str,
                    table: Callable[[], np.ndarray] | None, base: bool) -> Claim:
    """`reduce` of claims some of which are blinded (zero knowledge, docs/zero-knowledge.md
    §5.1): ρ drawn; the masked sumcheck (`zk.run_blinded`) of f·W for the public total
    Σ_k ρ^k v_k, the unknown Σ_k ρ^k·(blind terms of claim k) carried by the prover as
    B·Π_j x_j; **no final and no u_i sent**: the verifier ends with the running claim
    v_A at r* and the reduced claim is the blinded

        f̃(r*) + Σ_i (ρ_g·factor_i/W(r*))·Ã(pt_i) + Σ_b (Π_j r*_j·ρ^k·c_b/W(r*))·M̃_b(q_b)
            = v_A / W(r*),

    the first sum g(r*) on the reduction's mask slot.  W(r*) = 0 aborts."""
    from . import zk as zklib

    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    if ctx.zk is None:
        raise err(f"{label}: blinded claims outside a zero-knowledge session")
    rho = ctx.challenge(f"{label}/rho")
    coefs = E.powers(rho, len(claims))
    total = E.scalar(0)
    blinds: list[Blind] = []
    for cf, c in zip(coefs, claims):
        total = E.add(total, E.mul(cf, c.value))
        blinds.extend(scale_blind(E, c.blind, cf))

    def tables():
        return [_table(E, table(), base), _w_table(E, num_vars, coefs, claims)]

    point, finals, running, mterms = zklib.run_blinded(
        ctx, label, num_vars, [(1, (0, 1))], total, blinds, tables, public=(0, 1))
    w = _eq_combo(E, [c.point for c in claims], rho)(point)
    if bool(np.all(np.asarray(w) == 0)):
        raise err(f"{label}: W(r*) = 0; retry the proof")
    winv = E.inv(w)
    out = scale_blind(E, mterms, winv)
    return Claim(claims[0].tensor, point, E.mul(running, winv), tuple(out))
