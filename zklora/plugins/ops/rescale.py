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

``derived=True`` (set by a builder whose declared bound [lo, hi] of Y is the image
of X's bound, every input of X's producer in its own declared or proven bound) replaces
the two-sided check of Y ∈ [lo, hi] by the one-sided Y ∈ [lo, lo + 2^B) (B = bits of
hi − lo; `checked_bound`) when hi − lo + 1 is not a power of two and the wider box
still keeps (Y, R) unique: half the limbs.  Y is still pinned — (Y, R) is unique on
the wider box, and the honest pair lies in it — so Y = ⌊(X + 2^(s−1))/2^s⌋ ∈ [lo, hi]
whenever X's inputs are in their bounds (docs/soundness.md §3.1).
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
        derived: bool = param("bool", default=False,
                              doc="Y's bound is derived from X's: check it one-sided")

    def forward(self, node, inputs):
        y, r = quant.rescale(inputs[0], self.params(node).shift)
        return [y, r]

    def range_checks(self, node, p, specs):
        """R ∈ [0, 2^s) and Y in its declared bound (in `checked_bound` ⊇ it with
        ``derived``)."""
        Y, R = node.outputs
        lo, hi = checked_bound(specs[Y].bound, p.shift, p.derived)
        return [RangeCheck(R, 0, (1 << p.shift) - 1, f"{node.name}/R"),
                RangeCheck(Y, lo, hi, f"{node.name}/Y")]

    def _setup(self, ctx, node):
        p = self.params(node)
        s = p.shift
        Y = node.outputs[0]
        bound = ctx.spec(Y).bound
        lo, hi = checked_bound(bound, s, p.derived)   # the box Y is range-checked in
        if (1 << s) * (max(abs(lo), abs(hi)) + 1) >= ctx.F.p // 2:
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


#: a derived Y is checked in the wider power-of-two box only while 2^s·(max|Y| + 1) stays
#: within this (below p/2 of every shipped field: Goldilocks p > 2^63)
WIDEN_LIMIT = 1 << 62


def checked_bound(bound, shift: int, derived: bool) -> tuple[int, int]:
    """The interval Y's range check proves: the declared ``bound`` [lo, hi]; with
    ``derived``, when hi − lo + 1 is not a power of two, [lo, lo + 2^B − 1] with
    B = bits(hi − lo) — one side of limbs instead of two — as long as
    2^shift·(max|Y| + 1) ≤ `WIDEN_LIMIT` on it (else the declared bound)."""
    lo, hi = int(bound[0]), int(bound[1])
    if not derived:
        return lo, hi
    B = (hi - lo).bit_length()
    top = lo + (1 << B) - 1
    if top == hi or (1 << shift) * (max(abs(lo), abs(top)) + 1) > WIDEN_LIMIT:
        return lo, hi
    return lo, top


@hookimpl
def zk_ops():
    return [Rescale()]
