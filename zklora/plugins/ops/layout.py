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

a degree-2 sumcheck over j with S_r public (the verifier builds it in O(N) and evaluates
its MLE); the output is one claim on ids.
"""

from __future__ import annotations

import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.build import Builder
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op
from zklora.zkcore.relations import error

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

    def forward(self, node, inputs):
        (x,) = inputs
        view = node.params.get("view")
        if view is not None:
            x = x.reshape([int(d) for d in view])
        y = x.permute(*[int(a) for a in node.params["axes"]]).contiguous()
        out = node.params.get("out")
        return [y.reshape([int(d) for d in out]) if out is not None else y]

    def relations(self, ctx, node, out_claims):
        """X̃(π(r)) = Ỹ(r): the claim moves to X at the permuted point."""
        (claim,) = out_claims.values()
        xspec, yspec = ctx.spec(node.inputs[0]), ctx.spec(node.outputs[0])
        view = node.params.get("view")
        xs = tuple(int(d) for d in view) if view is not None else xspec.shape
        axes = [int(a) for a in node.params["axes"]]
        permuted = tuple(xs[a] for a in axes) if sorted(axes) == list(range(len(xs))) else None
        ok = permuted is not None and int(np.prod(xs)) == xspec.size and (
            permuted == yspec.shape if view is None else
            tuple(int(d) for d in node.params.get("out", permuted)) == yspec.shape)
        if not ok:
            raise error(ctx, f"op {node.name}: view {view} / axes {axes} do not map "
                        f"{xspec.shape} to {yspec.shape}")
        pt = mle.transpose_point(xs, axes, claim.point)
        return [ctx.claim(node.inputs[0], pt, claim.value)]


class ShiftLabels(Op):
    """Causal-LM labels from token ids (module doc)."""

    name = "shift_labels"

    def forward(self, node, inputs):
        (ids,) = inputs
        seq, ign = int(node.params["seq"]), int(node.params["ignore"])
        x = ids.reshape(-1, seq)
        lab = torch.full_like(x, ign)
        lab[:, :-1] = x[:, 1:]
        return [lab.reshape(ids.shape)]

    @staticmethod
    def _public(ctx, node, r):
        """(S_r as a flat challenge-field table, ignore·Σ_b eq(r, (b, seq−1)))."""
        E = ctx.E
        (n,) = ctx.spec(node.inputs[0]).shape
        seq, ign = int(node.params["seq"]), int(node.params["ignore"])
        if ctx.spec(node.outputs[0]).shape != (n,) or n % seq or seq < 1:
            raise error(ctx, f"op {node.name}: shift_labels needs ids and labels of shape (N,) "
                        f"with N a multiple of seq")
        eq = mle.eq_table(E, r)
        s = E.zeros(n)
        s[1:] = eq[:-1]
        s[0::seq] = E.scalar(0)
        last = E.sum(eq.reshape((n // seq, seq) + E.elem_shape)[:, seq - 1])
        return s, E.mul(E.scalar(ign), last)

    def relations(self, ctx, node, out_claims):
        """v − ignore·Σ_b eq(r, (b, seq−1)) = Σ_j S_r(j)·ĩds(j), S_r public (module doc)."""
        (claim,) = out_claims.values()
        E = ctx.E
        s, c = self._public(ctx, node, claim.point)
        ids = node.inputs[0]
        pt, fin = ctx.run_sumcheck(f"{node.name}/shift", ctx.spec(ids).num_vars,
                                   [(1, (0, 1))], E.sub(claim.value, c),
                                   lambda: [ctx.ext_table(ids), s],
                                   public={1: lambda p: mle.evaluate(E, s, p)})
        return [ctx.claim(ids, pt, fin[0])]


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

