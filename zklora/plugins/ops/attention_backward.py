"""Backward pass of causal softmax attention with grouped-query heads.

Forward (`zklora.plugins.ops.softmax.add_attention`), per head h with K/V head
h // G (G = H/Hkv): Z = Q·Kᵀ (scale 2s), P = softmax(κ·Z/2^(s+shift) + mask) (scale
s, the committed ``{attn}/softmax/P``), O = P·V rescaled to s.  The real score is
c·(Q·Kᵀ)_real with c = κ·2^(s − shift) (= 1/√dh, exactly as the forward computes it).

Backward, gradients at the scale sg of dO (24 by default), activations at s
(`attention_backward_forward` is the integer specification, `add_attention_backward`
the graph):

    dPraw = dO·Vᵀ                          gqa_matmul (transpose_w), scale sg + s
    dP    = ⌊(dPraw + 2^(s−1)) / 2^s⌋        rescale, scale sg
    u_i   = Σ_j P_ij·dP_ij,   ū_i = ⌊(u_i + 2^(s−1)) / 2^s⌋          (rowsum(dP ⊙ P), sg)
    W_ij  = κ·P_ij·(dP_ij − ū_i),   dZ_ij = ⌊(W_ij + 2^(k−1)) / 2^k⌋,  k = shift
    dQraw = dZ·K                           gqa_matmul, then dQ = rescale(dQraw, s)
    dKraw = Σ_{h∈group} dZ_hᵀ·Q_h           matmul (transpose_a) on group views, then rescale
    dVraw = Σ_{h∈group} P_hᵀ·dO_h           matmul (transpose_a) on group views, then rescale

dZ is the gradient with respect to the real product Q·Kᵀ at scale sg: the softmax
backward P ⊙ (dP − rowsum(dP ⊙ P)) times the forward's c, both in one rounding
(κ·W/2^shift = c·W/2^s).  Masked entries have P = 0 (proven by the forward), so they
contribute nothing and get dZ = 0.  The group sums of dK and dV are plain batched
matmuls: a (B, H, T, d) tensor viewed as (B, Hkv, G·T, d) (a free ``transpose`` node
with identity axes, §3.2) has the group's heads as its contraction rows.

The one new op is ``softmax_backward`` (inputs P, dP; outputs dZ, R_z, ū, R_u, all
committed).  Relations, one batched zero-check over every entry x = (j, i) (degree 3;
τ, τ_r, α fresh challenges; L = 2^Lb the row length):

    (Z)  Σ_x eq(τ, x)·[κ·P·dP − κ·P·ū − 2^k·dZ − R_z + 2^(k−1)] = 0
    (U)  Σ_x eq(τ_r, i)·[P·dP − 2^(−Lb)·(2^s·ū + R_u − 2^(s−1))] = 0
         (= Σ_i eq(τ_r, i)·[u_i − 2^s·ū_i − R_u_i + 2^(s−1)], a row zero-check)

ranges: R_z ∈ [0, 2^k), R_u ∈ [0, 2^s), dZ and ū within their declared bounds.  With
P ∈ [0, 2^(s+1)) (the forward's range check) and dP within its declared bound (its
rescale's range check), every side of (Z) and (U) is an integer below p/2
(`check_softmax_backward_bounds`, run by the builder and by both sides of the op), so
both hold over the integers and (dZ, R_z), (ū, R_u) are the unique rounded quotients.
"""

from __future__ import annotations

import numpy as np
import torch

from zklora.zkcore import mle, quant
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op
from zklora.zkcore.quant import SAFE_MAX
from zklora.zkcore.range import prove_range, verify_range

from .softmax import (
    LIMB,
    inv_pow2,
    prove_relations,
    repeat_last,
    score_scaling,
    shape_error,
    verify_relations,
)

ROLES = ("dZ", "dZ_r", "ubar", "ubar_r")


# -- helpers shared with the cross-entropy backward ------------------------------------


def pow2_bound(max_abs: int) -> tuple[int, int]:
    """The smallest (−2^(b−1), 2^(b−1) − 1) ⊇ [−max_abs, max_abs]: a power-of-two
    width, so its range check is one-sided (full limbs plus one narrower top limb)."""
    b = int(max_abs).bit_length() + 1
    return (-(1 << (b - 1)), (1 << (b - 1)) - 1)


def max_abs(bound: tuple[int, int] | None, what: str) -> int:
    if bound is None:
        raise ConfigError(f"{what} needs a declared bound")
    return max(abs(int(bound[0])), abs(int(bound[1])))


def check_fits(node: str, what: str, value: int, limit: int = SAFE_MAX) -> None:
    """ConfigError naming ``node`` unless ``value`` < ``limit`` (p/2 of the field, or
    the int64/Goldilocks safe range)."""
    if value >= limit:
        raise ConfigError(f"{node}: {what} may reach ≈2^{value.bit_length()}, not below "
                          f"the safe bound ≈2^{limit.bit_length()}; lower the declared "
                          "bounds or the scales")


# -- softmax backward: integer specification ---------------------------------------------


def softmax_backward_forward(p: torch.Tensor, dp: torch.Tensor, *, scale: int, kappa: int,
                             shift: int) -> dict[str, torch.Tensor]:
    """(dZ, dZ_r, ubar, ubar_r) of the module doc, by role."""
    p = p.to(torch.int64)
    dp = dp.to(torch.int64)
    u = (p * dp).sum(-1)
    ub, ur = quant.rescale(u, scale)
    w = int(kappa) * p * (dp - ub[..., None])
    dz, zr = quant.rescale(w, shift)
    return {"dZ": dz, "dZ_r": zr, "ubar": ub, "ubar_r": ur}


def check_softmax_backward_bounds(node: str, *, scale: int, kappa: int, shift: int,
                                  row_len: int, dp: int, ubar: int, dz: int,
                                  limit: int = SAFE_MAX) -> None:
    """Every side of (Z) and (U) below ``limit`` for P < 2^(s+1) and |dP| ≤ dp,
    |ū| ≤ ubar, |dZ| ≤ dz (declared, range-checked bounds)."""
    s, k = scale, shift
    p_max = 1 << (s + 1)
    check_fits(node, "rowsum(P·dP)", row_len * p_max * dp + (1 << s) * (ubar + 1), limit)
    check_fits(node, "κ·P·(dP − ū)", abs(kappa) * p_max * (dp + ubar) + (1 << k) * (dz + 1),
               limit)


class SoftmaxBackward(Op):
    """dZ = round(κ·P ⊙ (dP − round(rowsum(P ⊙ dP)/2^s)) / 2^shift) (module doc).

    Inputs (P, dP), shape (…, rows, L); outputs (dZ, dZ_r, ubar, ubar_r), ubar and
    ubar_r of shape (…, rows); params ``scale``, ``kappa``, ``shift``, ``limb_bits``.
    """

    name = "softmax_backward"

    def forward(self, node, inputs):
        p = node.params
        out = softmax_backward_forward(inputs[0], inputs[1], scale=int(p["scale"]),
                                       kappa=int(p["kappa"]), shift=int(p["shift"]))
        return [out[r] for r in ROLES]

    def _layout(self, ctx, node):
        prm = node.params
        s, kappa, k = int(prm["scale"]), int(prm["kappa"]), int(prm["shift"])
        lb = int(prm.get("limb_bits", LIMB))
        if len(node.inputs) != 2 or len(node.outputs) != len(ROLES):
            raise shape_error(ctx, f"op {node.name}: softmax_backward takes (P, dP) and "
                              f"has {len(ROLES)} outputs")
        if not 1 <= s <= 30 or not 1 <= k <= 62 or kappa == 0 or not 1 <= lb <= 16:
            raise shape_error(ctx, f"op {node.name}: bad parameters")
        P, dP = node.inputs
        xs = tuple(ctx.spec(P).shape)
        names = dict(zip(ROLES, node.outputs))
        if len(xs) < 1 or tuple(ctx.spec(dP).shape) != xs:
            raise shape_error(ctx, f"op {node.name}: P and dP must have the same shape")
        for r, n in names.items():
            spec = ctx.spec(n)
            want = xs[:-1] if r.startswith("ubar") else xs
            if tuple(spec.shape) != want or spec.kind != "committed" or spec.bound is None:
                raise shape_error(ctx, f"op {node.name}: output {n} must be committed, of "
                                  f"shape {want}, with a declared bound")
        try:
            check_softmax_backward_bounds(
                node.name, scale=s, kappa=kappa, shift=k, row_len=int(xs[-1]),
                dp=max_abs(ctx.spec(dP).bound, f"{node.name}: input {dP}"),
                ubar=max_abs(ctx.spec(names["ubar"]).bound, names["ubar"]),
                dz=max_abs(ctx.spec(names["dZ"]).bound, names["dZ"]),
                limit=ctx.F.p // 2)
        except ConfigError as e:
            raise shape_error(ctx, str(e)) from None
        Lb = mle.log2_exact(int(xs[-1]))
        return s, kappa, k, lb, P, dP, names, Lb, mle.num_vars(xs)

    @staticmethod
    def _relations(E, s, kappa, k, Lb):
        inv = inv_pow2(E, Lb)
        zero = E.scalar(0)
        rz = [(kappa, ("eq", "P", "dP")), (-kappa, ("eq", "P", "ubar")),
              (-(1 << k), ("eq", "dZ")), (-1, ("eq", "dZ_r")), (1 << (k - 1), ("eq",))]
        ru = [(1, ("eqt", "P", "dP")), (E.mul(inv, E.scalar(-(1 << s))), ("eqt", "ubar")),
              (E.neg(inv), ("eqt", "ubar_r")),
              (E.mul(inv, E.scalar(1 << (s - 1))), ("eqt",))]
        return [(rz, zero), (ru, zero)]

    def _ranges(self, ctx, node, s, k, lb, names, prove):
        rng = prove_range if prove else verify_range
        for r, (lo, hi) in (("dZ", ctx.spec(names["dZ"]).bound), ("dZ_r", (0, (1 << k) - 1)),
                            ("ubar", ctx.spec(names["ubar"]).bound),
                            ("ubar_r", (0, (1 << s) - 1))):
            rng(ctx, names[r], int(lo), int(hi), label=f"{node.name}/{r}", limb_bits=lb)

    @staticmethod
    def _claims(ctx, P, dP, names, point, finals, Lb):
        rows = point[Lb:]
        out = [ctx.claim(P, point, finals["P"]), ctx.claim(dP, point, finals["dP"]),
               ctx.claim(names["dZ"], point, finals["dZ"]),
               ctx.claim(names["dZ_r"], point, finals["dZ_r"]),
               ctx.claim(names["ubar"], rows, finals["ubar"]),
               ctx.claim(names["ubar_r"], rows, finals["ubar_r"])]
        return out

    def prove(self, ctx, node, out_claims):
        s, kappa, k, lb, P, dP, names, Lb, n = self._layout(ctx, node)
        E = ctx.E
        L = 1 << Lb
        tau = ctx.ch.challenges(f"{node.name}/tau", E, n)
        tau_r = ctx.ch.challenges(f"{node.name}/tau_rows", E, n - Lb)
        tabs = {"eq": mle.eq_table(E, tau), "eqt": repeat_last(E, mle.eq_table(E, tau_r), L),
                "P": ctx.ext_table(P), "dP": ctx.ext_table(dP)}
        for r in ("dZ", "dZ_r"):
            tabs[r] = ctx.ext_table(names[r])
        for r in ("ubar", "ubar_r"):
            tabs[r] = repeat_last(E, ctx.ext_table(names[r]), L)
        point, finals = prove_relations(ctx, f"{node.name}/softmax_backward", tabs,
                                        self._relations(E, s, kappa, k, Lb), ["eq", "eqt"])
        claims = self._claims(ctx, P, dP, names, point, finals, Lb)
        self._ranges(ctx, node, s, k, lb, names, prove=True)
        return claims

    def verify(self, ctx, node, out_claims):
        s, kappa, k, lb, P, dP, names, Lb, n = self._layout(ctx, node)
        E = ctx.E
        tau = ctx.ch.challenges(f"{node.name}/tau", E, n)
        tau_r = ctx.ch.challenges(f"{node.name}/tau_rows", E, n - Lb)
        pub = {"eq": lambda p: mle.eq_eval(E, tau, p),
               "eqt": lambda p: mle.eq_eval(E, tau_r, p[Lb:])}
        point, finals = verify_relations(ctx, f"{node.name}/softmax_backward", n,
                                         self._relations(E, s, kappa, k, Lb), pub)
        claims = self._claims(ctx, P, dP, names, point, finals, Lb)
        self._ranges(ctx, node, s, k, lb, names, prove=False)
        return claims


# -- the whole attention backward ---------------------------------------------------------


def attention_backward_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                               p: torch.Tensor, do: torch.Tensor, *, scale: int = 16,
                               kappa: int | None = None, shift: int | None = None
                               ) -> dict[str, torch.Tensor]:
    """The integer backward of `add_attention_backward` (module doc): dQ, dK, dV (and
    dP, dZ, ubar) at dO's scale.  q (B, H, T, dh); k, v (B, Hkv, T, dh); p (B, H, T, T)
    the forward's P; do (B, H, T, dh).  κ and shift default to the forward's
    (`score_scaling`)."""
    if kappa is None or shift is None:
        kappa, shift, _ = score_scaling(int(q.shape[-1]), scale)
    B, H, T, dh = q.shape
    Hkv = k.shape[1]
    G = H // Hkv
    s = scale
    dp = quant.rescale(torch.matmul(do, v.repeat_interleave(G, 1).transpose(-1, -2)), s)[0]
    sb = softmax_backward_forward(p, dp, scale=s, kappa=kappa, shift=shift)
    dz = sb["dZ"]
    dq = quant.rescale(torch.matmul(dz, k.repeat_interleave(G, 1)), s)[0]

    def group_t(a, b):  # Σ_{h∈group} a_hᵀ·b_h, (B, Hkv, T, ·)
        a = a.reshape(B, Hkv, G * T, -1)
        b = b.reshape(B, Hkv, G * T, -1)
        return torch.matmul(a.transpose(-1, -2), b)

    dk = quant.rescale(group_t(dz, q), s)[0]
    dv = quant.rescale(group_t(p, do), s)[0]
    return {"dQ": dq, "dK": dk, "dV": dv, "dP": dp, "dZ": dz, "ubar": sb["ubar"]}


def _rescaled(g, name: str, X: str, shift: int, bound: tuple[int, int]) -> str:
    """``{name}`` = X/2^shift rounded (committed, ``bound``), remainder ``{name}_r``."""
    shape = g.tensors[X].shape
    y = g.tensor(name, shape, "committed", bound)
    r = g.tensor(f"{name}_r", shape, "committed", (0, (1 << shift) - 1))
    g.op("rescale", f"{name}/rescale", [X], [y, r], shift=int(shift))
    return y


def _group_view(g, name: str, X: str, hkv: int) -> str:
    """X (B, H, T, d) viewed as (B, Hkv, G·T, d): a free identity ``transpose``."""
    B, H, T, d = g.tensors[X].shape
    if H == hkv:
        return X
    y = g.tensor(name, (B, hkv, (H // hkv) * T, d), "virtual", g.tensors[X].bound)
    g.op("transpose", name, [X], [y], axes=[0, 1, 2, 3], view=[B, H, T, d],
         out=[B, hkv, (H // hkv) * T, d])
    return y


def _softmax_params(g, P: str, scale: int, dh: int, kappa, shift) -> tuple[int, int]:
    """κ and shift of the forward softmax that produced P (or the given ones)."""
    node = g.producer(P)
    if node is not None and node.op == "softmax":
        prm = node.params
        if int(prm["scale"]) != scale:
            raise ConfigError(f"attention backward: P's softmax has scale {prm['scale']}, "
                              f"the activations {scale}")
        fk, fs = int(prm["kappa"]), int(prm["shift"])
        if (kappa is not None and kappa != fk) or (shift is not None and shift != fs):
            raise ConfigError("attention backward: κ/shift differ from P's softmax node")
        return fk, fs
    if kappa is None or shift is None:
        kappa, shift, _ = score_scaling(dh, scale)
    return int(kappa), int(shift)


def add_attention_backward(g, name: str, Q: str, K: str, V: str, P: str, dO: str, *,
                           scale: int = 16, kappa: int | None = None,
                           shift: int | None = None, limb_bits: int = LIMB,
                           bounds: dict[str, tuple[int, int]] | None = None
                           ) -> tuple[str, str, str]:
    """Add the attention backward (module doc); returns (dQ, dK, dV), committed, at
    dO's scale, named ``{name}/dQ`` etc.

    Q (B, H, T, dh), K/V (B, Hkv, T, dh) at ``scale`` (after RoPE: the caller applies
    RoPE's backward to dQ, dK), P (B, H, T, T) the forward softmax's committed output
    (``{attn}/softmax/P`` of `add_attention`; its node gives κ and shift, else pass
    them), dO (B, H, T, dh) the gradient of the attention output before its rescale.
    Q, K, V and dO need declared bounds; the derived bounds (worst case, widened to
    whole ``limb_bits`` limbs) can be overridden by ``bounds`` {role: (lo, hi)} for the
    roles dP, ubar, dZ, dQ, dK, dV.  Raises ConfigError naming the node when a
    relation could reach p/2 ≈ 2^63.
    """
    B, H, T, dh = g.tensors[Q].shape
    Bk, Hkv, Tk, dk = g.tensors[K].shape
    if (Bk, Tk, dk) != (B, T, dh) or tuple(g.tensors[V].shape) != (B, Hkv, T, dh) or \
            tuple(g.tensors[dO].shape) != (B, H, T, dh) or \
            tuple(g.tensors[P].shape) != (B, H, T, T) or H % Hkv:
        raise ConfigError(f"attention backward {name}: shapes Q {g.tensors[Q].shape}, K "
                          f"{g.tensors[K].shape}, V {g.tensors[V].shape}, P "
                          f"{g.tensors[P].shape}, dO {g.tensors[dO].shape} do not agree")
    s, lb, G = scale, limb_bits, H // Hkv
    kappa, shift = _softmax_params(g, P, s, dh, kappa, shift)
    mq, mk, mv, mdo = (max_abs(g.tensors[t].bound, f"attention backward {name}: {t}")
                       for t in (Q, K, V, dO))
    over = dict(bounds or {})
    half = 1 << (s - 1)

    def declared(role, worst):
        check_fits(f"{name}/{role}", f"the product before the rescale of {role}", worst)
        return tuple(over.get(role, pow2_bound(((worst + half) >> s) + 1)))

    # dP = dO·Vᵀ / 2^s
    dpr = g.tensor(f"{name}/dPraw", (B, H, T, T), "virtual")
    g.op("gqa_matmul", f"{name}/dov", [dO, V], [dpr], transpose_w=True)
    dP = _rescaled(g, f"{name}/dP", dpr, s, declared("dP", dh * mdo * mv))
    mdp = max_abs(g.tensors[dP].bound, dP)
    # softmax backward
    ub = tuple(over.get("ubar", pow2_bound(mdp + 1)))
    dz_worst = ((abs(kappa) * (1 << s) * (mdp + max_abs(ub, "ubar")) + (1 << (shift - 1)))
                >> shift) + 1
    dzb = tuple(over.get("dZ", pow2_bound(dz_worst)))
    check_softmax_backward_bounds(f"{name}/softmax_backward", scale=s, kappa=kappa,
                                  shift=shift, row_len=T, dp=mdp, ubar=max_abs(ub, "ubar"),
                                  dz=max_abs(dzb, "dZ"))
    outs = [g.tensor(f"{name}/dZ", (B, H, T, T), "committed", dzb),
            g.tensor(f"{name}/dZ_r", (B, H, T, T), "committed", (0, (1 << shift) - 1)),
            g.tensor(f"{name}/ubar", (B, H, T), "committed", ub),
            g.tensor(f"{name}/ubar_r", (B, H, T), "committed", (0, (1 << s) - 1))]
    g.op("softmax_backward", f"{name}/softmax_backward", [P, dP], outs, scale=s,
         kappa=kappa, shift=shift, limb_bits=lb)
    dZ = outs[0]
    mdz = max_abs(dzb, "dZ")
    # dQ = dZ·K / 2^s
    dqr = g.tensor(f"{name}/dQraw", (B, H, T, dh), "virtual")
    g.op("gqa_matmul", f"{name}/dzk", [dZ, K], [dqr])
    dQ = _rescaled(g, f"{name}/dQ", dqr, s, declared("dQ", T * mdz * mk))
    # dK = Σ_group dZᵀ·Q / 2^s,  dV = Σ_group Pᵀ·dO / 2^s
    dkr = g.tensor(f"{name}/dKraw", (B, Hkv, T, dh), "virtual")
    g.op("matmul", f"{name}/dzq", [_group_view(g, f"{name}/dZ_view", dZ, Hkv),
                                   _group_view(g, f"{name}/Q_view", Q, Hkv)], [dkr],
         transpose_a=True)
    dK = _rescaled(g, f"{name}/dK", dkr, s, declared("dK", G * T * mdz * mq))
    dvr = g.tensor(f"{name}/dVraw", (B, Hkv, T, dh), "virtual")
    g.op("matmul", f"{name}/pdo", [_group_view(g, f"{name}/P_view", P, Hkv),
                                   _group_view(g, f"{name}/dO_view", dO, Hkv)], [dvr],
         transpose_a=True)
    dV = _rescaled(g, f"{name}/dV", dvr, s, declared("dV", G * T * (1 << (s + 1)) * mdo))
    return dQ, dK, dV


@hookimpl
def zk_ops():
    return [SoftmaxBackward()]
