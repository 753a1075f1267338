"""RMSNorm backward: dX (and optionally dγ) from dY, in fixed point, by composition.

The forward (`zklora.plugins.ops.rmsnorm.add_rmsnorm`, name ``fwd``) computes
y = γ ⊙ n with n = x·r, r = rsqrt(mean(x²) + ε) = rM·H per row (rM the mantissa
rsqrt, H = 2^(shift−e) a looked-up power of two), and commits rM, H and n =
``{fwd}/xr`` (scale s).  With h = γ ⊙ dy and d the hidden size, the full gradient

    dx = r·(γ⊙dy) − x·r³/d·Σ_i (γ⊙dy⊙x)_i  =  r·(h − n·c),   c = (1/d)·Σ_i h_i·n_i

(per row; x·r³·Σ(h⊙x) = (x·r)·Σ(h⊙(x·r))·r) is evaluated from the committed n, rM, H.
Using n = x·r instead of r³ keeps every intermediate bounded (r alone spans
2^s_r/√ε — it is large exactly on rows of small x — and r³ would not fit the field,
while ‖n‖₂ ≤ √d·2^s on every row), and multiplying by r as rM (≥ 2^13, ≤ 2^15) first,
rescaled by k bits, then by H keeps r·u's large dynamic range out of one product.

`add_rmsnorm_backward` builds these nodes (dY (…, d) at the gradient scale s_g, γ (d,)
at s; all generic registered ops — nothing new to trust):

    h2 = dY ⊙ γ                      hadamard (γ broadcast)           s_g + s
    h  = rescale(h2, s)              committed ``{name}/h``           s_g
    t  = Σ_i h_i·n_i  (…, 1)         row dot product: the einsum "…oj,…oj->…o" (o the
                                     size-1 axis); its sumcheck Σ_{b,j} eq(r_b, b)·h̃·ñ
                                     is the hadamard-with-eq shape         s_g + s
    c  = rescale(t, s + log2 d)      committed ``{name}/c`` (…, 1)    s_g   (the mean;
                                     d not a power of two: c0 = rescale(t, s + l),
                                     c = rescale(m·c0, 20), `mean_constants`)
    nc = rescale(n ⊙ c, s)           committed ``{name}/nc``          s_g
    u  = h − nc                      sub (virtual)                    s_g
    w  = rescale(rM ⊙ u, k)          committed ``{name}/w``           s_g + K' − … (mantissa)
    dX = rescale(w ⊙ H, s_r − k)     committed ``{name}/dX``          s_g

with k = `mant_shift` (12 at the defaults: rM ≥ 2^13, so w keeps ≥ 1 more bit than u
and the extra rounding costs at most half a unit of u), raised only when w·H would not
fit (`rmsnorm_backward_bounds`; 16384-wide deep layers).  d is the true hidden size
(the forward's ``count``): padded columns of x are zero, so n is zero there.
With ``dgamma=True`` also dγ_j = Σ_rows dy·n: the einsum "…j,…j->j" and
``{name}/dgamma`` = rescale(·, s) at s_g.

Integer definition (the spec; every rescale is `zklora.zkcore.quant.rescale`, X/2^k
rounded half up): h = ⌊(dY·γ + 2^(s−1))/2^s⌋;  c = ⌊(Σ_i h_i n_i + 2^(s+l−1))/2^(s+l)⌋
(l = log2 d; else c = ⌊m·c0/2^20⌉ with c0 that value at l = ⌊log2 d⌋);
nc = ⌊(n·c + 2^(s−1))/2^s⌋;  u = h − nc;  w = ⌊(rM·u + 2^(k−1))/2^k⌋;
dX = ⌊(w·H + 2^(s_r−k−1))/2^(s_r−k)⌋;  dγ = ⌊(Σ_rows dY·n + 2^(s−1))/2^s⌋.

Declared bounds (`rmsnorm_backward_bounds`, checked at graph-build time; one that does
not fit below p/2 is a `ConfigError` naming the tensor): dY's declared (or derived)
bound, γ's (default |γ| < 2^(s+6) as the forward assumes), n's, rM's and H's from the
forward.  Some bounds use that rM, H and n are *pinned* by X (the forward proves them
equal to the spec values, so no other values are accepted): r = rM·H ≤ √N·2^(K−K')/√E0·
(1 + 2^−L) (`r_pinned_max`), ‖n‖₂ ≤ 2^s·√d·(1 + [k>0]·√D/(2√E0))·(1 + 2^−L) + √D/2
(`n_pinned_norm`; k the forward's pre-shift, D the padded width), hence
|t| ≤ √D·max|h|·‖n‖₂ (so |c| ≲ |t|/(d·2^s), via the rescales), and |w·H| ≤
r_pin·max|u|/2^k + 2^(shift−1).  The rest are products of range-checked bounds.
With `TIGHT_BOUNDS` (issue 13 study, proof-changing, off by default) nc's and u's bounds
(and so w's) are `projected_bounds` — about half — with k still chosen from the old
bound of u, so the integer definition is unchanged (docs/soundness.md §3.5).
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from zklora.zkcore.build import Builder, builder, declared_bound, find_node, rescale_node
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.quant import SAFE_MAX, Bound, check_bound_fits, product_bound

#: the forward's `RsqrtPlan` (rmsnorm plugin), fetched by ``builder("rmsnorm.plan")``
RsqrtPlan = Any

# -- reductions: one einsum each ---------------------------------------------------------


def add_axis_dot(g: Graph, name: str, A: str, B: str, rows: bool) -> str:
    """``{name}`` (virtual) = Σ_j A[…, j]·B[…, j] (…, 1) if ``rows``, else Σ_rows
    A[rows, j]·B[rows, j] (k,), for A, B (…, k): one generic ``einsum`` node (its
    sumcheck Σ eq(r, ·)·Ã·B̃ over the shared letters, degree 3)."""
    shape = tuple(g.tensors[A].shape)
    if tuple(g.tensors[B].shape) != shape:
        raise ConfigError(f"{name}: operands {A} {shape} and {B} {g.tensors[B].shape} differ")
    lead = "abcdefghi"[:len(shape) - 1]
    sizes = dict(zip(lead, shape[:-1])) | {"o": 1, "j": shape[-1]}
    out, spec = ((shape[:-1] + (1,), f"{lead}oj,{lead}oj->{lead}o") if rows
                 else ((shape[-1],), f"{lead}j,{lead}j->j"))
    y = g.tensor(name, out, "virtual")
    g.op("einsum", name, [A, B], [y], spec=spec, sizes=sizes)
    return y


# -- bounds -----------------------------------------------------------------------------


def r_pinned_max(pl: RsqrtPlan) -> int:
    """Largest r the forward accepts: r = rM·H ≤ √N·2^(K−K')/√(P·M) and P·M ≥ V·(1 −
    2^−L) ≥ E0·(1 − 2^−L), so r ≤ r_const/√E0·(1 + 2^−L) (+2 for float slack)."""
    r = pl.r_const / math.sqrt(pl.e0) * (1 + 2.0 ** -pl.mant_bits)
    return min(pl.r_max, math.floor(r) + 2)


def n_pinned_norm(pl: RsqrtPlan) -> int:
    """Bound on the ℓ2 norm of a row of n = round(x·r/2^s_r) (D entries, true size d,
    pre-shift k): ‖x‖₂ ≤ 2^k·(‖x'‖₂ + [k>0]·√D/2) and ‖x'‖₂ ≤ √V, r ≤ 2^(s+s_r−k)·√d/
    √(V·(1 − 2^−L)), so r·‖x‖₂/2^s_r ≤ 2^s·√d·(1 + [k>0]·√D/(2√E0))·(1 + 2^−L), plus
    ½ per entry."""
    pad = math.sqrt(pl.d) / (2 * math.sqrt(pl.e0)) if pl.pre_shift else 0.0
    core = (1 << pl.scale) * math.sqrt(pl.n_true) * (1 + pad) * (1 + 2.0 ** -pl.mant_bits)
    return math.ceil(core + 0.5 * math.sqrt(pl.d)) + 1


def mant_shift(pl: RsqrtPlan) -> int:
    """k of w = rescale(rM·u, k): rM ≥ rM_min = ⌊√(N'/M_max)⌋ ≥ 2^13 (defaults), so
    dropping k = ⌊log2 rM_min⌋ − 1 bits costs at most half a unit of u in relative terms."""
    rm_min = math.isqrt(pl.n_mant // pl.m_max)
    return max(1, min(rm_min.bit_length() - 2, pl.r_scale - 1))


#: q of the mean's multiplier m = round(2^(q + ⌊log2 d⌋)/d) for a non-power-of-two d
MEAN_BITS = 20


def mean_constants(d: int) -> tuple[int, int]:
    """(l, m) of c = (1/d)·t: l = ⌊log2 d⌋, and m = round(2^(MEAN_BITS + l)/d) ∈
    (2^(MEAN_BITS−1), 2^MEAN_BITS] for a non-power-of-two d (c = ⌊⌊t/2^(s+l)⌉·m/2^q⌉,
    relative error ≤ 2^−(q+1)), m = 1 for d = 2^l (c = ⌊t/2^(s+l)⌉, as always)."""
    l = d.bit_length() - 1
    if d == 1 << l:
        return l, 1
    return l, (2 * (1 << (MEAN_BITS + l)) + d) // (2 * d)


#: issue 13 study (s34h5), proof-changing, off by default: bound nc and u = h − nc by the
#: projection argument (`projected_bounds`) instead of max|n|·max|c| and max|h| + max|nc|
TIGHT_BOUNDS = False


def projected_bounds(h_max: int, n_max: int, n_norm: int, D: int, d: int, s: int
                     ) -> tuple[int, int] | None:
    """(bound of |nc_i|, bound of |u_i|) for d = 2^l, from |h_j| ≤ h_max, |n_i| ≤ n_max,
    ‖n‖₂ ≤ n_norm over the D columns, c = ⌊t/2^(s+l)⌉, t = Σ_j h_j·n_j,
    nc_i = ⌊n_i·c/2^s⌉, u_i = h_i − nc_i.  With K = d·2^(2s), κ = n_norm²/K (≤ 2 needed,
    else None) and a = |n_i|, S = Σ_(j≠i) |n_j| ≤ √(D − 1)·√(κK − a²) (Cauchy–Schwarz):

        |n_i·t| ≤ h_max·(a² + a·S) ≤ h_max·κK·(1 + √D)/2
        |h_i − n_i·t/K| ≤ h_max·(|1 − a²/K| + a·S/K) ≤ h_max·(1 + κ(√D − 1)/2)

    (a = √(κK)·cos θ: a² + a·S ≤ κK·((1 + cos 2θ)/2 + (√(D−1)/2)·sin 2θ); the second
    for κ·cos²θ ≤ 1 is 1 + κ(−cos²θ + √(D−1)·cos θ sin θ) ≤ 1 + κ(√D − 1)/2, else
    ≤ κ(1 + √D)/2 − 1, which is smaller for κ ≤ 2).  The roundings: c = t/(K/2^s) + e_c,
    nc_i = n_i·c/2^s + e, |e_c|, |e| ≤ ½, so each bound gains a/2^(s+1) + ½.  Both are
    about half of max|n|·max|c|/2^s and max|h| + max|nc| (√D·h_max·κ)."""
    K = d << (2 * s)
    kap = (n_norm * n_norm) / K
    if kap > 2:
        return None
    slack = 1 + 1e-9
    rnd = math.ceil(n_max / (1 << (s + 1))) + 1
    nc = math.ceil(h_max * kap * (1 + math.sqrt(D)) / 2 * slack) + rnd
    u = math.ceil(h_max * (1 + kap * (math.sqrt(D) - 1) / 2) * slack) + rnd
    return nc, u


@attrs.frozen
class BackwardBounds:
    """Declared bounds of the backward's tensors (see module doc); ``c0`` is the mean's
    first rescale and ``m`` its multiplier when d is not a power of two (else None, 1)."""

    h2: Bound
    h: Bound
    t: Bound
    c: Bound
    nc2: Bound
    nc: Bound
    u: Bound
    w2: Bound
    w: Bound
    dx2: Bound
    dx: Bound
    k: int
    c0: Bound | None = None
    m: int = 1


def rmsnorm_backward_bounds(name: str, pl: RsqrtPlan, dy: Bound, gamma: Bound, n: Bound,
                            out: Bound | None = None) -> BackwardBounds:
    """Every bound of the backward, each checked to fit the field (`ConfigError`)."""
    D, d, s = pl.d, pl.n_true, pl.scale
    h2 = product_bound(f"{name}/h2", dy, gamma)
    h = check_bound_fits(f"{name}/h", h2.rescaled(s))
    n_norm = n_pinned_norm(pl)
    # |Σ_j h_j·n_j| ≤ ‖h‖₂·‖n‖₂ ≤ √D·max|h|·‖n‖₂ (n is pinned by X)
    t = check_bound_fits(f"{name}/t", Bound.symmetric(
        math.ceil(math.sqrt(D) * h.max_abs * n_norm * (1 + 1e-12)) + 1))
    l, m = mean_constants(d)
    # c = ⌊t/2^(s+l)⌉ (d = 2^l), else ⌊⌊t/2^(s+l)⌉·m/2^q⌉: bounded through t's pinned bound
    c0 = None
    if m == 1:
        c = check_bound_fits(f"{name}/c", t.rescaled(s + l))
    else:
        c0 = check_bound_fits(f"{name}/c0", t.rescaled(s + l))
        c = check_bound_fits(f"{name}/c",
                             check_bound_fits(f"{name}/c2", c0 * m).rescaled(MEAN_BITS))
    n_entry = Bound.symmetric(min(n.max_abs, n_norm))
    nc2 = product_bound(f"{name}/nc2", n_entry, c)
    nc = check_bound_fits(f"{name}/nc", nc2.rescaled(s))
    u = check_bound_fits(f"{name}/u", h - nc)
    u_k = u     # the bound k is chosen by (kept: k is part of the integer definition)
    if TIGHT_BOUNDS and m == 1:
        tight = projected_bounds(h.max_abs, n_entry.max_abs, n_norm, D, d, s)
        if tight is not None:
            nc = Bound.symmetric(min(nc.max_abs, tight[0]))
            u = Bound.symmetric(min(u.max_abs, tight[1]))
    # k = mant_shift(pl) (w keeps ≥ 1 bit more than u), raised only as far as needed for
    # w·H to fit: |w·H| ≤ rM·H·|u|/2^k + H/2 ≤ r_pin·max|u|/2^k + 2^(shift−1) (r = rM·H
    # is pinned) — at 16384-wide deep layers r_pin·max|u| alone can pass 2^63
    for k in range(mant_shift(pl), max(mant_shift(pl) + 1, pl.r_scale)):
        w2 = product_bound(f"{name}/w2", Bound(0, pl.rm_max), u_k)
        w = check_bound_fits(f"{name}/w", w2.rescaled(k))
        pinned = (r_pinned_max(pl) * u_k.max_abs >> k) + (1 << pl.shift) + 1
        dx2 = Bound.symmetric(min(pinned, w.max_abs << pl.shift))
        if dx2.max_abs <= SAFE_MAX:
            break
    if u is not u_k:    # TIGHT_BOUNDS: the same k, w's bound from the tighter u
        w2 = product_bound(f"{name}/w2", Bound(0, pl.rm_max), u)
        w = check_bound_fits(f"{name}/w", w2.rescaled(k))
    dx2 = check_bound_fits(f"{name}/dx2", dx2)
    dx = check_bound_fits(f"{name}/dX", out or dx2.rescaled(pl.r_scale - k))
    return BackwardBounds(h2, h, t, c, nc2, nc, u, w2, w, dx2, dx, k, c0, m)


# -- graph builder ----------------------------------------------------------------------


def add_rmsnorm_backward(g: Graph, name: str, fwd: str, dY: str, *, dgamma: bool = False,
                         dy_bound: Bound | None = None, gamma_bound: Bound | None = None,
                         out_bound: Bound | None = None, dgamma_bound: Bound | None = None
                         ) -> str | tuple[str, str]:
    """dX (and dγ if ``dgamma``) of the RMSNorm declared by ``add_rmsnorm(g, fwd, …)``,
    for the incoming gradient dY (…, d) at the gradient scale s_g; both results at s_g.

    Reads from the graph: r = ``{fwd}/r`` (scale s_r), n = ``{fwd}/xr`` (scale s), γ (the
    second input of node ``{fwd}/y2``) and the plan of node ``{fwd}/rsqrt``.  dY's bound
    is its declared (or derived) one unless ``dy_bound``; γ's likewise, else
    |γ| < 2^(s+6) as the forward assumes; dX's is derived unless ``out_bound``.
    Declares ``{name}/h``, ``{name}/c``, ``{name}/nc``, ``{name}/dX`` (committed, with
    their rescale remainders ``…_R``) and virtual intermediates; returns dX, or
    (dX, ``{name}/dgamma``)."""
    rs_node = find_node(g, f"{fwd}/rsqrt")
    y2_node = find_node(g, f"{fwd}/y2")
    rM, H, n = f"{fwd}/rM", f"{fwd}/H", f"{fwd}/xr"
    gamma = y2_node.inputs[1]
    shape = tuple(g.tensors[n].shape)
    if tuple(g.tensors[dY].shape) != shape:
        raise ConfigError(f"rmsnorm backward {name}: dY {dY} has shape "
                          f"{tuple(g.tensors[dY].shape)}, expected {shape}")
    d = shape[-1]
    pl = builder("rmsnorm.plan")(rs_node, d)
    s = pl.scale
    dyb = dy_bound or declared_bound(g, dY)
    if dyb is None:
        raise ConfigError(f"rmsnorm backward {name}: input {dY} needs a declared bound "
                          "(or dy_bound=)")
    gb = gamma_bound or declared_bound(g, gamma) or Bound.bits(s + 7)
    nb = declared_bound(g, n)
    b = rmsnorm_backward_bounds(name, pl, dyb, gb, nb, out_bound)
    # h, c, nc, w: bounds derived from dY's and γ's declared bounds and the pinned n, rM
    # (`rmsnorm_backward_bounds`): their range checks may be one-sided (``derived``)
    der = dy_bound is None and gamma_bound is None and declared_bound(g, gamma) is not None

    h2 = g.tensor(f"{name}/h2", shape, "virtual")
    g.op("hadamard", f"{name}/h2", [dY, gamma], [h2])
    h = rescale_node(g, f"{name}/h", h2, s, b.h, derived=der)
    t = add_axis_dot(g, f"{name}/t", h, n, rows=True)
    l, _ = mean_constants(pl.n_true)
    if b.c0 is None:
        c = rescale_node(g, f"{name}/c", t, s + l, b.c, derived=der)
    else:  # d not a power of two: c = ⌊⌊t/2^(s+l)⌉·m/2^q⌉
        c0 = rescale_node(g, f"{name}/c0", t, s + l, b.c0, derived=der)
        c2 = g.tensor(f"{name}/c2", g.tensors[c0].shape, "virtual")
        g.op("scale", f"{name}/c2", [c0], [c2], c=int(b.m))
        c = rescale_node(g, f"{name}/c", c2, MEAN_BITS, b.c, derived=der)
    nc2 = g.tensor(f"{name}/nc2", shape, "virtual")
    g.op("hadamard", f"{name}/nc2", [n, c], [nc2])
    nc = rescale_node(g, f"{name}/nc", nc2, s, b.nc, derived=der)
    u = g.tensor(f"{name}/u", shape, "virtual")
    g.op("sub", f"{name}/u", [h, nc], [u])
    w2 = g.tensor(f"{name}/w2", shape, "virtual")
    g.op("hadamard", f"{name}/w2", [rM, u], [w2])
    w = rescale_node(g, f"{name}/w", w2, b.k, b.w, derived=der)
    dx2 = g.tensor(f"{name}/dx2", shape, "virtual")
    g.op("hadamard", f"{name}/dx2", [w, H], [dx2])
    dX = rescale_node(g, f"{name}/dX", dx2, pl.r_scale - b.k, b.dx)
    if not dgamma:
        return dX
    rows = math.prod(shape[:-1])
    dg2b = product_bound(f"{name}/dgamma2", dyb, nb, rows)
    dg2 = add_axis_dot(g, f"{name}/dgamma2", dY, n, rows=False)
    dgb = check_bound_fits(f"{name}/dgamma", dgamma_bound or dg2b.rescaled(s))
    return dX, rescale_node(g, f"{name}/dgamma", dg2, s, dgb)


@hookimpl
def zk_ops():
    """No op of its own: the backward is a composition of registered generic ops."""
    return []


@hookimpl
def zk_builders():
    return [Builder("rmsnorm_backward", add_rmsnorm_backward,
                    "dX (and dγ) of an add_rmsnorm forward (add_rmsnorm_backward)")]
