"""Batched matrix multiplication Y = X·W.

Shapes: X (…, m, k); W (k, n) shared, or (…, k, n) batched like X; Y (…, m, n).
Relation proven for a claim Ỹ(r_n, r_m, r_b) = v (coordinates in §3.2 order):

    v = Σ_{j∈{0,1}^log k}  X̃(j, r_m, r_b) · W̃(r_n, j [, r_b])

by a degree-2 sumcheck over j.  The prover folds X over its row/batch coordinates and W
over its column (and batch) coordinates first — O(|X| + |W|) — then runs the sumcheck
on two tables of length k.  The output is two claims, on X and on W.
"""

from __future__ import annotations

import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op


def _split(shape):
    """Number of point coordinates owned by the last axis and the second to last."""
    return mle.log2_exact(int(shape[-1])), mle.log2_exact(int(shape[-2]))


class MatMul(Op):
    name = "matmul"

    def forward(self, node, inputs):
        x, w = inputs
        return [torch.matmul(x, w)]

    @staticmethod
    def _coords(ctx, node, claim):
        X, W = node.inputs
        xs, ws = ctx.spec(X).shape, ctx.spec(W).shape
        bn, bm = _split(ctx.spec(node.outputs[0]).shape)
        bk = mle.log2_exact(int(xs[-1]))
        r = claim.point
        r_n, r_m, r_b = r[:bn], r[bn:bn + bm], r[bn + bm:]
        batched_w = len(ws) > 2
        return xs, ws, bk, r_n, r_m, r_b, batched_w

    def prove(self, ctx, node, out_claims):
        (claim,) = out_claims.values()
        X, W = node.inputs
        E = ctx.E
        xs, ws, bk, r_n, r_m, r_b, batched_w = self._coords(ctx, node, claim)
        k = int(xs[-1])
        # X_r[j] = Σ_{b,i} eq((r_m, r_b), (i, b)) X[b, i, j]
        e_x = mle.eq_table(E, np.concatenate([r_m, r_b]))
        x_r = E.vecmat(e_x, ctx.table(X).reshape(-1, k))
        # W_r[j] = Σ_{(b), l} eq(r_n (, r_b)) W[(b), j, l]: W viewed as rows (b, l) × cols j
        n = int(ws[-1])
        wt = ctx.table(W).reshape(-1, k, n)  # (B_w, k, n)
        wt = np.ascontiguousarray(wt.transpose(0, 2, 1)).reshape(-1, k)  # rows (b, l)
        e_w = mle.eq_table(E, np.concatenate([r_n, r_b]) if batched_w else r_n)
        w_r = E.vecmat(e_w, wt)
        point, finals = ctx.sumcheck([x_r, w_r], [(1, (0, 1))], claim.value,
                                     label=f"{node.name}/matmul")
        return self._claims(ctx, node, point, finals, r_n, r_m, r_b, batched_w)

    def verify(self, ctx, node, out_claims):
        (claim,) = out_claims.values()
        xs, ws, bk, r_n, r_m, r_b, batched_w = self._coords(ctx, node, claim)
        point, finals = ctx.sumcheck(bk, 2, [(1, (0, 1))], claim.value,
                                     label=f"{node.name}/matmul")
        return self._claims(ctx, node, point, finals, r_n, r_m, r_b, batched_w)

    @staticmethod
    def _claims(ctx, node, j, finals, r_n, r_m, r_b, batched_w):
        X, W = node.inputs
        px = np.concatenate([j, r_m, r_b])
        pw = np.concatenate([r_n, j, r_b]) if batched_w else np.concatenate([r_n, j])
        return [ctx.claim(X, px, finals[0]), ctx.claim(W, pw, finals[1])]


@hookimpl
def zk_ops():
    return [MatMul()]
