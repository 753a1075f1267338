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

import attrs

from zklora.zkcore import quant
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op, Role, param
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import rescale_input_claim


class Rescale(Op):
    name = "rescale"
    input_roles = ("X",)
    output_roles = (Role("Y", shape="X", bounded=True), Role("R", shape="X"))

    @attrs.frozen
    class Params:
        shift: int = param("int", lo=1, hi=quant.MAX_SCALE, doc="s")

    def forward(self, node, inputs):
        y, r = quant.rescale(inputs[0], self.params(node).shift)
        return [y, r]

    def range_checks(self, node, p, specs):
        """R ∈ [0, 2^s) and Y in its declared bound."""
        Y, R = node.outputs
        lo, hi = specs[Y].bound
        return [RangeCheck(R, 0, (1 << p.shift) - 1, f"{node.name}/R"),
                RangeCheck(Y, int(lo), int(hi), f"{node.name}/Y")]

    def _setup(self, ctx, node):
        s = self.params(node).shift
        Y = node.outputs[0]
        bound = ctx.spec(Y).bound
        if (1 << s) * (max(abs(bound[0]), abs(bound[1])) + 1) >= ctx.F.p // 2:
            raise ConfigError(f"rescale {node.name}: bound of {Y} too wide for field {ctx.F.name}")
        return s, bound

    def relations(self, ctx, node, out_claims):
        s, _ = self._setup(ctx, node)
        X = node.inputs[0]
        Y, R = node.outputs
        claims = []
        if Y in out_claims:
            c = out_claims[Y]
            (v_r,) = ctx.reveal(f"{node.name}/rescale/R", [R], c.point)
            claims = [rescale_input_claim(ctx, X, c.point, c.value, v_r, s)]
        return claims


@hookimpl
def zk_ops():
    return [Rescale()]
