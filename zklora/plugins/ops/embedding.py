"""Token embedding: H = onehot(ids) · table, with the one-hot matrix as committed advice.

Integer spec (``forward``).  Inputs ``ids`` (N,) token ids — committed, N = batch·seq
flattened — and ``table`` (V, d) — the embedding matrix at the activation scale s.
Outputs:

* ``H`` (N, d) = table[ids], at scale s (no rescale: a one-hot row picks a row exactly);
* ``OH`` (N, V) committed advice, OH[n, v] = 1 if v = ids[n] else 0, declared (0, 1).

An id outside [0, V) is a `ProverError` naming the tensor.

Relations proven (MLE coordinates as in DESIGN §3.2: the column coordinates are the low
ones), for a claim H̃(r_d, r_n) = v:

1. lookup by matmul:  v = Σ_{u∈{0,1}^log V} ÕH(u, r_n) · T̃ab(r_d, u)  (degree 2),
   giving claims on OH and on the table;
2. booleanity:        0 = Σ_x eq(z, x) · (ÕH(x)² − ÕH(x))  at a random z (degree 3),
   so every entry of OH is 0 or 1;
3. one-hot rows:      1 + γ·ĩds(z') = Σ_u ÕH(u, z') · (1 + γ·u)  at a random z' and γ
   (degree 2, the factor 1 + γ·u is public: its MLE is 1 + γ·Σ_j 2^j u_j).  As the
   identity holds for the MLEs at a random point, w.h.p. it holds row by row:
   Σ_u OH[n, u] = 1 and Σ_u u·OH[n, u] = ids[n].  With booleanity (and V < p) each row
   has exactly one 1, at column ids[n]; this also proves ids[n] ∈ [0, V).

The output is claims on OH (three points), table (one) and ids (one).  The prover sends
ĩds(z'); everything else comes from the sumchecks.
"""

from __future__ import annotations

import numpy as np
import torch

from zklora.zkcore.build import Builder
from zklora.zkcore.claims import scale_blind
from zklora.zkcore.einsum import Public, einsum
from zklora.zkcore.errors import ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, NoParams, Op, Role
from zklora.zkcore.relations import vanishes


def add_embedding(g: Graph, name: str, ids: str, table: str, *,
                  bound: tuple[int, int] | None = None) -> str:
    """Declare ``{name}/H`` (N, d) virtual and ``{name}/onehot`` (N, V) committed, add the
    node; returns the name of H.  ``bound`` is H's declared range (the table's, if any)."""
    (n,) = g.tensors[ids].shape
    v, d = g.tensors[table].shape
    h = g.tensor(f"{name}/H", (n, d), "virtual", bound or g.tensors[table].bound)
    oh = g.tensor(f"{name}/onehot", (n, v), "committed", (0, 1))
    g.op("embedding", name, [ids, table], [h, oh])
    return h


def _public_row_factor(E, gamma, point):
    """MLE of u ↦ 1 + γ·u at ``point`` (log V coordinates)."""
    acc = E.scalar(0)
    for j in range(E.shape(point)[0]):
        acc = E.add(acc, E.mul(E.scalar(1 << j), point[j]))
    return E.add(E.scalar(1), E.mul(gamma, acc))


class Embedding(Op):
    """H = table[ids] via a committed one-hot matrix (module doc)."""

    name = "embedding"
    input_roles = ("ids", "table")
    output_roles = (Role("H", shape=lambda s, p: (s["ids"][0], s["table"][1])),
                    Role("onehot", "committed", lambda s, p: (s["ids"][0], s["table"][0])))
    Params = NoParams
    #: zero knowledge: a blinded claim on H ends in the lookup einsum's hidden sumcheck;
    #: the masked ĩds(z') is carried into the rows einsum (`relations`)
    zk_blinds = ABSORB

    def forward(self, node, inputs):
        ids, table = inputs
        vocab = int(table.shape[0])
        ids = ids.reshape(-1)
        if ids.numel():
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= vocab:
                bad = hi if hi >= vocab else lo
                raise ProverError(f"op {node.name}: tensor {node.inputs[0]} holds token id "
                                  f"{bad}, outside the vocabulary [0, {vocab})")
        oh = torch.nn.functional.one_hot(ids, vocab).to(torch.int64)
        return [table[ids], oh]

    def validate(self, node, p, specs):
        if len(specs[node.inputs[0]].shape) != 1 or len(specs[node.inputs[1]].shape) != 2:
            raise ValueError("embedding needs ids (N,) and table (V, d)")

    def relations(self, ctx, node, out_claims):
        """The lookup by matmul (for a claim on H), booleanity of OH, and the one-hot
        rows encoding ids (module doc, relations 1–3)."""
        E = ctx.E
        ids, table = node.inputs
        h, oh = node.outputs
        claims = []
        if h in out_claims:  # 1. H = OH · table
            c = out_claims[h]
            claims += einsum(ctx, node.name, "nv,vd->nd", [oh, table], c.point, c.value)
        claims += vanishes(ctx, node.name, [[(1, (oh, oh)), (-1, (oh,))]])  # 2. OH² = OH
        # 3. one-hot rows and the ids they encode: OH · (1 + γ·u) = 1 + γ·ids at zr
        zr = ctx.challenges(f"{node.name}/rows/z", ctx.spec(ids).num_vars)
        gamma = ctx.challenge(f"{node.name}/rows/gamma")
        (v_ids,) = ctx.reveal(f"{node.name}/rows/ids", [ids], zr)
        vocab = ctx.spec(table).shape[0]
        factor = Public(lambda: E.add(E.scalar(1), E.mul(gamma, E.from_ints(np.arange(vocab)))),
                        lambda p: _public_row_factor(E, gamma, p))
        v_rows = E.add(E.scalar(1), E.mul(gamma, v_ids))
        ctx.register_blind(zr, v_rows, scale_blind(E, ctx.blind_of(zr, v_ids), gamma))
        return claims + einsum(ctx, node.name, "nv,v->n", [oh, factor], zr, v_rows,
                               kind="rows")


@hookimpl
def zk_ops():
    return [Embedding()]


@hookimpl
def zk_builders():
    return [Builder("embedding", add_embedding, "H = table[ids] (add_embedding)")]
