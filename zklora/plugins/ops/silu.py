"""SiLU by table lookup, and the SwiGLU product Y = silu(G) ⊙ U, in fixed point.

`add_swiglu` (default ``interp=True``) interpolates the table linearly between its
points; G, U (…, f) at scale s, Y at scale s, k = s_slope + s − s_out, c = 2^(shift−1):

    silu_lerp (op ``silu_lerp``, this module)  G → Gq, Rq, T, D        all committed
    DR = D ⊙ Rq            (``hadamard``)                          virtual
    W  = 2^k·T + DR − c·D  (``lincomb``)                           virtual, scale s_out + k
    Sg = rescale(W, k)     committed ``{name}/silu``               scale s_out
    SU = Sg ⊙ U;  Y = rescale(SU, s_out)   as below

i.e. Sg = ⌊(T(Gq)·2^k + D(Gq)·(Rq − c)) / 2^k⌉ ≈ silu(Gq/2^s_in) + δ·silu'(Gq/2^s_in)
with δ = (Rq − c)/2^s = G/2^s − Gq/2^s_in ∈ [−2^(−s_in−1), 2^(−s_in−1)) the offset of
G from the table point: a first-order interpolation, error ≤ ½δ²·max|silu''| ≤ 2^(−2s_in−4)
besides the roundings (≈ 2^−20 at s_in = 8, against 2^−9·|silu'| for the table alone).
Integer definition of op ``silu_lerp`` (params ``shift``, ``in_scale``, ``out_scale``,
``slope_scale`` s_slope, ``domain_bits`` b; table `silu_lerp_table(s_in, s_out, s_slope,
b)`): Gq, Rq as for ``silu`` below; T = round_half_up(silu(Gq/2^s_in)·2^s_out),
D = round_half_up(silu'(Gq/2^s_in)·2^s_slope).  Relations: the rescale identity of G
at a random point z (as ``silu``), Rq ∈ [0, 2^shift), (Gq, T, D) in the table by one
lookup; the interpolation itself is the generic hadamard, lincomb and rescale ops.

``interp=False`` builds the table-only SwiGLU, three nodes:

    silu   (op ``silu``, this module)  G → Gq, Rq, Sg
    SU = Sg ⊙ U          (``hadamard``)                                  scale s_out + s
    Y  = rescale(SU, s_out)   committed                                  scale s

Integer definition of op ``silu`` (params ``shift`` = s − s_in, ``in_scale`` s_in,
``out_scale`` s_out, ``domain_bits`` b; table T = `silu_table(s_in, s_out, b)`):

    Gq = ⌊(G + 2^(shift−1)) / 2^shift⌋     G rounded half up to the table's input scale
    Rq = G − 2^shift·Gq + 2^(shift−1) ∈ [0, 2^shift)
    Sg = T(Gq) = round_half_up(silu(Gq / 2^s_in) · 2^s_out)
    Gq must lie in the table's domain [−2^(b−1), 2^(b−1)): otherwise `forward` raises a
    `ProverError` naming G, the value and the table.

Outputs Gq, Rq, Sg are committed (Gq is also the input of SiLU' in the backward).
Relations proven: at a random point z the prover sends G̃q(z), R̃q(z) and the claim
G̃(z) = 2^shift·G̃q(z) + R̃q(z) − 2^(shift−1) goes to G's owner (a linear identity of
MLEs); Rq ∈ [0, 2^shift) by a range check; (Gq, Sg) ∈ T by one lookup, which also
proves Gq is in the domain — so the pair (Gq, Rq) is unique since
2^shift·2^b < p/2.  Defaults: s_in = 8, b = 16 (|g| < 128 at a resolution of 2^−8,
interpolated in between), s_out = s_slope = s.

These relations prove G ∈ `gate_box` (Gq in the domain, Rq in range), so the rescale
making G needs no range check of its own (`GATE_RANGE_BY_TABLE`, s34h5) and G need not
be committed at all (`GATE_VIRTUAL`, s35h3: G virtual, the claim on G at z goes to its
rescale; G = lo + Rq + 2^shift·(Gq − a) is the limb form of the box with lo its first
value and a the table's first input — the value is pinned by the rescale identity of X
at z together with Rq's check and the lookup).  Both switches are off by default
(docs/soundness.md §3.1).
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from zklora.zkcore import quant
from zklora.zkcore.build import Builder, declared_bound, named_table, rescale_node, table_bound
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest, Table
from zklora.zkcore.op import PASS, Op, Role, param
from zklora.zkcore.quant import Bound, check_bound_fits, product_bound
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import error, rescale_input_claim


def silu_table(in_scale_bits: int, out_scale_bits: int, domain_bits: int) -> Table:
    """The SiLU function table (x, silu(x/2^s_in)·2^s_out rounded) on the signed domain
    [−2^(d−1), 2^(d−1)) — table family ``silu`` of the registry (`named_table`); the
    table has attribute ``lo`` (first x) besides its columns."""
    return named_table("silu", in_scale_bits=in_scale_bits, out_scale_bits=out_scale_bits,
                       domain_bits=domain_bits)


def silu_lerp_table(in_scale_bits: int, out_scale_bits: int, slope_scale_bits: int,
                    domain_bits: int) -> Table:
    """The three-column (x, silu, silu') table — family ``silu_lerp`` of the registry."""
    return named_table("silu_lerp", in_scale_bits=in_scale_bits,
                       out_scale_bits=out_scale_bits, slope_scale_bits=slope_scale_bits,
                       domain_bits=domain_bits)


def table_of(node) -> Table:
    """The SiLU table of a ``silu`` or ``silu_lerp`` node."""
    return (SiluLerp() if node.op == "silu_lerp" else Silu()).params(node).table()


def _gq_rq(node, g, shift: int, in_scale: int, t: Table):
    """(Gq, Rq, row index) of G for a table ``t`` at input scale ``in_scale``; a
    `ProverError` naming G when Gq leaves the table's domain."""
    gq, rq = quant.rescale(g, shift)
    idx = gq.reshape(-1) - t.lo
    bad = torch.nonzero((idx < 0) | (idx >= t.size)).reshape(-1)
    if bad.numel():
        i = int(bad[0])
        lo, hi = t.lo, t.lo + t.size - 1
        raise ProverError(
            f"silu {node.name}: input {node.inputs[0]} has value {int(g.reshape(-1)[i])} at "
            f"flat index {i} (= {int(gq.reshape(-1)[i])} at the table's input scale "
            f"2^{in_scale}), outside the domain [{lo}, {hi}] of table "
            f"{t.name}")
    return gq, rq, idx


class Silu(Op):
    """Sg = silu(G) via the table, with G rescaled to the table's input scale (module
    doc).  Input G; outputs (Gq, Rq, Sg), all committed."""

    name = "silu"
    input_roles = ("G",)
    output_roles = tuple(Role(r, "committed", "G") for r in ("Gq", "Rq", "Sg"))
    #: zero knowledge: the masked G̃q, R̃q reach G's claim (`rescale_input_claim`)
    zk_blinds = PASS

    @attrs.frozen
    class Params:
        shift: int = param("int", lo=1, hi=40, doc="s - s_in")
        in_scale: int = param("int", lo=0, hi=30, doc="s_in")
        out_scale: int = param("int", lo=0, hi=40, doc="s_out")
        domain_bits: int = param("int", lo=1, hi=24, doc="b")

        def table(self) -> Table:
            return silu_table(self.in_scale, self.out_scale, self.domain_bits)

    def forward(self, node, inputs):
        (g,) = inputs
        p = self.params(node)
        t = p.table()
        gq, rq, idx = _gq_rq(node, g, p.shift, p.in_scale, t)
        sg = torch.from_numpy(np.asarray(t.columns()[1])[idx.numpy()].copy())
        return [gq, rq, sg.reshape(g.shape)]

    def range_checks(self, node, p, specs):
        """Rq ∈ [0, 2^shift)."""
        return [RangeCheck(node.outputs[1], 0, (1 << p.shift) - 1, f"{node.name}/Rq")]

    def lookups(self, node, p, specs):
        """(Gq, Sg) in the SiLU table."""
        gq, _, sg = node.outputs
        return [LookupRequest(p.table(), (gq, sg), f"{node.name}/silu")]

    def relations(self, ctx, node, out_claims):
        """Gq = ⌊(G + 2^(s−1))/2^s⌋ with Rq ∈ [0, 2^s) (the rescale identity at a random
        point z); (Gq, Sg) in the SiLU table is the declared lookup."""
        io = self.io(node)
        return _rescaled_lookup(ctx, node, io, self.params(node))


class SiluLerp(Op):
    """(Gq, Rq, T, D): G rescaled to the table's input scale and the table's value and
    slope at Gq (module doc); the interpolation Sg = ⌊(2^k·T + D·(Rq − c))/2^k⌉ is built
    from generic ops by `add_swiglu`.  Input G; outputs (Gq, Rq, T, D), all committed."""

    name = "silu_lerp"
    input_roles = ("G",)
    output_roles = tuple(Role(r, "committed", "G") for r in ("Gq", "Rq", "T", "D"))
    zk_blinds = PASS

    @attrs.frozen
    class Params:
        shift: int = param("int", lo=1, hi=40, doc="s - s_in")
        in_scale: int = param("int", lo=0, hi=30, doc="s_in")
        out_scale: int = param("int", lo=0, hi=40, doc="s_out")
        slope_scale: int = param("int", lo=0, hi=40, doc="s_slope")
        domain_bits: int = param("int", lo=1, hi=24, doc="b")

        def table(self) -> Table:
            return silu_lerp_table(self.in_scale, self.out_scale, self.slope_scale,
                                   self.domain_bits)

    def forward(self, node, inputs):
        (g,) = inputs
        p = self.params(node)
        t = p.table()
        gq, rq, idx = _gq_rq(node, g, p.shift, p.in_scale, t)
        _, ty, td = t.columns()
        i = idx.numpy()
        return [gq, rq, torch.from_numpy(np.asarray(ty)[i].copy()).reshape(g.shape),
                torch.from_numpy(np.asarray(td)[i].copy()).reshape(g.shape)]

    def range_checks(self, node, p, specs):
        """Rq ∈ [0, 2^shift)."""
        return [RangeCheck(node.outputs[1], 0, (1 << p.shift) - 1, f"{node.name}/Rq")]

    def lookups(self, node, p, specs):
        """(Gq, T, D) in the SiLU/SiLU' table."""
        gq, _, t, d = node.outputs
        return [LookupRequest(p.table(), (gq, t, d), f"{node.name}/silu")]

    def relations(self, ctx, node, out_claims):
        """Gq = ⌊(G + 2^(s−1))/2^s⌋ with Rq ∈ [0, 2^s) (the rescale identity at a random
        point z); (Gq, T, D) in the SiLU/SiLU' table is the declared lookup."""
        io = self.io(node)
        return _rescaled_lookup(ctx, node, io, self.params(node))


#: issue 13 study (s34h5), proof-changing, off by default: the rescale that makes the gate
#: G of `add_swiglu` drops its own range check of G (``y_by_consumer``), which the SiLU
#: op's table lookup and Rq check already prove (`gate_range_by_table`)
GATE_RANGE_BY_TABLE = False


def gate_box(shift: int, t: Table) -> tuple[int, int]:
    """The box G = 2^shift·Gq + Rq − 2^(shift−1) lies in when Gq ∈ [t.lo, t.lo + t.size − 1]
    (the table's domain, by its lookup) and Rq ∈ [0, 2^shift) (its range check)."""
    half = 1 << (shift - 1)
    return (t.lo << shift) - half, ((t.lo + t.size - 1) << shift) + half - 1


#: issue 13 study (s35h3), proof-changing, off by default: besides `GATE_RANGE_BY_TABLE`'s
#: ``y_by_consumer``, the gate G is *virtual* — not committed, nor opened: the SiLU op's
#: claim G̃(z) = 2^h·G̃q(z) + R̃q(z) − 2^(h−1) goes to G's rescale, which turns it into the
#: claim on the matmul output X.  G is then the limb form lo + Rq + 2^h·(Gq − a) of its
#: box (`gate_box`, lo its first value, a the table's first input): Rq and Gq − a are its
#: limbs (widths h and b), range-proven by Rq's check and the table lookup.  Same integers
#: (G, R, Gq, Rq unchanged); docs/soundness.md §3.1 "The gate G virtual".  Implies
#: `GATE_RANGE_BY_TABLE`.
GATE_VIRTUAL = False


def gate_range_by_table(g: Graph, G: str, box: tuple[int, int], *,
                        virtual: bool = False) -> bool:
    """Mark the rescale node whose Y is ``G`` ``y_by_consumer`` (no range check of G of its
    own) when G is such a Y without limbs and its declared bound contains ``box`` — the
    interval the SiLU op reading G proves it in (`gate_box`), so the rescale's uniqueness
    check (``_setup``, on the declared bound) covers it (docs/soundness.md §3.1).
    With ``virtual`` also make G virtual when it is committed, no graph output, proven
    bound nor lookup column, and read by one node only (the SiLU op; `GATE_VIRTUAL`); a
    later reader in another segment is refused by `Graph.segments`.
    Returns whether it marked the rescale."""
    spec = g.tensors[G]
    bound = spec.bound
    if bound is None or not (bound[0] <= box[0] and box[1] <= bound[1]):
        return False
    for i, n in enumerate(g.nodes):
        if n.op == "rescale" and n.outputs[0] == G:
            if n.params.get("limbs") or n.params.get("y_by_consumer"):
                return False
            g.nodes[i] = attrs.evolve(n, params={**n.params, "y_by_consumer": True})
            if virtual and spec.kind == "committed" and G not in g.outputs and \
                    G not in g.proven_bounds and \
                    sum(G in m.inputs for m in g.nodes) == 1:
                g.tensors[G] = attrs.evolve(spec, kind="virtual")
            return True
    return False


def add_lerp(g: Graph, name: str, T: str, D: str, Rq: str, *, shift: int, k: int) -> str:
    """Sg = ⌊(2^k·T + D·(Rq − 2^(shift−1))) / 2^k⌉ (committed ``name``, remainder
    ``{name}_R``) from the committed table value T, slope D and remainder Rq ∈ [0,
    2^shift): a hadamard ``{name}/dr`` = D ⊙ Rq, a lincomb ``{name}/w`` and a rescale —
    the first-order interpolation of the module doc, shared with the backward's SiLU'."""
    shape = tuple(g.tensors[T].shape)
    tb, db, rb = (Bound(*g.tensors[x].bound) for x in (T, D, Rq))
    c = 1 << (shift - 1)
    drb = product_bound(f"{name}/dr", db, rb)
    dr = g.tensor(f"{name}/dr", shape, "virtual")
    g.op("hadamard", f"{name}/dr", [D, Rq], [dr])
    wb = check_bound_fits(f"{name}/w", tb * (1 << k) + drb - db * c)
    w = g.tensor(f"{name}/w", shape, "virtual")
    g.op("lincomb", f"{name}/w", [T, dr, D], [w], coeffs=[1 << k, 1, -c])
    # T, D in their table's columns (lookup), Rq range-checked: wb and its image are
    # derived, so the rescale's Y check may be one-sided (`add_rescale`'s ``derived``)
    return rescale_node(g, name, w, k, check_bound_fits(name, wb.rescaled(k)), derived=True)


def add_swiglu(g: Graph, name: str, G: str, U: str, *, scale: int = 16, in_scale: int = 8,
               domain_bits: int = 16, out_scale: int | None = None,
               u_bound: Bound | None = None, out_bound: Bound | None = None,
               interp: bool = True, slope_scale: int | None = None) -> str:
    """Y = silu(G) ⊙ U at ``scale`` (module doc); G, U (…, f) at ``scale``.

    Declares ``{name}/gq`` (G at the table's input scale, committed: the backward looks
    up SiLU' on it), ``{name}/gq_R``, ``{name}/silu`` (committed, scale ``out_scale``),
    ``{name}/Y`` (committed, scale ``scale``); returns ``{name}/Y``.  With ``interp``
    (default) also ``{name}/silu_t``, ``{name}/silu_d`` (the table's value and slope at
    Gq, committed; slope at ``slope_scale``, default ``out_scale``) and Sg's remainder
    ``{name}/silu_R``.  U's bound is its declared (or derived) bound unless ``u_bound``;
    Y's is derived unless ``out_bound``."""
    out_scale = scale if out_scale is None else out_scale
    slope_scale = out_scale if slope_scale is None else slope_scale
    shape = tuple(g.tensors[G].shape)
    if tuple(g.tensors[U].shape) != shape:
        raise ConfigError(f"swiglu {name}: gate {G} {shape} and up {U} "
                          f"{tuple(g.tensors[U].shape)} differ in shape")
    if not 0 < in_scale < scale:
        raise ConfigError(f"swiglu {name}: table input scale {in_scale} must be in [1, {scale})")
    ub = u_bound or declared_bound(g, U)
    if ub is None:
        raise ConfigError(f"swiglu {name}: input {U} needs a declared bound (or u_bound=)")
    shift = scale - in_scale
    if interp:
        k = slope_scale + scale - out_scale
        if k < 1:
            raise ConfigError(f"swiglu {name}: slope scale {slope_scale} too small "
                              f"(needs s_slope + s − s_out ≥ 1)")
        t = silu_lerp_table(in_scale, out_scale, slope_scale, domain_bits)
        gq = g.tensor(f"{name}/gq", shape, "committed", (t.lo, t.lo + t.size - 1))
        rq = g.tensor(f"{name}/gq_R", shape, "committed", (0, (1 << shift) - 1))
        tt = g.tensor(f"{name}/silu_t", shape, "committed", table_bound(t, 1).as_tuple())
        td = g.tensor(f"{name}/silu_d", shape, "committed", table_bound(t, 2).as_tuple())
        g.op("silu_lerp", f"{name}/silu", [G], [gq, rq, tt, td], shift=shift,
             in_scale=in_scale, out_scale=out_scale, slope_scale=slope_scale,
             domain_bits=domain_bits)
        sg = add_lerp(g, f"{name}/silu", tt, td, rq, shift=shift, k=k)
        sb = Bound(*g.tensors[sg].bound)
    else:
        t = silu_table(in_scale, out_scale, domain_bits)
        gq = g.tensor(f"{name}/gq", shape, "committed", (t.lo, t.lo + t.size - 1))
        rq = g.tensor(f"{name}/gq_R", shape, "committed", (0, (1 << shift) - 1))
        sb = table_bound(t)
        sg = g.tensor(f"{name}/silu", shape, "committed", sb.as_tuple())
        g.op("silu", f"{name}/silu", [G], [gq, rq, sg], shift=shift, in_scale=in_scale,
             out_scale=out_scale, domain_bits=domain_bits)
    if GATE_RANGE_BY_TABLE or GATE_VIRTUAL:
        gate_range_by_table(g, G, gate_box(shift, t), virtual=GATE_VIRTUAL)
    sub = product_bound(f"{name}/su", sb, ub)
    su = g.tensor(f"{name}/su", shape, "virtual")
    g.op("hadamard", f"{name}/su", [sg, U], [su])
    yb = check_bound_fits(f"{name}/Y", out_bound or sub.rescaled(out_scale))
    return rescale_node(g, f"{name}/Y", su, out_scale, yb,
                        derived=out_bound is None and u_bound is None)


@hookimpl
def zk_ops():
    return [Silu(), SiluLerp()]


@hookimpl
def zk_builders():
    return [Builder("swiglu", add_swiglu, "Y = silu(G) ⊙ U (add_swiglu)"),
            Builder("lerp", add_lerp, "Sg = ⌊(2^k·T + D·(Rq − c))/2^k⌉ (add_lerp)")]


def _rescaled_lookup(ctx, node, io, p) -> list:
    """The relation both SiLU ops share: Gq = ⌊(G + 2^(s−1))/2^s⌋ with Rq ∈ [0, 2^s)
    (the rescale identity at a random point z); the table lookup is declared
    (`Op.lookups`)."""
    t = p.table()
    if (1 << (p.shift + t.num_vars)) >= ctx.F.p // 2:
        raise error(ctx, f"op {node.name}: shift {p.shift} unsupported")
    z = ctx.challenges(ctx.label(node.name, "silu/z"), ctx.spec(io.G).num_vars)
    vq, vr = ctx.reveal(ctx.label(node.name, "silu/values"), [io.Gq, io.Rq], z)
    rescale_input_claim(ctx, io.G, z, vq, vr, p.shift)
    return []
