"""Backward of the mean cross-entropy: dlogits = (P − onehot(labels))/N on counted rows.

Integer specification (`cross_entropy_backward_forward`).  Inputs, all committed by
the forward (`zklora.plugins.ops.cross_entropy.add_cross_entropy` named ``ce``):
P (…, V) the vocabulary softmax ``{ce}/softmax/P`` at scale s, Y (…, V) the one-hot
``{ce}/Y`` (zero on ignored rows), m (…) the row mask ``{ce}/m`` (1 = counted).  N, the
number of counted tokens, is public (the statement's, as in the forward).  The output
dZ is at the gradient scale sg (24 by default):

    A    = m·P − 2^s·Y                              (scale s;  |A| ≤ 2^s)
    M    = 2^max(0, sg − s),   D = N·2^max(0, s − sg)
    dZ   = ⌊(M·A + ⌊D/2⌋) / D⌋                       (M·A/D rounded half up)
    R    = M·A + ⌊D/2⌋ − D·dZ ∈ [0, D)

i.e. dZ = round((P/2^s − onehot)/N·2^sg) on counted rows and exactly 0 on ignored rows
(P = 0 there is not needed: m = 0 removes it).  N need not be a power of two: the
division is an inequality certificate, so the rounding is exact (no 2^k/N constant).

Relation proven (op ``cross_entropy_backward``; one zero-check over every entry, degree
3, τ fresh):

    Σ_x eq(τ, x)·[M·m·P − M·2^s·Y + ⌊D/2⌋ − D·dZ − R] = 0

with range checks R ∈ [0, D − 1] and dZ within its declared bound.  The forward proves
P ∈ [0, 2^(s+1)), Y and m boolean; so every side is an integer below p/2
(`check_ce_backward_bounds`, at build time and in both sides of the op), the relation
holds over the integers and (dZ, R) is the unique certified quotient.

Padded vocabulary (the forward's ``vocab`` < V): the forward proves P = 0 and Y = 0 on
the padded columns (masked softmax, Y² − Mc·Y = 0), so the same relation gives
⌊D/2⌋ − D·dZ − R = 0 there, i.e. dZ = 0 exactly — no padded column receives a gradient,
with no relation added.  `add_cross_entropy_backward` takes ``vocab=`` only to check that
it is the forward's.
"""

from __future__ import annotations

import attrs
import torch

from zklora.zkcore.build import Builder, check_fits, max_abs, pow2_bound
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.quant import SAFE_MAX
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import LIMB, error, vanishes


def ce_factors(num_tokens: int, scale: int, grad_scale: int) -> tuple[int, int]:
    """(M, D) of the module doc."""
    return 1 << max(0, grad_scale - scale), int(num_tokens) << max(0, scale - grad_scale)


def cross_entropy_backward_forward(p: torch.Tensor, y: torch.Tensor, m: torch.Tensor, *,
                                   num_tokens: int, scale: int = 16, grad_scale: int = 24
                                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(dZ, R) of the module doc."""
    M, D = ce_factors(num_tokens, scale, grad_scale)
    a = m.to(torch.int64)[..., None] * p.to(torch.int64) - (y.to(torch.int64) << scale)
    x = M * a + D // 2
    dz = torch.div(x, D, rounding_mode="floor")
    return dz, x - D * dz


def check_ce_backward_bounds(node: str, *, num_tokens: int, scale: int, grad_scale: int,
                             dz: int, limit: int = SAFE_MAX) -> None:
    M, D = ce_factors(num_tokens, scale, grad_scale)
    check_fits(node, "M·(m·P − 2^s·Y) − D·dZ − R",
               M * (1 << (scale + 1)) + M * (1 << scale) + D * (dz + 2), limit)


def dz_bound(num_tokens: int, scale: int, grad_scale: int) -> tuple[int, int]:
    """The declared bound of dZ: |dZ| ≤ ⌈M·2^s/D⌉ + 1, widened to a power-of-two
    width (a one-sided range check)."""
    M, D = ce_factors(num_tokens, scale, grad_scale)
    return pow2_bound(-(-(M << scale) // D) + 1)


class CrossEntropyBackward(Op):
    """dZ = (m·P − onehot)/N at the gradient scale (module doc)."""

    name = "cross_entropy_backward"
    input_roles = ("P", Role("Y", shape="P"), Role("m", shape=lambda s, p: s["P"][:-1]))
    output_roles = tuple(Role(r, "committed", "P", bounded=True) for r in ("dZ", "R"))
    #: zero knowledge (docs/zero-knowledge.md §5.1): committed outputs (claims opened,
    #: never read here); the zero-check's finals of tensors in ``ctx.hide`` are hidden
    zk_blinds = ABSORB

    def validate(self, node, p, specs):
        if not specs[node.inputs[0]].shape:
            raise ValueError("P must have a vocabulary axis")

    @attrs.frozen
    class Params:  # field order: as unpacked by forward and _layout
        num_tokens: int = param("int", lo=1, doc="N")
        scale: int = param("int", lo=1, hi=30, doc="s")
        grad_scale: int = param("int", lo=1, hi=48)
        limb_bits: int = param("int", default=LIMB, lo=1, hi=16)

    def forward(self, node, inputs):
        N, s, sg, _ = attrs.astuple(self.params(node))
        return list(cross_entropy_backward_forward(*inputs, num_tokens=N, scale=s,
                                                   grad_scale=sg))

    def range_checks(self, node, p, specs):
        """dZ in its declared bound, R ∈ [0, D − 1]."""
        dZ, R = node.outputs
        _, D = ce_factors(p.num_tokens, p.scale, p.grad_scale)
        lo, hi = specs[dZ].bound
        return [RangeCheck(dZ, int(lo), int(hi), f"{node.name}/dZ", p.limb_bits),
                RangeCheck(R, 0, D - 1, f"{node.name}/R", p.limb_bits)]

    def relations(self, ctx, node, out_claims):
        """Σ_x eq(τ, x)·[M·m·P − M·2^s·Y + ⌊D/2⌋ − D·dZ − R] = 0 by one zero-check (m
        broadcast along the vocabulary), and the ranges of dZ and R (module doc)."""
        N, s, sg, _ = attrs.astuple(self.params(node))
        (P, Y, m), (dZ, R) = node.inputs, node.outputs
        if N > int(torch.tensor(ctx.spec(P).shape[:-1]).prod()):
            raise error(ctx, f"op {node.name}: num_tokens {N} above the number of rows")
        M, D = ce_factors(N, s, sg)
        if tuple(ctx.spec(R).bound) != (0, D - 1):
            raise error(ctx, f"op {node.name}: {R} must be declared [0, {D - 1}]")
        try:
            check_ce_backward_bounds(node.name, num_tokens=N, scale=s, grad_scale=sg,
                                     dz=max_abs(ctx.spec(dZ).bound, dZ), limit=ctx.F.p // 2)
        except ConfigError as e:
            raise error(ctx, str(e)) from None
        return vanishes(ctx, node.name, [[(M, (m, P)), (-(M << s), (Y,)), (D // 2, ()),
                                          (-D, (dZ,)), (-1, (R,))]])


def cross_entropy_saved(ce: str) -> tuple[str, str, str]:
    """(P, Y, m): the tensors `add_cross_entropy` named ``ce`` keeps for the backward."""
    return f"{ce}/softmax/P", f"{ce}/Y", f"{ce}/m"


def add_cross_entropy_backward(g, name: str, P: str, Y: str, m: str, *,
                               num_tokens: int | None = None, scale: int = 16,
                               grad_scale: int = 24, limb_bits: int = LIMB,
                               vocab: int | None = None) -> str:
    """Add the cross-entropy backward (module doc); returns dlogits ``{name}/dZ``
    (committed, same shape as the logits, at ``grad_scale``; its remainder is
    ``{name}/R``).  P, Y, m: `cross_entropy_saved` of the forward node.  N defaults to
    the forward node's ``num_tokens`` (the statement's); a different one is a
    ConfigError, as is a bound that could reach p/2.  ``vocab`` (default: the forward's,
    else V): the true vocabulary of padded logits; dZ is 0 on the padded columns (module
    doc); a value other than the forward node's is a ConfigError."""
    node = g.producer(m)
    V = int(g.tensors[P].shape[-1]) if g.tensors[P].shape else 0
    if vocab is not None and not 1 <= int(vocab) <= V:
        raise ConfigError(f"cross-entropy backward {name}: vocab {vocab} must be in "
                          f"[1, {V}]")
    if node is not None and node.op == "cross_entropy":
        fv = node.params.get("vocab")
        fv = V if fv is None else int(fv)
        if vocab is not None and int(vocab) != fv:
            raise ConfigError(f"cross-entropy backward {name}: vocab {vocab} differs from "
                              f"the forward's {fv}")
        fN, fs = int(node.params["num_tokens"]), int(node.params["scale"])
        if num_tokens is None:
            num_tokens = fN
        if int(num_tokens) != fN or fs != scale:
            raise ConfigError(f"cross-entropy backward {name}: N = {num_tokens}, scale "
                              f"{scale} differ from the forward's ({fN}, {fs})")
    if num_tokens is None:
        raise ConfigError(f"cross-entropy backward {name}: num_tokens is needed")
    zs = tuple(g.tensors[P].shape)
    if tuple(g.tensors[Y].shape) != zs or tuple(g.tensors[m].shape) != zs[:-1]:
        raise ConfigError(f"cross-entropy backward {name}: P {zs}, Y {g.tensors[Y].shape}, "
                          f"m {g.tensors[m].shape} do not agree")
    N = int(num_tokens)
    _, D = ce_factors(N, scale, grad_scale)
    bound = dz_bound(N, scale, grad_scale)
    check_ce_backward_bounds(name, num_tokens=N, scale=scale, grad_scale=grad_scale,
                             dz=max_abs(bound, "dZ"))
    dZ = g.tensor(f"{name}/dZ", zs, "committed", bound)
    R = g.tensor(f"{name}/R", zs, "committed", (0, D - 1))
    g.op("cross_entropy_backward", name, [P, Y, m], [dZ, R], num_tokens=N, scale=int(scale),
         grad_scale=int(grad_scale), limb_bits=int(limb_bits))
    return dZ


@hookimpl
def zk_ops():
    return [CrossEntropyBackward()]


@hookimpl
def zk_builders():
    return [Builder("cross_entropy_backward", add_cross_entropy_backward,
                    "dlogits of the cross-entropy (add_cross_entropy_backward)"),
            Builder("cross_entropy_backward.saved", cross_entropy_saved,
                    "(P, Y, m) an add_cross_entropy node keeps for the backward")]
