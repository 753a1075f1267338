"""Rescale: bring a product at scale 2^(a+s) back to scale 2^a (DESIGN §4).

Outputs Y (committed, with a declared bound) and the remainder R (committed advice):

    X = 2^s·Y + R − 2^(s−1),   R ∈ [0, 2^s),   Y ∈ [lo, hi]  (Y's declared bound)

i.e. Y = ⌊(X + 2^(s−1)) / 2^s⌋, X/2^s rounded half up (`zklora.zkcore.quant.rescale`).
For a claim Ỹ(r) = v the prover sends R̃(r); the verifier derives
X̃(r) = 2^s·v + R̃(r) − 2^(s−1) — a linear identity of MLEs — and both range checks
are proven by lookups.  The pair (Y, R) is unique modulo p because
2^s·(max|Y| + 1) < p/2, which ``_setup`` checks on both sides (prover and verifier)
from Y's declared bound: (Y, R) ↦ 2^s·Y + R is then injective modulo p on the
range-checked box, so Y = ⌊(X + 2^(s−1))/2^s⌋ for the field value of X
(docs/soundness.md §3.1).
"""

from __future__ import annotations

from zklora.zkcore import quant
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op
from zklora.zkcore.range import prove_range, verify_range


class Rescale(Op):
    name = "rescale"

    def forward(self, node, inputs):
        y, r = quant.rescale(inputs[0], int(node.params["shift"]))
        return [y, r]

    @staticmethod
    def _setup(ctx, node):
        s = int(node.params["shift"])
        Y = node.outputs[0]
        bound = ctx.spec(Y).bound
        if bound is None:
            raise ConfigError(f"rescale {node.name}: output {Y} needs a declared bound")
        if (1 << s) * (max(abs(bound[0]), abs(bound[1])) + 1) >= ctx.F.p // 2:
            raise ConfigError(f"rescale {node.name}: bound of {Y} too wide for field {ctx.F.name}")
        return s, bound

    def prove(self, ctx, node, out_claims):
        s, (lo, hi) = self._setup(ctx, node)
        X = node.inputs[0]
        Y, R = node.outputs
        claims = []
        if Y in out_claims:
            c = out_claims[Y]
            v_r = ctx.evaluate(R, c.point)
            ctx.send(f"{node.name}/rescale/R", v_r[None])
            claims = self._claims(ctx, X, R, c, v_r, s)
        prove_range(ctx, R, 0, (1 << s) - 1, label=f"{node.name}/R")
        prove_range(ctx, Y, lo, hi, label=f"{node.name}/Y")
        return claims

    def verify(self, ctx, node, out_claims):
        s, (lo, hi) = self._setup(ctx, node)
        X = node.inputs[0]
        Y, R = node.outputs
        claims = []
        if Y in out_claims:
            c = out_claims[Y]
            v_r = ctx.recv(f"{node.name}/rescale/R", 1)[0]
            claims = self._claims(ctx, X, R, c, v_r, s)
        verify_range(ctx, R, 0, (1 << s) - 1, label=f"{node.name}/R")
        verify_range(ctx, Y, lo, hi, label=f"{node.name}/Y")
        return claims

    @staticmethod
    def _claims(ctx, X, R, c, v_r, s):
        E = ctx.E
        v_x = E.sub(E.add(E.mul(E.scalar(1 << s), c.value), v_r), E.scalar(1 << (s - 1)))
        return [ctx.claim(R, c.point, v_r), ctx.claim(X, c.point, v_x)]


@hookimpl
def zk_ops():
    return [Rescale()]


def add_rescale(g, node: str, X: str, shift: int, bound, *, y: str, r: str) -> str:
    """Declare Y = X/2^shift rounded (committed, declared ``bound``: a (lo, hi) pair or a
    `zklora.zkcore.quant.Bound`) and its remainder R (committed, [0, 2^shift)) as tensors
    named ``y`` and ``r``, and the rescale node ``node``; returns Y."""
    shape = g.tensors[X].shape
    b = bound.as_tuple() if hasattr(bound, "as_tuple") else tuple(bound)
    g.tensor(y, shape, "committed", b)
    g.tensor(r, shape, "committed", (0, (1 << shift) - 1))
    g.op("rescale", node, [X], [y, r], shift=int(shift))
    return y
