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
Ỹ(r) = v the prover sends L̃_j(r) for j ≥ 1 and the claim on L_0 is *derived*,
L̃_0(r) = v − lo − Σ_(j≥1) 2^(o_j)·L̃_j(r) (opened with L_0): it holds iff
Ỹ(r) = lo + Σ_j 2^(o_j)·L̃_j(r) does.  ``r_limbs`` does the same for R (lo = 0,
Σ w_j = s; R̃(r) = Σ_j 2^(o_j)·M̃_j(r) from the sent M̃_j(r)).  Y ∈ [lo, lo + 2^B) and
R ∈ [0, 2^s) exactly (the limbs' lookups; the mixed-radix digits are unique), so (Y, R)
is pinned as with the range checks (docs/soundness.md §3.1): one committed tensor fewer
per limbed Y or R, and no recomposition point.

``y_by_consumer=True`` (set by `zklora.plugins.ops.silu.add_swiglu` on the rescale that
makes its gate G, only while `silu.GATE_RANGE_BY_TABLE` is on; off by default) drops the
range check of Y: its consumer proves it.  The SiLU op reading Y as G proves
G = 2^h·Gq + Rq − 2^(h−1) entry by entry (its rescale identity at a random point), Gq in
the table's domain [a, b] (the lookup) and Rq ∈ [0, 2^h) (a range check), so
Y ∈ [2^h·a − 2^(h−1), 2^h·b + 2^(h−1) − 1] as integers; the builder sets the flag only
when that box lies inside Y's declared bound, on which ``_setup`` checks
2^s·(max|Y| + 1) < p/2 as always — so (Y, R) is unique on the box the consumer proves,
and the honest pair lies in it (the honest G of any run the SiLU op accepts lies in
it: its Gq must be in the table's domain).  docs/soundness.md §3.1.
With `silu.GATE_VIRTUAL` (s35h3, off by default) Y is also *virtual*, with no limbs of
its own: its only reader, the SiLU op, hands the claim Ỹ(z) = 2^h·G̃q(z) + R̃q(z) −
2^(h−1) to this node, which turns it into X's as above — Y is then defined by the SiLU
op's Gq and Rq as by limbs (Y = lo + Rq + 2^h·(Gq − a), widths h and b), and (Y, R) is
pinned by the same argument.  A virtual Y with neither limbs nor ``y_by_consumer`` is
refused (`validate`): its range would be proven nowhere.
"""

from __future__ import annotations

import types
from collections.abc import Sequence

import attrs
import numpy as np
import torch

from zklora.kernels.fixed_point import limb_of, rescale_split
from zklora.zkcore import quant
from zklora.zkcore.build import Builder
from zklora.zkcore.claims import scale_blind
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.op import PASS, Op, OpNode, Role, TensorSpec, param
from zklora.zkcore.range import DIRECT_MAX_BITS, RangeCheck, range_table
from zklora.zkcore.relations import rescale_input_claim


class Rescale(Op):
    name = "rescale"
    input_roles = ("X",)
    output_roles = (Role("Y", shape="X", bounded=True), Role("R", shape="X"))
    #: zero knowledge: a blinded claim on Y (and the masked R̃, limbs) passes its blinds
    #: to the claim on X (`relations.rescale_input_claim`) and, with ``limbs``, L_0's
    zk_blinds = PASS

    @attrs.frozen
    class Params:
        shift: int = param("int", lo=1, hi=quant.MAX_SCALE, doc="s")
        derived: bool = param("bool", default=False,
                              doc="Y's bound is derived from X's: check it one-sided")
        limbs: tuple[int, ...] = param("ints", default=(), lo=1, hi=DIRECT_MAX_BITS,
                                       doc="Y virtual, defined by committed limbs of "
                                           "these widths (module doc)")
        limb_lo: int = param("int", default=0,
                             doc="with limbs: lo of Y's checked box (Y = lo + Σ 2^o·L)")
        r_limbs: tuple[int, ...] = param("ints", default=(), lo=1, hi=DIRECT_MAX_BITS,
                                         doc="R virtual, defined by committed limbs of "
                                             "these widths (R = Σ 2^o·M)")
        y_by_consumer: bool = param("bool", default=False,
                                    doc="Y's range is proven by a consumer (a SiLU table "
                                        "input): no check of Y here (module doc)")

    def roles(self, node, params, specs):
        if not params.limbs and not params.r_limbs:
            return self.input_roles, self.output_roles
        return self.input_roles, (
            Role("Y", "virtual" if params.limbs else None, "X", bounded=True),
            Role("R", "virtual" if params.r_limbs else None, "X"),
            *(Role(f"L{j}", "committed", "X") for j in range(len(params.limbs))),
            *(Role(f"M{j}", "committed", "X") for j in range(len(params.r_limbs))))

    def validate(self, node, params, specs):
        Y = node.outputs[0]
        if params.y_by_consumer and params.limbs:
            raise ValueError("y_by_consumer: Y has no check of its own, so no limbs")
        if specs is not None and Y in specs and specs[Y].kind == "virtual" and \
                not params.limbs and not params.y_by_consumer:
            raise ValueError(f"Y {Y} is virtual without limbs: its range check needs it "
                             "committed (or y_by_consumer)")
        if params.limbs:
            lo, hi = checked_bound(specs[Y].bound, params.shift, params.derived)
            if lo != params.limb_lo:
                raise ValueError(f"limb_lo {params.limb_lo} is not the checked box's lo {lo}")
            if hi - lo + 1 != 1 << sum(params.limbs):
                raise ValueError(f"limbs {list(params.limbs)} do not cover Y's checked box "
                                 f"[{lo}, {hi}] exactly")
        if params.r_limbs and sum(params.r_limbs) != params.shift:
            raise ValueError(f"r_limbs {list(params.r_limbs)} do not cover R's "
                             f"{params.shift} bits exactly")
        for L, w in zip(node.outputs[2:], (*params.limbs, *params.r_limbs)):
            if tuple(specs[L].bound or ()) != (0, (1 << w) - 1):
                raise ValueError(f"limb {L} must be declared with bound (0, {(1 << w) - 1})")

    def forward(self, node, inputs):
        p = self.params(node)
        x = inputs[0]
        if isinstance(x, torch.Tensor) and x.dtype == torch.int64 and x.numel() and \
                x.device.type == "cpu" and x.is_contiguous():
            return _forward_np(x, p)
        y, r = quant.rescale(x, p.shift)
        d = y.to(torch.int64) - p.limb_lo
        # each limb masked in place: one temporary per limb, not two
        return [y, r, *((d >> o).bitwise_and_((1 << w) - 1) for o, w in _offsets(p.limbs)),
                *((r >> o).bitwise_and_((1 << w) - 1) for o, w in _offsets(p.r_limbs))]

    def range_checks(self, node, p, specs):
        """R ∈ [0, 2^s) and Y in its declared bound (in `checked_bound` ⊇ it with
        ``derived``); with ``limbs`` / ``r_limbs`` the check of Y / R is its limbs'
        lookups (`lookups`); with ``y_by_consumer`` Y's range is its consumer's (none
        here)."""
        Y, R = node.outputs[:2]
        out = []
        if not p.r_limbs:
            out.append(RangeCheck(R, 0, (1 << p.shift) - 1, f"{node.name}/R"))
        if not p.limbs and not p.y_by_consumer:
            lo, hi = checked_bound(specs[Y].bound, p.shift, p.derived)
            out.append(RangeCheck(Y, lo, hi, f"{node.name}/Y"))
        return out

    def lookups(self, node, p, specs):
        """Every limb of ``limbs`` (L_j) and ``r_limbs`` (M_j) in range(its width)."""
        k = len(p.limbs)
        return [LookupRequest(range_table(w), (L,),
                              f"{node.name}/L{j}" if j < k else f"{node.name}/M{j - k}")
                for j, (L, w) in enumerate(zip(node.outputs[2:], (*p.limbs, *p.r_limbs)))]

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
            if not p.limbs and not p.r_limbs:
                (v_r,) = ctx.reveal(f"{node.name}/rescale/R", [R], c.point)
            else:
                # a virtual Y (R): Ỹ = lo + Σ_j 2^(o_j)·L̃_j (R̃ = Σ_j 2^(o_j)·M̃_j).  Sent: R̃(r)
                # where R is committed, M̃_j(r), and L̃_j(r) for j ≥ 1; L̃_0(r) is then
                # *derived* from the claim Ỹ(r) = v (a claim on L_0, opened): the identity
                # Ỹ(r) = lo + Σ_j 2^(o_j)·L̃_j(r) holds iff that claim does (its blind, with
                # zero knowledge, is the claim on Y's: `blind_of`)
                k = len(p.limbs)
                ylimbs, rlimbs = node.outputs[2:2 + k], node.outputs[2 + k:]
                sent = [*([] if p.r_limbs else [R]), *rlimbs, *ylimbs[1:]]
                vals = ctx.reveal(f"{node.name}/rescale/R", sent, c.point)
                m = len(rlimbs)
                E = ctx.E
                if p.r_limbs:
                    v_r = _compose(E, vals[:m], p.r_limbs, 0)
                    # masked limbs (zero knowledge): R̃ + Σ 2^(o_j)·ν_j, carried to X's claim
                    ctx.register_blind(c.point, v_r, _composed_blind(
                        ctx, c.point, vals[:m], p.r_limbs, 0))
                else:
                    v_r, m = vals[0], 1
                if p.limbs:
                    rest = _compose(E, vals[m:], p.limbs[1:], p.limb_lo, first=p.limbs[0])
                    # L̃_0 + B_y − B_rest = v − rest (B_y the claim's blind, B_rest the
                    # masked limbs' ν's)
                    blind = tuple(ctx.blind_of(c.point, c.value)) + scale_blind(
                        E, _composed_blind(ctx, c.point, vals[m:], p.limbs[1:], 0,
                                           first=p.limbs[0]), E.scalar(-1))
                    ctx.claim(ylimbs[0], c.point, E.sub(c.value, rest), blind)
            claims = [rescale_input_claim(ctx, X, c.point, c.value, v_r, s)]
        return claims


def _forward_np(x: torch.Tensor, p) -> list[torch.Tensor]:
    """`Rescale.forward` of a non-empty contiguous int64 CPU tensor in numba
    (`zklora.kernels.fixed_point.rescale_split`, `limb_of`): one pass for (Y, R) and
    one per limb instead of torch's two or three; the same integers and the same error
    as `quant.rescale`."""
    s = quant._check_scale(p.shift, allow_zero=False)
    xa = x.numpy().reshape(-1)
    n = xa.shape[0]
    y = np.empty(n, np.int64)
    r = np.empty(n, np.int64)
    mx = int(rescale_split(xa, s, y, r))
    if mx > quant.SAFE_MAX - (1 << (s - 1)):
        raise ProverError(f"rescale: input {mx} too large")
    outs = [y, r]
    for src, lo, widths in ((y, p.limb_lo, p.limbs), (r, 0, p.r_limbs)):
        for o, w in _offsets(widths):
            a = np.empty(n, np.int64)
            limb_of(src, lo, o, w, a)
            outs.append(a)
    return [torch.from_numpy(a).reshape(x.shape) for a in outs]


def _composed_blind(ctx, point, vals, widths, lo: int, first: int = 0) -> tuple:
    """The blind of `_compose` (``lo`` aside) of masked values: Σ_j 2^(first + o_j)·B_j,
    B_j the blind registered for vals_j at ``point`` (`ctx.blind_of`; () when none)."""
    E = ctx.E
    out: tuple = ()
    for v, (o, _) in zip(vals, _offsets(widths)):
        out += scale_blind(E, ctx.blind_of(point, v), E.scalar(1 << (first + o)))
    return out


def _compose(E, vals, widths, lo: int, first: int = 0):
    """lo + Σ_j 2^(first + o_j)·vals_j (the MLE of the tensor its limbs define; ``first``:
    the bits of limbs before these)."""
    if not len(widths):
        return E.scalar(lo)
    coef = E.from_ints(np.array([1 << (first + o) for o, _ in _offsets(widths)],
                                dtype=object))
    return E.add(E.scalar(lo), E.dot(vals, coef))


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


class _Shapes:
    """What `range._by_cost` reads (the field only for `range._plan`'s width check)."""

    F = types.SimpleNamespace(p=(1 << 255) - 19, name="(any)")

    def __init__(self, specs):
        self.specs = specs

    def spec(self, name):
        return self.specs[name]


def limb_outputs(g: Graph, registry=None) -> list[str]:
    """Make the Y (and the R) of every rescale of ``g`` whose range check would commit
    limbs virtual, defined by committed limbs (``limbs`` / ``r_limbs``, module doc);
    returns the tensors changed.  "Would commit limbs" is the range checks' own cost rule
    (`range._by_cost` over all of ``g``'s static checks: not a direct lookup) with the
    limb widths it chooses; Y also needs a one-sided box (power-of-two width).  A tensor
    qualifies when it is committed, not a graph output nor a proven bound, no lookup
    column, read only by nodes of the producer's segment (a boundary stays committed)
    whose op roles accept it virtual.  Limbs are named ``{Y}/L{j}``, ``{R}/M{j}``."""
    from zklora.zkcore import range as rangelib
    from zklora.zkcore.graph import static_lookups, static_range_checks
    from zklora.zkcore.plugins import registry as default_registry

    reg = registry if registry is not None else default_registry()
    columns = {c for r in static_lookups(g, reg) for c in r.columns}
    shapes = _Shapes(g.tensors)
    limbed = {}
    for rc in rangelib._by_cost(shapes, static_range_checks(g, reg)):
        B, widths, sides = rangelib._plan(shapes.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
        if len(sides) == 1 and not rangelib._direct(shapes, rc.tensor, B, rc.limb_bits):
            limbed[(rc.tensor, rc.lo, rc.hi)] = list(widths)
    readers: dict[str, list[int]] = {}
    for i, n in enumerate(g.nodes):
        for t in n.inputs:
            readers.setdefault(t, []).append(i)

    def free(t: str, seg) -> bool:
        spec = g.tensors[t]
        return (spec.kind == "committed" and t not in g.outputs and t not in g.proven_bounds
                and t not in columns
                and all(g.node_segments.get(g.nodes[k].name) == seg
                        for k in readers.get(t, [])))

    changed: list[str] = []
    made: list[int] = []
    for i, node in enumerate(list(g.nodes)):
        if node.op != "rescale" or node.params.get("limbs") or node.params.get("r_limbs"):
            continue
        Y, R = node.outputs
        shift = int(node.params["shift"])
        seg = g.node_segments.get(node.name)
        params = dict(node.params)
        new: dict[str, TensorSpec] = {}
        lo, hi = checked_bound(g.tensors[Y].bound, shift, bool(params.get("derived", False)))
        wy = limbed.get((Y, lo, hi))
        if wy and free(Y, seg):
            params.update(limbs=wy, limb_lo=int(lo))
            new[Y] = attrs.evolve(g.tensors[Y], kind="virtual")
        wr = limbed.get((R, 0, (1 << shift) - 1))
        if wr and free(R, seg):
            params["r_limbs"] = wr
            new[R] = attrs.evolve(g.tensors[R], kind="virtual")
        if not new:
            continue
        limbs = [f"{Y}/L{j}" for j in range(len(params.get("limbs", ())))] + \
                [f"{R}/M{j}" for j in range(len(params.get("r_limbs", ())))]
        if any(L in g.tensors for L in limbs):
            continue
        old = {t: g.tensors[t] for t in new}
        g.tensors.update(new)
        try:
            for k in readers.get(Y, []):
                reg.op(g.nodes[k].op).check(g.nodes[k], g.tensors, ValueError)
        except ValueError:
            g.tensors.update(old)
            continue
        for L, w in zip(limbs, (*params.get("limbs", ()), *params.get("r_limbs", ()))):
            g.tensors[L] = TensorSpec(L, g.tensors[Y].shape, "committed", (0, (1 << w) - 1))
        g.nodes[i] = OpNode(node.op, node.name, node.inputs, (*node.outputs, *limbs), params)
        changed += list(new)
        made.append(i)
    _padded_widths(g, reg, made)
    return changed


#: lookup trees the rescales' widths are costed with (`_padded_widths`): three, whatever
#: `range.LOOKUP_TREES` is.  Costed with four, the 84M graph's virtual-Y widths move
#: (range18's table dropped) before the prove-time checks (`range.padded_checks`) are
#: re-chosen, and the two choices together end with more rows and leaves (84M, four
#: trees: 36.29M rows, 39.32M leaves) than the virtual Ys of three trees and the checks
#: of four (35.57M, 39.06M; docs/perf/session31.md, s31h2)
PADDED_WIDTH_TREES = 3


def _padded_widths(g: Graph, reg, made: Sequence[int]) -> None:
    """Re-choose the limb widths of the rescales ``made`` (node indices, limbed by
    `limb_outputs` with the range checks' widths) by padded cost (`range.choose_widths`,
    issue 13): every table's looked-up rows over the whole proof — the static range
    checks as `range._by_cost` lays them out, every other static lookup, and these limbs
    — share one column padded to a power of two, so widths (up to `DIRECT_MAX_BITS`)
    that empty a half-filled column into ones with room cost fewer lookup leaves.  The
    limbs keep their place among the graph's tensors (renamed when their count
    changes)."""
    from zklora.zkcore import range as rangelib
    from zklora.zkcore.graph import static_lookups, static_range_checks

    if not made:
        return
    shapes = _Shapes(g.tensors)
    rows: dict[str, int] = {}
    sizes: dict[str, int] = {}

    def add(t, n: int) -> None:
        rows[t.name] = rows.get(t.name, 0) + n
        sizes[t.name] = t.size

    for rc in rangelib._by_cost(shapes, static_range_checks(g, reg)):
        B, widths, sides = rangelib._plan(shapes.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
        n = g.tensors[rc.tensor].size
        for side, _ in sides:
            if rangelib._direct(shapes, rc.tensor, B, rc.limb_bits):
                add(rangelib._table_for(side, rc.lo, rc.hi, B), n)
            else:
                for w in widths:
                    add(range_table(w), n)
    mine = {t for i in made for t in g.nodes[i].outputs[2:]}
    for r in static_lookups(g, reg):
        if r.columns[0] not in mine:
            add(r.table, g.tensors[r.columns[0]].size)
    items, where = [], []
    for i in made:
        p = g.nodes[i].params
        n = g.tensors[g.nodes[i].outputs[0]].size
        for key in ("limbs", "r_limbs"):
            if p.get(key):
                items.append((n, tuple(p[key])))
                where.append((i, key))
    chosen = rangelib.choose_widths(items, rows, sizes, most=PADDED_WIDTH_TREES)
    new_params: dict[int, dict] = {}
    for (i, key), (_, old), w in zip(where, items, chosen):
        if w != old:
            new_params.setdefault(i, dict(g.nodes[i].params))[key] = w
    if not new_params:
        return
    replace: dict[str, list[tuple[str, TensorSpec]]] = {}
    drop: set[str] = set()
    for i, params in new_params.items():
        node = g.nodes[i]
        Y, R = node.outputs[:2]
        ly, lr = params.get("limbs", ()), params.get("r_limbs", ())
        names = [f"{Y}/L{j}" for j in range(len(ly))] + [f"{R}/M{j}" for j in range(len(lr))]
        specs = [(L, TensorSpec(L, g.tensors[Y].shape, "committed", (0, (1 << w) - 1)))
                 for L, w in zip(names, (*ly, *lr))]
        old = node.outputs[2:]
        replace[old[0]] = specs
        drop.update(old[1:])
        g.nodes[i] = OpNode(node.op, node.name, node.inputs, (*node.outputs[:2], *names),
                            params)
    tensors = list(g.tensors.items())
    g.tensors.clear()
    for name, spec in tensors:
        if name in replace:
            g.tensors.update(replace[name])
        elif name not in drop:
            g.tensors[name] = spec


@hookimpl
def zk_ops():
    return [Rescale()]


@hookimpl
def zk_builders():
    return [Builder("rescale.limb_outputs", limb_outputs,
                    "rescales of a built graph with Y virtual, defined by committed limbs")]
