"""Layout ops: axis permutation and causal-LM label shifting (a plugin of their own,
entry point ``layout``; other plugins build them through the builders ``transpose`` and
``shift_labels`` or by op name).

Both are linear maps of a tensor's entries, so they cost (almost) nothing to prove.

``transpose`` (params ``axes``, optional ``view`` and ``out``):
Y = X.reshape(view).permute(axes).reshape(out), exact.  Under the MLE convention (DESIGN §3.2) a
reshape keeps the flat index and a permutation of axes permutes point coordinates, so a
claim Ỹ(r) = v is the claim X̃(π(r)) = v with π = `zklora.zkcore.mle.transpose_point`
on the view.  Nothing is sent.

``shift_labels`` (params ``seq``, ``ignore``): ids (N,) with N = batch·seq flattened
row-major; labels (N,) with labels[b·seq + t] = ids[b·seq + t + 1] for t < seq − 1 and
``ignore`` (transformers' −100) at t = seq − 1 — transformers' causal-LM shift.  For a
claim L̃(r) = v:

    v − ignore·Σ_b eq(r, (b, seq−1)) = Σ_j S_r(j) · ĩds(j),
    S_r(j) = eq(r, j − 1) if j mod seq ≠ 0 else 0,

the einsum "j,j->" of ids and S_r (`zklora.zkcore.einsum`: a degree-2 sumcheck over
j) with S_r public (the verifier builds it in O(N) and evaluates
its MLE); the output is one claim on ids.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.build import Builder
from zklora.zkcore.einsum import Public, einsum
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, PASS, Op, param

IGNORE_INDEX = -100


def add_transpose(g: Graph, name: str, X: str, axes, *, kind: str = "virtual") -> str:
    """Declare ``{name}/Y`` = X.permute(axes) and add the node; returns Y."""
    shape = g.tensors[X].shape
    axes = [int(a) for a in axes]
    if sorted(axes) != list(range(len(shape))):
        raise ValueError(f"{name}: axes {axes} are not a permutation of {len(shape)} axes")
    y = g.tensor(f"{name}/Y", [shape[a] for a in axes], kind, g.tensors[X].bound)
    g.op("transpose", name, [X], [y], axes=axes)
    return y


def add_shift_labels(g: Graph, name: str, ids: str, seq: int, *, kind: str = "committed",
                     ignore: int = IGNORE_INDEX) -> str:
    """Declare ``{name}/labels`` (N,) — the causal-LM labels of the flattened ``ids`` —
    and add the node; returns the labels tensor."""
    (n,) = g.tensors[ids].shape
    if n % seq:
        raise ValueError(f"{name}: {n} ids are not a multiple of seq {seq}")
    b = g.tensors[ids].bound
    bound = (min(ignore, b[0]), max(ignore, b[1])) if b else None
    lab = g.tensor(f"{name}/labels", (n,), kind, bound)
    g.op("shift_labels", name, [ids], [lab], seq=int(seq), ignore=int(ignore))
    return lab


class Transpose(Op):
    """Y = X.permute(axes) (module doc)."""

    name = "transpose"
    input_roles = ("X",)
    output_roles = ("Y",)
    #: zero knowledge: a blinded claim on Y is the same blinded claim on X
    zk_blinds = PASS

    @attrs.frozen
    class Params:
        axes: tuple[int, ...] = param("ints", lo=0, doc="a permutation")
        view: tuple[int, ...] | None = param("ints", lo=1, optional=True,
                                             doc="X's shape seen as")
        out: tuple[int, ...] | None = param("ints", lo=1, optional=True,
                                            doc="Y's shape (with view)")

    def validate(self, node, p, specs):
        xspec, yspec = specs[node.inputs[0]], specs[node.outputs[0]]
        xs = p.view if p.view is not None else xspec.shape
        permuted = tuple(xs[a] for a in p.axes) if sorted(p.axes) == list(range(len(xs))) \
            else None
        if permuted is None or int(np.prod(xs)) != xspec.size or (
                (p.out if p.view is not None and p.out is not None else permuted)
                != yspec.shape):
            raise ValueError(f"view {p.view} / axes {p.axes} do not map {xspec.shape} to "
                             f"{yspec.shape}")

    def forward(self, node, inputs):
        (x,) = inputs
        p = self.params(node)
        if p.view is not None:
            x = x.reshape(p.view)
        y = x.permute(*p.axes).contiguous()
        return [y.reshape(p.out) if p.out is not None else y]

    def relations(self, ctx, node, out_claims):
        """X̃(π(r)) = Ỹ(r): the claim moves to X at the permuted point."""
        (claim,) = out_claims.values()
        p = self.params(node)
        xs = p.view if p.view is not None else ctx.spec(node.inputs[0]).shape
        pt = mle.transpose_point(xs, list(p.axes), claim.point)
        return [ctx.claim(node.inputs[0], pt, claim.value,
                          ctx.blind_of(claim.point, claim.value))]


class ShiftLabels(Op):
    """Causal-LM labels from token ids (module doc)."""

    name = "shift_labels"
    input_roles = ("ids",)
    output_roles = ("labels",)
    #: zero knowledge: a blinded claim on the labels ends in the einsum's hidden
    #: sumcheck over j (`blinds`: none without a variable)
    zk_blinds = ABSORB

    def blinds(self, node, specs):
        return ABSORB if specs[node.inputs[0]].num_vars > 0 else None

    @attrs.frozen
    class Params:
        seq: int = param("int", lo=1)
        ignore: int = param("int")

    def validate(self, node, p, specs):
        (n,) = specs[node.inputs[0]].shape
        if specs[node.outputs[0]].shape != (n,) or n % p.seq:
            raise ValueError("shift_labels needs ids and labels of shape (N,) with N a "
                             "multiple of seq")

    def forward(self, node, inputs):
        (ids,) = inputs
        seq, ign = attrs.astuple(self.params(node))
        x = ids.reshape(-1, seq)
        lab = torch.full_like(x, ign)
        lab[:, :-1] = x[:, 1:]
        return [lab.reshape(ids.shape)]

    def relations(self, ctx, node, out_claims):
        """v − ignore·Σ_b eq(r, (b, seq−1)) = Σ_j S_r(j)·ĩds(j), S_r public (module doc):
        the einsum "j,j->" of ids and S_r."""
        (claim,) = out_claims.values()
        E, r = ctx.E, claim.point
        (n,) = ctx.spec(node.inputs[0]).shape
        seq, ign = attrs.astuple(self.params(node))
        eq = mle.eq_table(E, r)
        s = E.zeros(n)
        s[1:] = eq[:-1]
        s[0::seq] = E.scalar(0)
        last = E.sum(eq.reshape((n // seq, seq) + E.elem_shape)[:, seq - 1])
        v = E.sub(claim.value, E.mul(E.scalar(ign), last))
        ctx.register_blind(E.zeros(0), v, ctx.blind_of(claim.point, claim.value))
        return einsum(ctx, node.name, "j,j->", [node.inputs[0], Public(
            lambda: s, lambda p: mle.evaluate(E, s, p))], E.zeros(0), v)


def layout_ops() -> list[Op]:
    """The ops of this module."""
    return [Transpose(), ShiftLabels()]


@hookimpl
def zk_ops():
    return layout_ops()


@hookimpl
def zk_builders():
    return [Builder("transpose", add_transpose, "Y = X.permute(axes) (add_transpose)"),
            Builder("shift_labels", add_shift_labels,
                    "causal-LM labels of token ids (add_shift_labels)")]

