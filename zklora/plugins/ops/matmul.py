"""Batched matrix multiplication Y = X·W.

Shapes: X (…, m, k); W (k, n) shared, or (…, k, n) batched like X; Y (…, m, n).
Relation proven for a claim Ỹ(r_n, r_m, r_b) = v (coordinates in §3.2 order):

    shared W:   v = Σ_j X̃(j, r_m, r_b) · W̃(r_n, j)                 (degree 2, over j)
    batched W:  v = Σ_{b,j} eq(r_b, b) · X̃(j, r_m, b) · W̃(r_n, j, b)  (degree 3, over j, b)
  The prover folds X over its row/batch coordinates and W
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
        m, k, n = int(xs[-2]), int(xs[-1]), int(ws[-1])
        e_n = mle.eq_table(E, r_n)
        if not batched_w:
            # X_r[j] = Σ_{b,i} eq((r_m, r_b), (i, b)) X[b, i, j];  W_r[j] = Σ_l eq(r_n, l) W[j, l]
            x_r = E.vecmat(mle.eq_table(E, np.concatenate([r_m, r_b])),
                           ctx.table(X).reshape(-1, k))
            w_r = E.vecmat(e_n, np.ascontiguousarray(ctx.table(W).reshape(k, n).T))
            point, finals = ctx.sumcheck([x_r, w_r], [(1, (0, 1))], claim.value,
                                         label=f"{node.name}/matmul")
        else:
            # Σ_{b,j} eq(r_b, b) · X_r[b, j] · W_r[b, j]  over the flat index b·k + j
            B = int(np.prod(xs[:-2], dtype=np.int64))
            xt = ctx.table(X).reshape(B, m, k).transpose(1, 0, 2).reshape(m, B * k)
            x_r = E.vecmat(mle.eq_table(E, r_m), np.ascontiguousarray(xt))
            wt = ctx.table(W).reshape(B, k, n).transpose(2, 0, 1).reshape(n, B * k)
            w_r = E.vecmat(e_n, np.ascontiguousarray(wt))
            e_b = np.repeat(mle.eq_table(E, r_b), k, axis=0)
            point, finals = ctx.sumcheck([x_r, w_r, e_b], [(1, (0, 1, 2))], claim.value,
                                         label=f"{node.name}/matmul", public=[2])
        return self._claims(ctx, node, point, finals, bk, r_n, r_m, r_b, batched_w)

    def verify(self, ctx, node, out_claims):
        (claim,) = out_claims.values()
        xs, ws, bk, r_n, r_m, r_b, batched_w = self._coords(ctx, node, claim)
        E = ctx.E
        if not batched_w:
            point, finals = ctx.sumcheck(bk, 2, [(1, (0, 1))], claim.value,
                                         label=f"{node.name}/matmul")
        else:
            nb = E.shape(r_b)[0]
            point, finals = ctx.sumcheck(
                bk + nb, 3, [(1, (0, 1, 2))], claim.value, label=f"{node.name}/matmul",
                public={2: lambda p: mle.eq_eval(E, r_b, p[bk:])})
        return self._claims(ctx, node, point, finals, bk, r_n, r_m, r_b, batched_w)

    @staticmethod
    def _claims(ctx, node, point, finals, bk, r_n, r_m, r_b, batched_w):
        X, W = node.inputs
        j = point[:bk]
        rb = point[bk:] if batched_w else r_b
        px = np.concatenate([j, r_m, rb])
        pw = np.concatenate([r_n, j, rb]) if batched_w else np.concatenate([r_n, j])
        return [ctx.claim(X, px, finals[0]), ctx.claim(W, pw, finals[1])]


@hookimpl
def zk_ops():
    return [MatMul()]
