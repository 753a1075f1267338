"""Product-sum ops on the kernel's einsum relation (`zklora.zkcore.einsum`, DESIGN §3.8).

``einsum`` (param ``spec``, e.g. ``"bhtd,bhsd->bhts"``, and ``sizes`` for letters of
views that split an axis): Y = einsum(spec, X1, …, Xk), the integer torch einsum.

``matmul``: batched Y = op(X)·op(W), op = identity or transpose.  Logical shapes: X
(…, m, k); W (k, n) shared by every batch, or (…, k, n) batched like X; Y (…, m, n).
With ``group = G`` (grouped-query attention), W has G times fewer batches than X and X's
batch b uses W's batch ⌊b / G⌋ (transformers' ``repeat_kv``).  Stored operands may be
transposed (``transpose_a``: X stored (…, k, m); ``transpose_b``: W stored (…, n, k)),
which is free: a transpose only permutes point coordinates (§3.2).  It is the einsum

    X "wgmk" (or "wgkm"),  W "kn"/"nk" (shared) or "wkn"/"wnk" (batched)  ->  Y "wgmn"

over the row-major views X (B/G, G, m, k), W (B/G, k, n): the batch splits into W's
batch w and the group g (size 1 without grouping; all of X's batch is w for a shared
W).  Relation proven for a claim Ỹ(r_n, r_m, r_g, r_w) = v (`einsum`):

    shared W:   v = Σ_j X̃(j, r_m, r_g, r_w) · W̃(r_n, j)                   (degree 2, over j)
    batched W:  v = Σ_{w,j} eq(r_w, w) · X̃(j, r_m, r_g, w) · W̃(r_n, j, w)  (degree 3)

X and W are folded on their own letters (m, g; n) first — O(|X| + |W|) — and the
output is one claim on X and one on W, at points of their stored layouts.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import torch

from zklora.kernels.int_gemm import gemm_nt
from zklora.zkcore import mle
from zklora.zkcore.einsum import einsum, letter_sizes, parse
from zklora.zkcore.errors import ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, PASS, Op, param
from zklora.zkcore.quant import SAFE_MAX


class MatMul(Op):
    name = "matmul"
    input_roles = ("X", "W")
    output_roles = ("Y",)
    #: zero knowledge: a blinded claim on Y ends in the einsum's hidden sumcheck (`blinds`:
    #: none without a summed coordinate)
    zk_blinds = ABSORB

    def blinds(self, node, specs):
        p = self.params(node)
        xs, ws = specs[node.inputs[0]].shape, specs[node.inputs[1]].shape
        k = xs[-1 - p.transpose_a]
        w = int(np.prod(ws[:-2], dtype=np.int64)) if len(ws) > 2 else 1
        return ABSORB if k * w > 1 else None

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
        if p.transpose_b and p.group == 1 and w.dim() == 2 and x.numel() and w.numel() and \
                x.dtype == w.dtype == torch.int64 and x.is_contiguous() and \
                w.is_contiguous() and x.device.type == w.device.type == "cpu":
            # Y = X·Wᵀ in numba (`zklora.kernels.int_gemm`: the same integers as torch's
            # int64 matmul, wrap-around included, at about half its CPU)
            y = np.empty((*x.shape[:-1], w.shape[0]), dtype=np.int64)
            gemm_nt(x.reshape(-1, x.shape[-1]).numpy(), w.numpy(),
                    y.reshape(-1, w.shape[0]))
            return [torch.from_numpy(y)]
        if p.transpose_b and p.group == 1:
            # Y = (W_stored · Xᵀ)ᵀ: torch would copy a transposed W (a whole weight
            # matrix: 2 GiB for a 128256-row tied LM head) to multiply X·Wᵀ; the
            # integers are the same either way
            return [torch.matmul(w, x.transpose(-1, -2)).transpose(-1, -2).contiguous()]
        if p.transpose_b:
            w = w.transpose(-1, -2)
        G = p.group
        if G > 1:
            w = w.reshape(-1, *w.shape[-2:]).repeat_interleave(G, dim=0).reshape(
                *x.shape[:-2], *w.shape[-2:])
        return [torch.matmul(x, w)]

    def relations(self, ctx, node, out_claims):
        """The einsum of the module doc: one sumcheck over k (and W's batch)."""
        (c,) = out_claims.values()
        p = self.params(node)
        (m, n), xs = ctx.spec(node.outputs[0]).shape[-2:], ctx.spec(node.inputs[0]).shape
        batched = len(ctx.spec(node.inputs[1]).shape) > 2
        b = int(np.prod(xs[:-2], dtype=np.int64))
        sizes = {"w": b // p.group, "g": p.group, "m": m, "n": n,
                 "k": xs[-1 - p.transpose_a]}
        spec = (f"wg{'km' if p.transpose_a else 'mk'},{'w' if batched else ''}"
                f"{'nk' if p.transpose_b else 'kn'}->wgmn")
        return einsum(ctx, node.name, spec, node.inputs, c.point, c.value, sizes=sizes)


class Einsum(Op):
    """Y = einsum(spec, X1, …, Xk) (module doc); ``sizes`` for the letters of views."""

    name = "einsum"
    input_roles = ("X*",)
    output_roles = ("Y",)
    #: zero knowledge: a blinded claim on Y ends in the einsum's hidden sumcheck, or, for
    #: one operand and no sumcheck (a transpose, a row sum), on the operand's claim
    #: (`blinds`)
    zk_blinds = ABSORB

    def blinds(self, node, specs):
        ins, _ = parse(self.params(node).spec)
        if len(ins) == 1:
            return PASS
        sz = self._sizes(node, specs)
        shared = {ch for ch in "".join(ins) if sum(ch in t for t in ins) > 1}
        return ABSORB if sum(mle.log2_exact(sz[ch]) for ch in shared) else None

    @attrs.frozen
    class Params:
        spec: str = param("str", doc="an einsum string, 'mk,kn->mn'")
        sizes: dict = param("any", default=attrs.Factory(dict),
                            doc="letter -> size, for views that split or merge axes")

    def _sizes(self, node, specs) -> dict[str, int]:
        """Every letter's size, from ``sizes`` and the inputs whose letters match their
        axes; Y's letters must match its axes (ValueError otherwise)."""
        p = self.params(node)
        ins, out = parse(p.spec)
        if len(ins) != len(node.inputs) or not isinstance(p.sizes, dict):
            raise ValueError(f"spec {p.spec!r} for {len(node.inputs)} inputs, sizes "
                             f"{p.sizes!r}")
        if len(out) != len(specs[node.outputs[0]].shape):
            raise ValueError(f"output letters {out!r} for Y {tuple(specs[node.outputs[0]].shape)}")
        sz = letter_sizes([(t, specs[n].shape) for t, n in zip(ins, node.inputs)], p.sizes)
        ys = specs[node.outputs[0]].shape
        if any(sz.get(ch) != d for ch, d in zip(out, ys)) or not set(out) <= set("".join(ins)):
            raise ValueError(f"output letters {out!r} do not give Y {tuple(ys)} from the inputs")
        return sz

    def validate(self, node, p, specs):
        self._sizes(node, specs)

    def forward(self, node, inputs):
        p = self.params(node)
        ins, out = parse(p.spec)
        sz = letter_sizes([(t, x.shape) for t, x in zip(ins, inputs)], p.sizes)
        worst = math.prod(sz[ch] for ch in set("".join(ins)) - set(out))
        for x in inputs:
            worst *= int(x.abs().max()) if x.numel() else 0
        if worst > SAFE_MAX:
            raise ProverError(f"op {node.name}: result may reach {worst}, outside the safe "
                              f"integer range ±{SAFE_MAX}")
        views = [x.reshape([sz[ch] for ch in t]) for t, x in zip(ins, inputs)]
        if len(ins) == 2 and ins[0] == ins[1]:
            # like-lettered operands (the row dots 'aoj,aoj->ao'): torch's einsum makes
            # them a batched int64 matrix product of 1-row blocks (~40× the CPU of a
            # product and a sum here); every product and partial sum is ≤ worst ≤
            # SAFE_MAX, and int64 sums wrap alike in any order: the same integers
            return [torch.einsum(f"{ins[0]}->{out}", views[0] * views[1])]
        return [torch.einsum(p.spec, *views)]

    def relations(self, ctx, node, out_claims):
        """One einsum relation (`zklora.zkcore.einsum`)."""
        (c,) = out_claims.values()
        sz = self._sizes(node, ctx.specs)
        return einsum(ctx, node.name, self.params(node).spec, node.inputs, c.point, c.value,
                      sizes=sz)


@hookimpl
def zk_ops():
    return [MatMul(), Einsum()]
