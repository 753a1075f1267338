"""Batched matrix multiplication Y = op(X)·op(W), op = identity or transpose.

Logical shapes: X (…, m, k); W (k, n) shared by every batch, or (…, k, n) batched like
X; Y (…, m, n).  With ``group = G`` (grouped-query attention), W has G times fewer
batches than X and X's batch b uses W's batch ⌊b / G⌋ — for X (B, H, m, k) and W
(B, H/G, k, n) head h uses K/V head h // G, transformers' ``repeat_kv`` — which is
broadcasting along the low log2 G batch bits: they are dropped from W's point.

Stored operands may be transposed (params ``transpose_a``, ``transpose_b``: X stored
(…, k, m), W stored (…, n, k)), which is free: a transpose
only permutes point coordinates (§3.2), so ``X·Wᵀ`` with transformers' (out, in)
weights and the backward products ``dY·W``, ``Xᵀ·dY`` need no copies in the proof.

Relation proven for a claim Ỹ(r_n, r_m, r_b) = v (coordinates in §3.2 order):

    shared W:   v = Σ_j X̃(j, r_m, r_b) · W̃(r_n, j)                    (degree 2, over j)
    batched W:  v = Σ_{b,j} eq(r_b, b) · X̃(j, r_m, b) · W̃(r_n, j, b_hi)  (degree 3, over j, b)

where b_hi drops the group bits (all of b when group = 1).

(points written for the logical layout).  The prover first folds X over its row (and,
for shared W, batch) coordinates and W over its column coordinates — O(|X| + |W|) —
then runs the sumcheck on tables of length k (or B·k).  Output: one claim on X and
one on W, at points of their stored layouts.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op, param


class MatMul(Op):
    name = "matmul"
    input_roles = ("X", "W")
    output_roles = ("Y",)

    @attrs.frozen
    class Params:
        transpose_a: bool = param("bool", default=False, doc="X stored (…, k, m)")
        transpose_b: bool = param("bool", default=False, doc="W stored (…, n, k)")
        group: int = param("int", default=1, lo=1, hi=1 << 20,
                           doc="X batches per W batch, a power of 2")

    def validate(self, node, p, specs):
        mle.log2_exact(p.group)
        xs, ws, ys = (tuple(specs[t].shape) for t in (*node.inputs, node.outputs[0]))
        if min(len(xs), len(ws), len(ys)) < 2:
            raise ValueError(f"X {xs}, W {ws} and Y {ys} need two axes at least")
        m, k = (xs[-1], xs[-2]) if p.transpose_a else xs[-2:]
        kw, n = (ws[-1], ws[-2]) if p.transpose_b else ws[-2:]
        bx, bw = (int(np.prod(s[:-2], dtype=np.int64)) for s in (xs, ws))
        if k != kw or ys != xs[:-2] + (m, n) or \
                (bx != bw * p.group if len(ws) > 2 else p.group != 1):
            raise ValueError(f"X {xs}, W {ws} (transposed: {p.transpose_a}, "
                             f"{p.transpose_b}; group {p.group}) do not give Y {ys}")

    def forward(self, node, inputs):
        x, w = inputs
        p = self.params(node)
        if p.transpose_a:
            x = x.transpose(-1, -2)
        if p.transpose_b:
            w = w.transpose(-1, -2)
        G = p.group
        if G > 1:
            w = w.reshape(-1, *w.shape[-2:]).repeat_interleave(G, dim=0).reshape(
                *x.shape[:-2], *w.shape[-2:])
        return [torch.matmul(x, w)]

    def _geometry(self, ctx, node, claim):
        X, W = node.inputs
        p = self.params(node)
        ta, tb, G = p.transpose_a, p.transpose_b, p.group
        ys = ctx.spec(node.outputs[0]).shape
        xs = ctx.spec(X).shape
        ws = ctx.spec(W).shape
        m, n = int(ys[-2]), int(ys[-1])
        k = int(xs[-2] if ta else xs[-1])
        bn, bm, bk = mle.log2_exact(n), mle.log2_exact(m), mle.log2_exact(k)
        r = claim.point
        r_n, r_m, r_b = r[:bn], r[bn:bn + bm], r[bn + bm:]
        batched = len(ws) > 2
        ng = mle.log2_exact(G)
        return ta, tb, m, n, k, bk, r_n, r_m, r_b, batched, ng

    def relations(self, ctx, node, out_claims):
        """v = Σ_j X̃(j, r_m, r_b)·W̃(r_n, j) (shared W) or
        v = Σ_{b,j} eq(r_b, b)·X̃(j, r_m, b)·W̃(r_n, j, b_hi) (batched W): one sumcheck."""
        (claim,) = out_claims.values()
        E = ctx.E
        geo = self._geometry(ctx, node, claim)
        ta, tb, m, n, k, bk, r_n, r_m, r_b, batched, ng = geo
        label = f"{node.name}/matmul"
        if not batched:
            point, finals = ctx.run_sumcheck(label, bk, [(1, (0, 1))], claim.value,
                                             lambda: self._tables(ctx, node, geo))
        else:
            point, finals = ctx.run_sumcheck(
                label, bk + E.shape(r_b)[0], [(1, (0, 1, 2))], claim.value,
                lambda: self._tables(ctx, node, geo),
                public={2: lambda p: mle.eq_eval(E, r_b, p[bk:])})
        return self._claims(ctx, node, point, finals, bk, r_n, r_m, r_b, batched, ta, tb, ng)

    @staticmethod
    def _tables(ctx, node, geo):
        """Prover: X and W folded on their free coordinates (and eq(r_b, ·) if batched)."""
        ta, tb, m, n, k, bk, r_n, r_m, r_b, batched, ng = geo
        X, W = node.inputs
        E = ctx.E
        xs = ctx.table(X)
        ws = ctx.table(W)
        B = xs.size // (m * k)
        x3 = xs.reshape(B, k, m).transpose(0, 2, 1) if ta else xs.reshape(B, m, k)  # (B, m, k)
        Bw = ws.size // (k * n)
        w3 = ws.reshape(Bw, n, k).transpose(0, 2, 1) if tb else ws.reshape(Bw, k, n)  # (Bw, k, n)
        e_n = mle.eq_table(E, r_n)
        if not batched:
            # X_r[j] = Σ_{b,i} eq((r_m, r_b), (i, b)) X[b, i, j];  W_r[j] = Σ_l eq(r_n, l) W[j, l]
            rows = np.ascontiguousarray(x3.reshape(B * m, k))
            x_r = E.vecmat(mle.eq_table(E, np.concatenate([r_m, r_b])), rows)
            w_r = E.vecmat(e_n, np.ascontiguousarray(w3[0].T))
            return [x_r, w_r]
        # Σ_{b,j} eq(r_b, b) · X_r[b, j] · W_r[b, j]  over the flat index b·k + j
        xt = np.ascontiguousarray(x3.transpose(1, 0, 2).reshape(m, B * k))
        x_r = E.vecmat(mle.eq_table(E, r_m), xt)
        wt = np.ascontiguousarray(w3.transpose(2, 0, 1).reshape(n, Bw * k))
        w_r = E.vecmat(e_n, wt)
        if ng:  # W's batch ⌊b / G⌋: repeat each W batch G times
            es = E.elem_shape
            w_r = np.repeat(w_r.reshape((Bw, k) + es), 1 << ng, axis=0).reshape((B * k,) + es)
        e_b = np.repeat(mle.eq_table(E, r_b), k, axis=0)
        return [x_r, w_r, e_b]

    @staticmethod
    def _claims(ctx, node, point, finals, bk, r_n, r_m, r_b, batched, ta, tb, ng=0):
        X, W = node.inputs
        j = point[:bk]
        rb = point[bk:] if batched else r_b
        px = np.concatenate([r_m, j, rb]) if ta else np.concatenate([j, r_m, rb])
        w_rows = [j, r_n] if tb else [r_n, j]
        pw = np.concatenate(w_rows + ([rb[ng:]] if batched else []))
        return [ctx.claim(X, px, finals[0]), ctx.claim(W, pw, finals[1])]


@hookimpl
def zk_ops():
    return [MatMul()]
