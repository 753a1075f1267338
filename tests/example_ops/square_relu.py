"""Example op plugin of docs/writing-an-op.md: element-wise square and ReLU.

Written as a third party would: one file importing only ``zklora.zkcore`` (and torch),
one ``zk_ops`` hook.  Registered in tests by ``registry_with(square_relu)``; an
installed package would name this module in ``[project.entry-points.zklora]``.

**square** ``Y = X ⊙ X`` (input X, output Y; same shape).  For a claim Ỹ(r) = v:

    v = Σ_x eq(r, x) · X(x) · X(x)

one degree-3 sumcheck (eq is public: the verifier evaluates eq(r, r') itself); the
output is the claim X̃(r') = the prover's final value.  Y ≡ X² (mod p) is the integer
X² because X's declared bound gives max X² < p/2 (checked on both sides).

**relu** ``Y = max(X, 0)`` (input X with a declared bound [lo, hi], lo < 0 ≤ hi;
output Y committed).  Advice, committed by the op: the selector B = [X ≥ 0] and the
slack T = (1 − B)·(−X − 1).  Relations, with a zero-check at a random τ
(Σ_x eq(τ, x)·rel(x) = 0 for every relation, batched by α):

    B·B − B = 0                 B is boolean
    Y − B·X = 0                 Y = X where B = 1, Y = 0 where B = 0
    T − Y + X + 1 − B = 0       T = (1 − B)·(−X − 1)  (given the two above)

and range checks Y ∈ [0, hi], T ∈ [0, −lo − 1].  Uniqueness: where B = 1, Y = X and
Y ∈ [0, hi] force X ≥ 0 (and T = 0); where B = 0, Y = 0 and T = −X − 1 ∈ [0, −lo − 1]
force X ≤ −1.  So B = [X ≥ 0], Y = max(X, 0) and T are determined by X; all the
values are small (|·| < p/2), so the field identities are integer identities.
"""

from __future__ import annotations

import torch

from zklora.zkcore import mle
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import NoParams, Op, Role
from zklora.zkcore.quant import SAFE_MAX
from zklora.zkcore.relations import zerocheck


class _OneToOne(Op):
    """An op with one input X (with a declared bound), one output Y of X's shape and no
    parameters: the kernel refuses any other node of it (`Op.check`, on both sides,
    before any proof byte)."""

    input_roles = (Role("X", bounded=True),)
    output_roles = (Role("Y", shape="X"),)
    Params = NoParams


def _one_to_one(node) -> tuple[str, str]:
    """The node's input X and output Y (already checked by the kernel)."""
    return node.inputs[0], node.outputs[0]


class Square(_OneToOne):
    """Y = X ⊙ X (module doc): one sumcheck Σ_x eq(r, x)·X(x)² = Ỹ(r)."""

    name = "square"

    def forward(self, node, inputs):
        (x,) = inputs
        if x.numel() and int(x.abs().max()) ** 2 > SAFE_MAX:
            raise ProverError(f"op {node.name}: {node.inputs[0]} squared leaves the safe "
                              f"integer range ±{SAFE_MAX}")
        return [x * x]

    def relations(self, ctx, node, out_claims):
        X, Y = _one_to_one(node)
        lo, hi = ctx.spec(X).bound
        if max(lo * lo, hi * hi) >= ctx.F.p // 2:
            raise ConfigError(f"op {node.name}: {X}'s bound [{lo}, {hi}] squared does not fit "
                              f"field {ctx.F.name}")
        c = out_claims[Y]
        E = ctx.E
        point, finals = ctx.run_sumcheck(
            f"{node.name}/square", ctx.spec(X).num_vars, [(1, (0, 1, 1))], c.value,
            lambda: [mle.eq_table(E, c.point), ctx.ext_table(X)],
            public={0: lambda p: mle.eq_eval(E, c.point, p)})
        return [ctx.claim(X, point, finals[1])]


class Relu(_OneToOne):
    """Y = max(X, 0) with a committed selector and slack (module doc)."""

    name = "relu"
    output_roles = (Role("Y", "committed", "X"),)  # range-checked, so committed

    def forward(self, node, inputs):
        (x,) = inputs
        return [x.clamp(min=0)]

    @staticmethod
    def selector(x: torch.Tensor) -> torch.Tensor:
        """B = [X ≥ 0] (the prover's advice)."""
        return (x >= 0).to(torch.int64)

    def relations(self, ctx, node, out_claims):
        X, Y = _one_to_one(node)
        lo, hi = ctx.spec(X).bound
        if not lo < 0 <= hi or (hi - lo).bit_length() + 2 >= ctx.F.p.bit_length():
            raise ConfigError(f"op {node.name}: {X}'s bound [{lo}, {hi}] must contain −1 and "
                              f"0 and fit field {ctx.F.name}")
        shape, n, E = ctx.spec(X).shape, ctx.spec(X).num_vars, ctx.E
        B, T = f"{node.name}/b", f"{node.name}/t"
        ctx.advice(B, shape, (0, 1), lambda: self.selector(ctx.value(X)))
        ctx.advice(T, shape, (0, -lo - 1),
                   lambda: ctx.value(Y) - ctx.value(X) - 1 + ctx.value(B))
        self.ranges(ctx, node, Y, T, lo, hi)
        tau = ctx.challenges(f"{node.name}/relu/tau", n)
        zero = E.scalar(0)
        rels = [
            ([(1, ("eq", B, B)), (-1, ("eq", B))], zero),
            ([(1, ("eq", Y)), (-1, ("eq", B, X))], zero),
            ([(1, ("eq", T)), (-1, ("eq", Y)), (1, ("eq", X)), (1, ("eq",)), (-1, ("eq", B))],
             zero),
        ]
        point, vals = zerocheck(
            ctx, f"{node.name}/relu", n, rels,
            lambda: {"eq": mle.eq_table(E, tau), **{t: ctx.ext_table(t) for t in (X, Y, B, T)}},
            public={"eq": lambda p: mle.eq_eval(E, tau, p)})
        return [ctx.claim(t, point, vals[t]) for t in (X, Y, B, T)]

    @staticmethod
    def ranges(ctx, node, Y: str, T: str, lo: int, hi: int) -> None:
        """Y ∈ [0, hi] and T ∈ [0, −lo − 1] (by lookups)."""
        ctx.range(Y, 0, hi, label=f"{node.name}/Y")
        ctx.range(T, 0, -lo - 1, label=f"{node.name}/T")


@hookimpl
def zk_ops():
    return [Square(), Relu()]
