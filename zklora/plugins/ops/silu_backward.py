"""SwiGLU backward: (dG, dU) from dY for Y = silu(G) ⊙ U, in fixed point.

The forward (`zklora.plugins.ops.silu.add_swiglu`, name ``fwd``) commits Gq = G rounded
to the table's input scale s_in (``{fwd}/gq``) and Sg = T_silu(Gq) at scale s_out
(``{fwd}/silu``).  The backward reuses both:

    dU = dY ⊙ silu(G)               = rescale(dY ⊙ Sg, s_out)
    dG = dY ⊙ U ⊙ silu'(G)          = rescale(rescale(dY ⊙ Sd, s_d) ⊙ U, s)

with Sd = T_silu'(Gq) looked up on the SAME committed table input Gq the forward used
(so dG is the derivative of the function the forward actually computed, up to the
table's rounding).  `add_swiglu_backward` builds (dY (…, f) at the gradient scale s_g,
U at s; results at s_g):

    Sd  = silu_grad(Gq)             op ``silu_grad`` (this module), committed
    du2 = dY ⊙ Sg                   hadamard                          s_g + s_out
    dU  = rescale(du2, s_out)       committed ``{name}/dU``           s_g
    t2  = dY ⊙ Sd                   hadamard                          s_g + s_d
    t   = rescale(t2, s_d)          committed ``{name}/t``            s_g
    dg2 = t ⊙ U                     hadamard                          s_g + s
    dG  = rescale(dg2, s)           committed ``{name}/dG``           s_g

Integer definition of op ``silu_grad`` (params ``in_scale`` s_in, ``out_scale`` s_d,
``domain_bits`` b; table T' = `silu_grad_table(s_in, s_d, b)`):

    Sd = T'(Gq) = round_half_up(silu'(Gq/2^s_in)·2^s_d),
    silu'(u) = σ(u)·(1 + u·(1 − σ(u))),  Gq ∈ [−2^(b−1), 2^(b−1)) (else a `ProverError`
    naming the tensor; the forward's silu lookup already proves Gq in that domain).

Relation proven: (Gq, Sd) ∈ T' by one lookup (both columns committed); nothing else is
needed, as the lookup pins Sd = T'(Gq) entry by entry.

Interpolated forward (op ``silu_lerp``, `add_swiglu`'s default): Sg is the interpolated
``{fwd}/silu`` (the first input of ``{fwd}/su``), and Sd is interpolated the same way,
from silu' and silu'' at Gq and the forward's remainder Rq = ``{fwd}/gq_R``:

    (T', D') = silu_grad_lerp(Gq)   op ``silu_grad_lerp`` (this module), committed
    Sd = ⌊(2^k·T' + D'·(Rq − 2^(shift−1))) / 2^k⌉   builder ``lerp`` (hadamard, lincomb,
                                                      rescale), committed ``{name}/sd``

with T' = round_half_up(silu'(Gq/2^s_in)·2^s_d), D' = round_half_up(silu''(Gq/2^s_in)·
2^s_d2) (table `silu_grad_lerp_table(s_in, s_d, s_d2, b)`, s_d2 = s_d) and
k = s_d2 + s − s_d.  Relation of ``silu_grad_lerp``: (Gq, T', D') in that table, one
lookup.  dY ⊙ Sd is rescaled before the
product with U so that each product stays within its own declared bounds (|silu'| ≤
1.1, so |t| ≈ |dY|); every product bound is checked below p/2 at graph-build time.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from zklora.zkcore.build import (
    Builder,
    builder,
    declared_bound,
    find_node,
    named_table,
    rescale_node,
    table_bound,
)
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest, Table
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.quant import Bound, check_bound_fits, product_bound


def silu_grad_table(in_scale_bits: int, out_scale_bits: int, domain_bits: int) -> Table:
    """The SiLU' function table — table family ``silu_grad`` of the registry."""
    return named_table("silu_grad", in_scale_bits=in_scale_bits,
                       out_scale_bits=out_scale_bits, domain_bits=domain_bits)


class SiluGrad(Op):
    """Sd = silu'(Gq) by table lookup (module doc).  Input Gq (committed, at the table's
    input scale); output Sd (committed)."""

    name = "silu_grad"
    input_roles = (Role("Gq", "committed"),)
    output_roles = (Role("Sd", "committed", "Gq"),)
    #: zero knowledge: committed outputs, nothing proven here but the declared lookup
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:
        in_scale: int = param("int", lo=0, hi=30, doc="s_in")
        out_scale: int = param("int", lo=0, hi=40, doc="s_d")
        domain_bits: int = param("int", lo=1, hi=24, doc="b")

        def table(self) -> Table:
            return silu_grad_table(self.in_scale, self.out_scale, self.domain_bits)

    def forward(self, node, inputs):
        (gq,) = inputs
        t = self.params(node).table()
        idx = _table_rows(node, gq, t)
        sd = torch.from_numpy(np.asarray(t.columns()[1])[idx.numpy()].copy())
        return [sd.reshape(gq.shape)]

    def lookups(self, node, p, specs):
        """(Gq, Sd) in the SiLU' table."""
        return [LookupRequest(p.table(), (*node.inputs, *node.outputs),
                              f"{node.name}/silu_grad")]

    def relations(self, ctx, node, out_claims):
        """Nothing beyond the declared lookup."""
        return []



def _table_rows(node, gq: torch.Tensor, t: Table) -> torch.Tensor:
    """The table rows of the entries of ``gq`` (flat); `ProverError` naming the first
    entry outside the table's domain."""
    idx = gq.reshape(-1) - t.lo
    bad = torch.nonzero((idx < 0) | (idx >= t.size)).reshape(-1)
    if bad.numel():
        i = int(bad[0])
        raise ProverError(
            f"silu_grad {node.name}: input {node.inputs[0]} has value "
            f"{int(gq.reshape(-1)[i])} at flat index {i}, outside the domain "
            f"[{t.lo}, {t.lo + t.size - 1}] of table {t.name}")
    return idx

def silu_grad_lerp_table(in_scale_bits: int, out_scale_bits: int, slope_scale_bits: int,
                         domain_bits: int) -> Table:
    """The (x, silu', silu'') table — family ``silu_grad_lerp`` of the registry."""
    return named_table("silu_grad_lerp", in_scale_bits=in_scale_bits,
                       out_scale_bits=out_scale_bits, slope_scale_bits=slope_scale_bits,
                       domain_bits=domain_bits)


class SiluGradLerp(Op):
    """(T', D') = (silu'(Gq), silu''(Gq)) by one lookup (module doc).  Input Gq
    (committed); outputs T', D' (committed)."""

    name = "silu_grad_lerp"
    input_roles = (Role("Gq", "committed"),)
    output_roles = (Role("T", "committed", "Gq"), Role("D", "committed", "Gq"))
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:
        in_scale: int = param("int", lo=0, hi=30, doc="s_in")
        out_scale: int = param("int", lo=0, hi=40, doc="s_d")
        slope_scale: int = param("int", lo=0, hi=40, doc="s_d2")
        domain_bits: int = param("int", lo=1, hi=24, doc="b")

        def table(self) -> Table:
            return silu_grad_lerp_table(self.in_scale, self.out_scale, self.slope_scale,
                                        self.domain_bits)

    def forward(self, node, inputs):
        (gq,) = inputs
        t = self.params(node).table()
        idx = _table_rows(node, gq, t)
        _, ty, td = t.columns()
        i = idx.numpy()
        return [torch.from_numpy(np.asarray(ty)[i].copy()).reshape(gq.shape),
                torch.from_numpy(np.asarray(td)[i].copy()).reshape(gq.shape)]

    def lookups(self, node, p, specs):
        """(Gq, T', D') in the SiLU'/SiLU'' table."""
        return [LookupRequest(p.table(), (*node.inputs, *node.outputs),
                              f"{node.name}/silu_grad")]

    def relations(self, ctx, node, out_claims):
        """Nothing beyond the declared lookup."""
        return []


def add_swiglu_backward(g: Graph, name: str, fwd: str, dY: str, *,
                        grad_table_scale: int | None = None, dy_bound: Bound | None = None,
                        u_bound: Bound | None = None, dg_bound: Bound | None = None,
                        du_bound: Bound | None = None) -> tuple[str, str]:
    """(dG, dU) of the SwiGLU declared by ``add_swiglu(g, fwd, G, U, …)`` for the
    incoming gradient dY (…, f) at the gradient scale s_g; both results at s_g.

    Reads from the graph: Gq = ``{fwd}/gq``, Sg = ``{fwd}/silu``, U (second input of
    node ``{fwd}/su``) and the params of node ``{fwd}/silu``.  ``grad_table_scale`` s_d
    is the output scale of the SiLU' table (default: the forward's s_out).  dY's and
    U's bounds are their declared (or derived) ones unless given; dG's and dU's are
    derived unless given.  Declares ``{name}/sd`` (SiLU'(Gq), committed), ``{name}/dU``,
    ``{name}/t``, ``{name}/dG`` (committed, with remainders ``…_R``)."""
    silu_node = find_node(g, f"{fwd}/silu")
    su_node = find_node(g, f"{fwd}/su")
    gq, rq = silu_node.outputs[0], silu_node.outputs[1]
    sg, U = su_node.inputs[0], su_node.inputs[1]
    lerp = silu_node.op == "silu_lerp"
    shape = tuple(g.tensors[gq].shape)
    if tuple(g.tensors[dY].shape) != shape:
        raise ConfigError(f"swiglu backward {name}: dY {dY} has shape "
                          f"{tuple(g.tensors[dY].shape)}, expected {shape}")
    p = silu_node.params
    in_scale, out_scale, bits = int(p["in_scale"]), int(p["out_scale"]), int(p["domain_bits"])
    s = in_scale + int(p["shift"])
    s_d = out_scale if grad_table_scale is None else int(grad_table_scale)
    dyb = dy_bound or declared_bound(g, dY)
    if dyb is None:
        raise ConfigError(f"swiglu backward {name}: input {dY} needs a declared bound "
                          "(or dy_bound=)")
    ub = u_bound or declared_bound(g, U)
    if ub is None:
        raise ConfigError(f"swiglu backward {name}: input {U} needs a declared bound "
                          "(or u_bound=)")
    sgb = Bound(*g.tensors[sg].bound)
    if lerp:
        table = silu_grad_lerp_table(in_scale, s_d, s_d, bits)
        tt = g.tensor(f"{name}/sd_t", shape, "committed", table_bound(table, 1).as_tuple())
        td = g.tensor(f"{name}/sd_d", shape, "committed", table_bound(table, 2).as_tuple())
        g.op("silu_grad_lerp", f"{name}/sd_t", [gq], [tt, td], in_scale=in_scale,
             out_scale=s_d, slope_scale=s_d, domain_bits=bits)
        sd = builder("lerp")(g, f"{name}/sd", tt, td, rq, shift=int(p["shift"]), k=s)
        sdb = Bound(*g.tensors[sd].bound)
    else:
        table = silu_grad_table(in_scale, s_d, bits)
        sdb = table_bound(table)
        sd = g.tensor(f"{name}/sd", shape, "committed", sdb.as_tuple())
        g.op("silu_grad", f"{name}/sd", [gq], [sd], in_scale=in_scale, out_scale=s_d,
             domain_bits=bits)
    du2b = product_bound(f"{name}/du2", dyb, sgb)
    du2 = g.tensor(f"{name}/du2", shape, "virtual")
    g.op("hadamard", f"{name}/du2", [dY, sg], [du2])
    dU = rescale_node(g, f"{name}/dU", du2, out_scale,
                      check_bound_fits(f"{name}/dU", du_bound or du2b.rescaled(out_scale)))
    t2b = product_bound(f"{name}/t2", dyb, sdb)
    t2 = g.tensor(f"{name}/t2", shape, "virtual")
    g.op("hadamard", f"{name}/t2", [dY, sd], [t2])
    tb = check_bound_fits(f"{name}/t", t2b.rescaled(s_d))
    # dY's declared bound, SiLU' in its table (or its derived lerp bound): tb is derived
    t = rescale_node(g, f"{name}/t", t2, s_d, tb, derived=dy_bound is None)
    dg2b = product_bound(f"{name}/dg2", tb, ub)
    dg2 = g.tensor(f"{name}/dg2", shape, "virtual")
    g.op("hadamard", f"{name}/dg2", [t, U], [dg2])
    dG = rescale_node(g, f"{name}/dG", dg2, s,
                      check_bound_fits(f"{name}/dG", dg_bound or dg2b.rescaled(s)))
    return dG, dU


@hookimpl
def zk_ops():
    return [SiluGrad(), SiluGradLerp()]


@hookimpl
def zk_builders():
    return [Builder("swiglu_backward", add_swiglu_backward,
                    "(dG, dU) of an add_swiglu forward (add_swiglu_backward)")]
