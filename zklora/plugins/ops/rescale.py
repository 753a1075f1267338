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

``limbs=(w_0, …, w_(k−1))`` (set by `limb_outputs`, a pass over a built graph): Y is
*virtual*, defined by committed limbs L_j (outputs 3.., each looked up in range(w_j)):

    Y = lo + Σ_j 2^(o_j)·L_j,   o_j = w_0 + … + w_(j−1),   Σ_j w_j = B

with [lo, lo + 2^B) the box Y would be range-checked in (`checked_bound`, a power-of-two
width).  That is the range check of Y with Y itself left uncommitted: for a claim
Ỹ(r) = v the prover sends R̃(r) and every L̃_j(r) and the verifier checks
v = lo + Σ_j 2^(o_j)·L̃_j(r) (the MLE of a linear function of the limbs) and derives X's
claim as before.  Y ∈ [lo, lo + 2^B) exactly (the limbs' lookups; the mixed-radix
digits are unique), so (Y, R) is pinned as with the range check (docs/soundness.md
§3.1): one committed tensor fewer per rescale, and no recomposition point for Y.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from zklora.zkcore import quant
from zklora.zkcore.build import Builder
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.op import Op, OpNode, Role, TensorSpec, param
from zklora.zkcore.range import DIRECT_MAX_BITS, LIMB_BITS, RangeCheck, range_table
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
        limbs: tuple[int, ...] = param("ints", default=(), lo=1, hi=LIMB_BITS,
                                       doc="Y virtual, defined by committed limbs of "
                                           "these widths (module doc)")
        limb_lo: int = param("int", default=0,
                             doc="with limbs: lo of Y's checked box (Y = lo + Σ 2^o·L)")

    def roles(self, node, params, specs):
        if not params.limbs:
            return self.input_roles, self.output_roles
        return self.input_roles, (Role("Y", "virtual", "X", bounded=True), Role("R", shape="X"),
                                  *(Role(f"L{j}", "committed", "X")
                                    for j in range(len(params.limbs))))

    def validate(self, node, params, specs):
        if not params.limbs:
            return
        Y = node.outputs[0]
        lo, hi = checked_bound(specs[Y].bound, params.shift, params.derived)
        if lo != params.limb_lo:
            raise ValueError(f"limb_lo {params.limb_lo} is not the checked box's lo {lo}")
        if hi - lo + 1 != 1 << sum(params.limbs):
            raise ValueError(f"limbs {list(params.limbs)} do not cover Y's checked box "
                             f"[{lo}, {hi}] exactly")
        for L, w in zip(node.outputs[2:], params.limbs):
            if tuple(specs[L].bound or ()) != (0, (1 << w) - 1):
                raise ValueError(f"limb {L} must be declared with bound (0, {(1 << w) - 1})")

    def forward(self, node, inputs):
        p = self.params(node)
        y, r = quant.rescale(inputs[0], p.shift)
        if not p.limbs:
            return [y, r]
        d = y.to(torch.int64) - p.limb_lo
        return [y, r, *(((d >> o) & ((1 << w) - 1)) for o, w in _offsets(p.limbs))]

    def range_checks(self, node, p, specs):
        """R ∈ [0, 2^s) and Y in its declared bound (in `checked_bound` ⊇ it with
        ``derived``); with ``limbs`` Y's check is its limbs' lookups (`lookups`)."""
        Y, R = node.outputs[:2]
        out = [RangeCheck(R, 0, (1 << p.shift) - 1, f"{node.name}/R")]
        if not p.limbs:
            lo, hi = checked_bound(specs[Y].bound, p.shift, p.derived)
            out.append(RangeCheck(Y, lo, hi, f"{node.name}/Y"))
        return out

    def lookups(self, node, p, specs):
        """With ``limbs``: every limb L_j in range(w_j)."""
        return [LookupRequest(range_table(w), (L,), f"{node.name}/L{j}")
                for j, (L, w) in enumerate(zip(node.outputs[2:], p.limbs))]

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
        p = self.params(node)
        X = node.inputs[0]
        Y, R = node.outputs[:2]
        claims = []
        if Y in out_claims:
            c = out_claims[Y]
            if not p.limbs:
                (v_r,) = ctx.reveal(f"{node.name}/rescale/R", [R], c.point)
            else:
                # Y is virtual: Ỹ(r) = lo + Σ_j 2^(o_j)·L̃_j(r), the limbs' values sent
                vals = ctx.reveal(f"{node.name}/rescale/R", [R, *node.outputs[2:]], c.point)
                v_r, E = vals[0], ctx.E
                lo = p.limb_lo      # = checked_bound(...)[0] (`validate`)
                coef = E.from_ints(np.array([1 << o for o, _ in _offsets(p.limbs)],
                                            dtype=object))
                v_y = E.add(E.scalar(lo), E.dot(vals[1:], coef))
                ctx.check(lambda: E.equal(v_y, c.value),
                          f"rescale {node.name}: the claim on {Y} is not its limbs' value")
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


def _offsets(widths) -> list[tuple[int, int]]:
    """(bit offset, width) of every limb."""
    out, o = [], 0
    for w in widths:
        out.append((o, int(w)))
        o += int(w)
    return out


def limb_outputs(g: Graph, registry=None) -> list[str]:
    """Turn every rescale of ``g`` whose Y would be range-checked with limbs into one
    whose Y is virtual and defined by committed limbs (``limbs``, module doc); returns
    the Y tensors changed.  A rescale qualifies when Y's checked box [lo, hi]
    (`checked_bound`) has a power-of-two width 2^B with B > `DIRECT_MAX_BITS` (so its
    range check would commit `LIMB_BITS`-bit limbs, never a direct lookup), and Y is
    committed, not a graph output nor a proven bound, no lookup column, read only by
    nodes of the producer's segment, whose op roles accept a virtual Y.  The limbs are
    the range check's (16-bit, the top one narrower), named ``{Y}/L{j}``."""
    from zklora.zkcore.graph import static_lookups
    from zklora.zkcore.plugins import registry as default_registry

    reg = registry if registry is not None else default_registry()
    columns = {c for r in static_lookups(g, reg) for c in r.columns}
    readers: dict[str, list[int]] = {}
    for i, n in enumerate(g.nodes):
        for t in n.inputs:
            readers.setdefault(t, []).append(i)
    changed = []
    for i, node in enumerate(list(g.nodes)):
        if node.op != "rescale" or node.params.get("limbs"):
            continue
        Y = node.outputs[0]
        spec = g.tensors[Y]
        if (spec.kind != "committed" or spec.bound is None or Y in g.outputs
                or Y in g.proven_bounds or Y in columns):
            continue
        lo, hi = checked_bound(spec.bound, int(node.params["shift"]),
                               bool(node.params.get("derived", False)))
        width = hi - lo + 1
        B = width.bit_length() - 1
        if width != 1 << B or B <= DIRECT_MAX_BITS:
            continue
        seg = g.node_segments.get(node.name)
        users = [g.nodes[k] for k in readers.get(Y, [])]
        if any(g.node_segments.get(u.name) != seg for u in users):
            continue
        widths = [LIMB_BITS] * (B // LIMB_BITS) + ([B % LIMB_BITS] if B % LIMB_BITS else [])
        limbs = [f"{Y}/L{j}" for j in range(len(widths))]
        if any(L in g.tensors for L in limbs):
            continue
        g.tensors[Y] = attrs.evolve(spec, kind="virtual")
        try:
            for u in users:
                reg.op(u.op).check(u, g.tensors, ValueError)
        except ValueError:
            g.tensors[Y] = spec
            continue
        for L, w in zip(limbs, widths):
            g.tensors[L] = TensorSpec(L, spec.shape, "committed", (0, (1 << w) - 1))
        g.nodes[i] = OpNode(node.op, node.name, node.inputs, (*node.outputs, *limbs),
                            {**node.params, "limbs": widths, "limb_lo": int(lo)})
        changed.append(Y)
    return changed


@hookimpl
def zk_ops():
    return [Rescale()]


@hookimpl
def zk_builders():
    return [Builder("rescale.limb_outputs", limb_outputs,
                    "rescales of a built graph with Y virtual, defined by committed limbs")]
