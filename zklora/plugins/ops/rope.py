"""Rotary position embedding (RoPE), LLaMA convention, and its transpose (backward).

Layout: X has shape (…, seq, head_dim) — in the model (batch, heads, seq, head_dim),
as q/k are after the head split in transformers' LLaMA — and the public tables
cos, sin have shape (seq, head_dim), broadcast over the leading axes.  All three are
integers: X at scale s_x, cos/sin at scale s (`rope_tables`), so Y is at scale s_x + s
(a `rescale` op brings it back).

    forward   (``transpose=False``):  Y = X ⊙ cos + R(X) ⊙ sin
    transpose (``transpose=True``):   Y = X ⊙ cos + Rᵀ(X ⊙ sin) = X ⊙ cos − R(X ⊙ sin)

with R = rotate_half on the last axis, R(x) = (−x₂, x₁) for x = (x₁, x₂) halves
(transformers' ``rotate_half``).  The transpose is RoPE's backward: dX = Jᵀ·dY.

Relation proven for a claim Ỹ(r) = v, r = (r_sd, r_lead) (the last two axes own the
low coordinates).  Fold X over the leading axes, FX(z) = X̃(z, r_lead) for
z ∈ {0,1}^(log seq + log head_dim); R acts on the last axis only so it commutes with
the fold.  Moving R onto the public side by transposition (⟨a, R b⟩ = ⟨Rᵀa, b⟩):

    v = Σ_z FX(z) · K(z),
    K = eq_r ⊙ cos + Rᵀ(eq_r ⊙ sin)      (forward),
    K = eq_r ⊙ cos + sin ⊙ R(eq_r)       (transpose),      eq_r = eq(r_sd, ·),

a degree-2 sumcheck over z.  K depends only on r and the public tables, so the verifier
builds it (O(seq·head_dim)) and evaluates K̃(r') itself; the output is one claim
X̃(r', r_lead) = FX(r').  This is the "hadamard with public tables, rotate_half as a
coordinate flip" of DESIGN §5 with the flip applied to the public factor, so no
claim on the rotated witness is needed.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.build import Builder
from zklora.zkcore.einsum import Public, einsum
from zklora.zkcore.errors import ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.quant import SAFE_MAX, Bound, to_fixed


def rope_inv_freq(head_dim: int, theta: float, rope_scaling=None) -> list[float]:
    """The inverse frequencies (head_dim/2 of them) of a RoPE variant, in float64.

    ``rope_scaling``: None / ``{"rope_type": "default"}``, or a mapping (or (key, value)
    pairs) of transformers' ``rope_parameters``:

    * default: inv_freq_i = θ^(−2i/head_dim);
    * ``linear`` (factor): inv_freq_i / factor;
    * ``llama3`` (factor, low_freq_factor, high_freq_factor,
      original_max_position_embeddings L), exactly transformers'
      ``_compute_llama3_parameters``: with λ_i = 2π/inv_freq_i, λ_lo = L/low_freq_factor,
      λ_hi = L/high_freq_factor: λ_i < λ_hi keeps inv_freq_i; λ_i > λ_lo divides it by
      factor; in between (1 − a)·inv_freq_i/factor + a·inv_freq_i with
      a = (L/λ_i − low_freq_factor)/(high_freq_factor − low_freq_factor).

    None of these types scales the cos/sin values themselves (transformers'
    ``attention_scaling`` is 1.0 for all three)."""
    from zklora.zkcore.errors import ConfigError
    half = head_dim // 2
    inv = [1.0 / (float(theta) ** (2 * i / head_dim)) for i in range(half)]
    if rope_scaling is None:
        return inv
    p = dict(rope_scaling)
    rtype = p.get("rope_type", p.get("type", "default"))
    if rtype == "default":
        return inv
    if rtype == "linear":
        return [f / float(p["factor"]) for f in inv]
    if rtype == "llama3":
        factor, lo, hi = float(p["factor"]), float(p["low_freq_factor"]), \
            float(p["high_freq_factor"])
        old = float(p["original_max_position_embeddings"])
        lo_wave, hi_wave = old / lo, old / hi
        out = []
        for f in inv:
            wave = 2 * math.pi / f
            if wave < hi_wave:
                out.append(f)
            elif wave > lo_wave:
                out.append(f / factor)
            else:
                a = (old / wave - lo) / (hi - lo)
                out.append((1 - a) * f / factor + a * f)
        return out
    raise ConfigError(f"RoPE type {rtype!r} unsupported (supported: default, linear, llama3)")


def rope_tables(seq: int, head_dim: int, theta: float, scale: int,
                positions: torch.Tensor | None = None,
                attention_scaling: float = 1.0,
                rope_scaling=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Public cos/sin tables (seq, head_dim) at ``scale``, LLaMA RoPE.

    angle(p, i) = p·inv_freq_i with `rope_inv_freq` (θ, and the variant
    ``rope_scaling``: default, ``linear`` or ``llama3``), and both halves of the last
    axis repeat the same angles (transformers' ``cat((freqs, freqs))``).  Computed in
    float64 with Python's math (deterministic), then `to_fixed` (round half up).
    """
    if head_dim % 2:
        raise ValueError(f"head_dim {head_dim} must be even")
    pos = list(range(seq)) if positions is None else [int(p) for p in positions]
    if len(pos) != seq:
        raise ValueError(f"{len(pos)} positions for seq {seq}")
    inv = rope_inv_freq(head_dim, theta, rope_scaling)
    ang = [[p * f for f in inv] for p in pos]
    c = torch.tensor([[math.cos(a) * attention_scaling for a in row] * 2 for row in ang],
                     dtype=torch.float64).reshape(seq, head_dim)
    s = torch.tensor([[math.sin(a) * attention_scaling for a in row] * 2 for row in ang],
                     dtype=torch.float64).reshape(seq, head_dim)
    return to_fixed(c, scale, name="rope cos"), to_fixed(s, scale, name="rope sin")


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(−x₂, x₁) on the last axis."""
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_output_bound(x: Bound, scale: int) -> Bound:
    """Bound of Y for X in ``x`` and tables at ``scale`` (|cos|, |sin| ≤ 2^scale)."""
    m = 2 * x.max_abs * (1 << scale)
    return Bound(-m, m)


def _rot(E, u: np.ndarray, seq: int, d: int, transpose: bool) -> np.ndarray:
    """R(u) (or Rᵀ(u)) of a flat challenge-field table over (seq, d)."""
    v = u.reshape((seq, 2, d // 2) + E.elem_shape)
    out = np.empty_like(v)
    if transpose:  # Rᵀ(u) = (u₂, −u₁)
        out[:, 0], out[:, 1] = v[:, 1], E.neg(v[:, 0])
    else:          # R(u) = (−u₂, u₁)
        out[:, 0], out[:, 1] = E.neg(v[:, 1]), v[:, 0]
    return out.reshape(u.shape)


class Rope(Op):
    """RoPE / its transpose (module doc).  Inputs (X, cos, sin); param ``transpose``."""

    name = "rope"
    input_roles = ("X", *(Role(r, "public", lambda s, p: s["X"][-2:]) for r in ("cos", "sin")))
    output_roles = (Role("Y", shape="X"),)
    #: zero knowledge: a blinded claim on Y ends in the einsum's hidden sumcheck over z
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:
        transpose: bool = param("bool", default=False, doc="apply Rᵀ (the backward)")

    def forward(self, node, inputs):
        x, c, s = inputs
        m = (int(x.abs().max()) if x.numel() else 0) * (int(c.abs().max()) + int(s.abs().max()))
        if m > SAFE_MAX:
            raise ProverError(f"op {node.name}: result may reach {m}, outside the safe range")
        if self.params(node).transpose:
            return [x * c - rotate_half(x * s)]
        return [x * c + rotate_half(x) * s]

    def validate(self, node, p, specs):
        xs = specs[node.inputs[0]].shape
        if len(xs) < 2 or xs[-1] < 2:
            raise ValueError(f"rope needs X (…, seq, head_dim), got {xs}")

    def _kernel(self, ctx, node, r_sd, seq, d):
        """The public table K (module doc)."""
        E = ctx.E
        _, C, S = node.inputs
        c = E.from_ints(ctx.publics[C].reshape(-1))
        s = E.from_ints(ctx.publics[S].reshape(-1))
        eq = mle.eq_table(E, r_sd)
        if self.params(node).transpose:
            return E.add(E.mul(eq, c), E.mul(s, _rot(E, eq, seq, d, transpose=False)))
        return E.add(E.mul(eq, c), _rot(E, E.mul(eq, s), seq, d, transpose=True))

    def relations(self, ctx, node, out_claims):
        """v = Σ_z FX(z)·K(z) with the public kernel K (module doc): the einsum
        "lz,z->l" at r_lead, one sumcheck over z."""
        (c,) = out_claims.values()
        E = ctx.E
        X = ctx.spec(node.inputs[0])
        seq, d = X.shape[-2:]
        m = mle.num_vars((seq, d))
        k = self._kernel(ctx, node, c.point[:m], seq, d)
        # zero knowledge: the claim's blind goes with its value to the einsum's point
        ctx.register_blind(c.point[m:], c.value, ctx.blind_of(c.point, c.value))
        return einsum(ctx, node.name, "lz,z->l", [node.inputs[0], Public(
            lambda: k, lambda p: mle.evaluate(E, k, p))], c.point[m:], c.value,
            sizes={"l": X.size // (seq * d), "z": seq * d})


@hookimpl
def zk_ops():
    return [Rope()]


@hookimpl
def zk_builders():
    return [Builder("rope.tables", rope_tables,
                    "the public (cos, sin) tables of RoPE at a scale (rope_tables)")]
