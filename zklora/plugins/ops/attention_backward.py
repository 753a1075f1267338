"""Backward pass of causal softmax attention with grouped-query heads.

Forward (`zklora.plugins.ops.softmax.add_attention`), per head h with K/V head
h // G (G = H/Hkv): Z = Q·Kᵀ (scale 2s), P = softmax(κ·Z/2^(s+shift) + mask) (scale
s, the committed ``{attn}/softmax/P``), O = P·V rescaled to s.  The real score is
c·(Q·Kᵀ)_real with c = κ·2^(s − shift) (= 1/√dh, exactly as the forward computes it).

Backward, gradients at the scale sg of dO (24 by default), activations at s
(`attention_backward_forward` is the integer specification, `add_attention_backward`
the graph):

    dPraw = dO·Vᵀ                          matmul (transpose_b, group), scale sg + s
    dP    = ⌊(dPraw + 2^(s−1)) / 2^s⌋        rescale, scale sg
    u_i   = Σ_j P_ij·dP_ij,   ū_i = ⌊(u_i + 2^(s−1)) / 2^s⌋          (rowsum(dP ⊙ P), sg)
    V_ij  = P_ij·(dP_ij − ū_i)                                        (scale sg + s)
    κ = 1 (dh a power of 4):  dZ = ⌊(V + 2^(k−1)) / 2^k⌋,  k = shift
    κ ≠ 1:  W = ⌊(V + 2^(s−1)) / 2^s⌋,  dZ = ⌊(κ·W + 2^(k2−1)) / 2^k2⌋,  k2 = shift − s
    dQraw = dZ·K                           matmul (group), then dQ = rescale(dQraw, s)
    dKraw = Σ_{h∈group} dZ_hᵀ·Q_h           einsum "bcgts,bcgtd->bcsd", then rescale
    dVraw = Σ_{h∈group} P_hᵀ·dO_h           einsum "bcgts,bcgtd->bcsd", then rescale

dZ is the gradient with respect to the real product Q·Kᵀ at scale sg: the softmax
backward P ⊙ (dP − rowsum(dP ⊙ P)) times the forward's c (κ·V/2^shift = c·V/2^s).
With κ = 1 that is one rounding; with κ ≈ 2^16/√dh (dh = 8, 32, 128, …) the product
κ·V would pass 2^63, so V is first rounded to W at scale sg (one more committed tensor
and remainder).  Masked entries have P = 0 (proven by the forward), so they contribute
nothing and get dZ = 0.  The group sums of dK and dV are einsums over the (B, Hkv, G,
T, ·) views of their operands (reshapes are free, §3.2): the group's heads and rows are
contracted together, one sumcheck each.

The one new op is ``softmax_backward`` (inputs P, dP; outputs dZ, R_z, ū, R_u and,
for κ ≠ 1, W, R_w, all committed: `sb_roles`).  Relations (entries x = (j, i), row i,
column j; τ_r, τ, α fresh challenges; L = 2^Lb the row length):

    (U)  the row sums u = rowsum(P ⊙ dP) = 2^s·ū + R_u − 2^(s−1): the prover reveals
         ū(τ_r), R_u(τ_r) and the einsum "rl,rl->r" of P and dP is proven at τ_r for
         that value (one degree-3 sumcheck, `zklora.zkcore.einsum`);
    κ = 1:  (Z)   P·dP − P·ū − 2^k·dZ − R_z + 2^(k−1) = 0
    κ ≠ 1:  (Z1)  P·dP − P·ū − 2^s·W − R_w + 2^(s−1) = 0
            (Z2)  κ·W − 2^k2·dZ − R_z + 2^(k2−1) = 0
    κ ≠ 1, fused (whenever κ·P·(dP − ū) fits below the safe bound, e.g. |dP| < 2^28
            with κ ≈ 2^16/√dh; `add_softmax_backward(fused=None)` decides from the
            declared bounds):
            (ZF)  κ·P·dP − κ·P·ū − 2^k·dZ − Σ_j 2^(lb·j)·R_z,j + 2^(k−1) = 0
            i.e. dZ = ⌊(κ·P·(dP − ū) + 2^(k−1)) / 2^k⌋, one rounding instead of W's
            two (as accurate or more: no intermediate rounding), with R_z given by its
            committed lb-bit limbs R_z,j (exact widths, range-checked: R_z ∈ [0, 2^k)):
            no W, W_r, R_z tensors (per score 3 committed tensors and W's range-check
            limbs fewer).  Sound as (Z): every side below p/2
            (`check_softmax_backward_bounds(fused=True)`), so (dZ, R_z) is the unique
            rounded quotient.

at every entry (ū broadcast along the row), by one zero-check Σ_x eq(τ, x)·Σ_k α^k·
Z_k(x) = 0 (degree 3, `zklora.zkcore.relations.vanishes`);
ranges: R_u, R_w ∈ [0, 2^s), R_z ∈ [0, 2^k) (resp. [0, 2^k2)), dZ, ū, W within their
declared bounds.  With P ∈ [0, 2^(s+1)) (the forward's range check) and dP within its
declared bound (its rescale's range check), every side of each relation is an integer
below p/2 (`check_softmax_backward_bounds`, run by the builder and by both sides of
the op), so they hold over the integers and every (quotient, remainder) pair is the
unique rounded quotient.
"""

from __future__ import annotations

import attrs
import torch

from zklora.zkcore import mle, quant
from zklora.zkcore.build import Builder, add_rescale, builder, check_fits, max_abs, pow2_bound
from zklora.zkcore.claims import scale_blind
from zklora.zkcore.einsum import einsum
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.quant import SAFE_MAX
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import LIMB, error, limb_terms, limbs, split_limbs, vanishes

ROLES = ("dZ", "dZ_r", "ubar", "ubar_r")
#: outputs of a fused node (κ ≠ 1, one rounding): dZ_r is defined by its limbs
FUSED_ROLES = ("dZ", "ubar", "ubar_r")


def score_scaling(head_dim: int, scale: int) -> tuple[int, int, int]:
    """(κ, shift, exp_scale) of the forward attention's scores (the softmax plugin's
    builder ``attention.score_scaling``)."""
    return builder("attention.score_scaling")(head_dim, scale)


# -- softmax backward: integer specification ---------------------------------------------


def sb_roles(kappa: int, fused: bool = False, shift: int = 0,
             lb: int = LIMB) -> tuple[str, ...]:
    """Outputs of a ``softmax_backward`` node: with κ ≠ 1 also the intermediate W; fused
    (κ ≠ 1, one rounding by 2^shift): dZ, ū, R_u and the lb-bit limbs dZ_r0, dZ_r1, …
    of R_z."""
    if fused:
        return FUSED_ROLES + tuple(f"dZ_r{i}" for i in range(len(limbs(shift, lb))))
    return ROLES if int(kappa) == 1 else ROLES + ("W", "W_r")


def softmax_backward_forward(p: torch.Tensor, dp: torch.Tensor, *, scale: int, kappa: int,
                             shift: int, fused: bool = False,
                             limb_bits: int = LIMB) -> dict[str, torch.Tensor]:
    """The outputs of the module doc, by role (`sb_roles`; fused: also ``dZ_r``)."""
    p = p.to(torch.int64)
    dp = dp.to(torch.int64)
    u = (p * dp).sum(-1)
    ub, ur = quant.rescale(u, scale)
    w = p * (dp - ub[..., None])
    if int(kappa) == 1:
        dz, zr = quant.rescale(w, shift)
        return {"dZ": dz, "dZ_r": zr, "ubar": ub, "ubar_r": ur}
    if fused:
        dz, zr = quant.rescale(int(kappa) * w, shift)
        out = {"dZ": dz, "dZ_r": zr, "ubar": ub, "ubar_r": ur}
        out |= {f"dZ_r{i}": v for i, v in enumerate(split_limbs(zr, shift, limb_bits))}
        return out
    w1, wr = quant.rescale(w, scale)
    dz, zr = quant.rescale(int(kappa) * w1, shift - scale)
    return {"dZ": dz, "dZ_r": zr, "ubar": ub, "ubar_r": ur, "W": w1, "W_r": wr}


def check_softmax_backward_bounds(node: str, *, scale: int, kappa: int, shift: int,
                                  row_len: int, dp: int, ubar: int, dz: int, w: int = 0,
                                  limit: int = SAFE_MAX, fused: bool = False) -> None:
    """Every side of (U), (Z) / (Z1), (Z2) / (ZF) below ``limit`` for P < 2^(s+1),
    |dP| ≤ dp, |ū| ≤ ubar, |dZ| ≤ dz, |W| ≤ w (declared, range-checked bounds)."""
    s, k = scale, shift
    p_max = 1 << (s + 1)
    check_fits(node, "rowsum(P·dP)", row_len * p_max * dp + (1 << s) * (ubar + 1), limit)
    if fused:
        check_fits(node, "κ·P·(dP − ū)",
                   abs(kappa) * p_max * (dp + ubar) + (1 << k) * (dz + 1), limit)
    elif int(kappa) == 1:
        check_fits(node, "P·(dP − ū)", p_max * (dp + ubar) + (1 << k) * (dz + 1), limit)
    else:
        check_fits(node, "P·(dP − ū)", p_max * (dp + ubar) + (1 << s) * (w + 1), limit)
        check_fits(node, "κ·W", abs(kappa) * w + (1 << (k - s)) * (dz + 1), limit)


class SoftmaxBackward(Op):
    """dZ = round(κ·P ⊙ (dP − round(rowsum(P ⊙ dP)/2^s)) / 2^shift) (module doc); P, dP
    (…, rows, L), outputs `sb_roles` (ubar, ubar_r of shape (…, rows))."""

    name = "softmax_backward"
    input_roles = ("P", Role("dP", shape="P"))
    #: zero knowledge (docs/zero-knowledge.md §5.1): every output is committed (claims
    #: opened, never read here); ū and R_u are masked reveals, the row sum u computed
    #: from them carries their blinds into the einsum's hidden sumcheck, and the
    #: zero-check's finals of tensors in ``ctx.hide`` are hidden (`vanishes`)
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:  # field order: as unpacked by _layout
        scale: int = param("int", lo=1, hi=30, doc="s")
        kappa: int = param("int", lo=1, doc="κ")
        shift: int = param("int", lo=1, hi=62, doc="above s when κ ≠ 1")
        limb_bits: int = param("int", default=LIMB, lo=1, hi=16)
        fused: int = param("int", default=0, lo=0, hi=1, doc="κ ≠ 1: one rounding (ZF)")

    def validate(self, node, p, specs):
        if p.fused and p.kappa == 1:
            raise ValueError("fused needs kappa ≠ 1 (with kappa = 1 there is one rounding)")
        if p.kappa != 1 and p.shift <= p.scale:
            raise ValueError(f"shift {p.shift} must exceed scale {p.scale} when kappa ≠ 1")
        if not specs[node.inputs[0]].shape:
            raise ValueError("P needs a row axis")

    def roles(self, node, p, specs):
        return self.input_roles, tuple(
            Role(r, "committed", (lambda s, p: s["P"][:-1]) if r.startswith("ubar") else "P",
                 bounded=True) for r in self._roles(p))

    @staticmethod
    def _roles(p):
        return sb_roles(p.kappa, bool(p.fused), p.shift, p.limb_bits)

    def forward(self, node, inputs):
        p = self.params(node)
        out = softmax_backward_forward(inputs[0], inputs[1], scale=p.scale, kappa=p.kappa,
                                       shift=p.shift, fused=bool(p.fused),
                                       limb_bits=p.limb_bits)
        return [out[r] for r in self._roles(p)]

    def _layout(self, ctx, node):
        s, kappa, k, lb, fused = attrs.astuple(self.params(node))
        roles = self._roles(self.params(node))
        P, dP = node.inputs
        xs = tuple(ctx.spec(P).shape)
        names = dict(zip(roles, node.outputs))
        try:
            check_softmax_backward_bounds(
                node.name, scale=s, kappa=kappa, shift=k, row_len=int(xs[-1]),
                dp=max_abs(ctx.spec(dP).bound, f"{node.name}: input {dP}"),
                ubar=max_abs(ctx.spec(names["ubar"]).bound, names["ubar"]),
                dz=max_abs(ctx.spec(names["dZ"]).bound, names["dZ"]),
                w=max_abs(ctx.spec(names["W"]).bound, names["W"]) if "W" in names else 0,
                limit=ctx.F.p // 2, fused=bool(fused))
        except ConfigError as e:
            raise error(ctx, str(e)) from None
        Lb = mle.log2_exact(int(xs[-1]))
        return s, kappa, k, lb, P, dP, names, Lb, mle.num_vars(xs)

    @staticmethod
    def _identities(s, kappa, k, P, dP, t, lb=LIMB):
        """(Z), resp. (Z1) and (Z2), resp. (ZF), over tensor names (``t``: by role)."""
        if "dZ_r0" in t:  # (ZF): κ·P·(dP − ū) = 2^k·dZ + Σ_j 2^(lb·j)·R_z,j − 2^(k−1)
            rz = [t[r] for r in t if r.startswith("dZ_r")]
            return [[(kappa, (P, dP)), (-kappa, (P, t["ubar"])), (-(1 << k), (t["dZ"],))]
                    + limb_terms(rz, -1, lb) + [(1 << (k - 1), ())]]
        if kappa == 1:   # (Z): P·(dP − ū) = 2^k·dZ + R_z − 2^(k−1)
            return [[(1, (P, dP)), (-1, (P, t["ubar"])), (-(1 << k), (t["dZ"],)),
                     (-1, (t["dZ_r"],)), (1 << (k - 1), ())]]
        k2 = k - s       # (Z1): P·(dP − ū) = 2^s·W + R_w − 2^(s−1);  (Z2): κ·W → dZ
        return [[(1, (P, dP)), (-1, (P, t["ubar"])), (-(1 << s), (t["W"],)),
                 (-1, (t["W_r"],)), (1 << (s - 1), ())],
                [(kappa, (t["W"],)), (-(1 << k2), (t["dZ"],)), (-1, (t["dZ_r"],)),
                 (1 << (k2 - 1), ())]]

    def range_checks(self, node, p, specs):
        """dZ, ubar (and W) in their declared bounds, the remainders in [0, 2^shift)."""
        s, kappa, k, lb, fused = attrs.astuple(p)
        names = dict(zip(self._roles(p), node.outputs))
        kz = k if kappa == 1 else k - s
        checks = [("dZ", specs[names["dZ"]].bound),
                  ("ubar", specs[names["ubar"]].bound), ("ubar_r", (0, (1 << s) - 1))]
        if fused:    # R_z's limbs, exact widths
            checks += [(f"dZ_r{i}", (0, (1 << w) - 1)) for i, w in enumerate(limbs(k, lb))]
        else:
            checks += [("dZ_r", (0, (1 << kz) - 1))]
        if "W" in names:
            checks += [("W", specs[names["W"]].bound), ("W_r", (0, (1 << s) - 1))]
        return [RangeCheck(names[r], int(lo), int(hi), f"{node.name}/{r}", lb)
                for r, (lo, hi) in checks]

    def relations(self, ctx, node, out_claims):
        """(U) as the einsum rowsum(P ⊙ dP) at a random row point, (Z) (resp. (Z1),
        (Z2)) by one zero-check (module doc); the ranges are `range_checks`."""
        s, kappa, k, lb, P, dP, names, Lb, n = self._layout(ctx, node)
        E = ctx.E
        rows = ctx.challenges(ctx.label(node.name, "rows"), n - Lb)
        vu, vr = ctx.reveal(ctx.label(node.name, "ubar"), [names["ubar"], names["ubar_r"]], rows)
        u = E.sub(E.add(E.mul(E.scalar(1 << s), vu), vr), E.scalar(1 << (s - 1)))
        # masked ū, R_u (zero knowledge): u stands for ũ + 2^s·B_ū + B_r (no blinds: ())
        ctx.register_blind(rows, u, scale_blind(E, ctx.blind_of(rows, vu), E.scalar(1 << s))
                           + tuple(ctx.blind_of(rows, vr)))
        claims = einsum(ctx, node.name, "rl,rl->r", [P, dP], rows, u,
                        sizes={"r": 1 << (n - Lb), "l": 1 << Lb})
        return claims + vanishes(ctx, node.name,
                                 self._identities(s, kappa, k, P, dP, names, lb))


# -- the whole attention backward ---------------------------------------------------------


def q_shift(row_weight: int, mq: int, scale: int) -> int:
    """The k ≥ 0 by which Q is rounded before dK's group sum: the smallest for which
    row_weight times the rounded Q's declared bound, and dK's rescale by 2^(scale−k),
    stay below the safe bound (row_weight = G·T·max|dZ|)."""
    for k in range(scale):
        m = mq if k == 0 else max_abs(pow2_bound(((mq + (1 << (k - 1))) >> k) + 1), "Qs")
        worst, sh = row_weight * m, scale - k
        out = max_abs(pow2_bound(((worst + (1 << (sh - 1))) >> sh) + 1), "dK")
        if worst < SAFE_MAX and (out + 1) << sh < SAFE_MAX:   # the sum, and dK's rescale
            return k
    return scale - 1


def attention_backward_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                               p: torch.Tensor, do: torch.Tensor, *, scale: int = 16,
                               kappa: int | None = None, shift: int | None = None,
                               q_shift_bits: int = 0,
                               fused: bool = False) -> dict[str, torch.Tensor]:
    """The integer backward of `add_attention_backward` (module doc): dQ, dK, dV (and
    dP, dZ, ubar) at dO's scale.  q (B, H, T, dh); k, v (B, Hkv, T, dh); p (B, H, T, T)
    the forward's P; do (B, H, T, dh).  κ and shift default to the forward's
    (`score_scaling`); ``q_shift_bits`` the k of the graph's Q rounding before dK's group
    sum (`q_shift` of the declared bounds; 0 unless a long GQA sequence needs it);
    ``fused``: one rounding of κ·P·(dP − ū) (κ ≠ 1; module doc) — pass the graph's
    choice (`add_softmax_backward` fuses whenever (ZF) fits its declared bounds)."""
    if kappa is None or shift is None:
        kappa, shift, _ = score_scaling(int(q.shape[-1]), scale)
    B, H, T, dh = q.shape
    Hkv = k.shape[1]
    G = H // Hkv
    s = scale
    dp = quant.rescale(torch.matmul(do, v.repeat_interleave(G, 1).transpose(-1, -2)), s)[0]
    sb = softmax_backward_forward(p, dp, scale=s, kappa=kappa, shift=shift, fused=fused)
    dz = sb["dZ"]
    dq = quant.rescale(torch.matmul(dz, k.repeat_interleave(G, 1)), s)[0]

    def group_t(a, b):  # Σ_{h∈group} a_hᵀ·b_h, (B, Hkv, T, ·)
        a = a.reshape(B, Hkv, G * T, -1)
        b = b.reshape(B, Hkv, G * T, -1)
        return torch.matmul(a.transpose(-1, -2), b)

    kq = int(q_shift_bits)
    qs = quant.rescale(q, kq)[0] if kq else q
    dk = quant.rescale(group_t(dz, qs), s - kq)[0]
    dv = quant.rescale(group_t(p, do), s)[0]
    return {"dQ": dq, "dK": dk, "dV": dv, "dP": dp, "dZ": dz, "ubar": sb["ubar"]}


def _rescaled(g, name: str, X: str, shift: int, bound: tuple[int, int]) -> str:
    """``{name}`` = X/2^shift rounded (committed, ``bound``), remainder ``{name}_r``."""
    return add_rescale(g, f"{name}/rescale", X, shift, bound, y=name, r=f"{name}_r")


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


def add_softmax_backward(g, name: str, P: str, dP: str, *, scale: int, kappa: int,
                         shift: int, limb_bits: int = LIMB,
                         bounds: dict[str, tuple[int, int]] | None = None,
                         prefix: str | None = None,
                         fused: bool | None = None) -> dict[str, str]:
    """Add a ``softmax_backward`` node (module doc) for P (…, rows, L) and dP (same
    shape, declared bound); returns {role: tensor}, tensors named ``{prefix}/{role}``
    (prefix defaults to ``name``).  Bounds (worst case for honest values, power-of-two
    widths) may be overridden by ``bounds`` {role: (lo, hi)} for ubar, W, dZ.
    ``fused`` (κ ≠ 1; default: whenever (ZF) fits below the safe bound): one rounding
    κ·P·(dP − ū)/2^shift (ZF) with R_z given by its limbs, instead of W (Z1), (Z2)."""
    s, prefix = scale, prefix or name
    over = dict(bounds or {})
    xs = tuple(g.tensors[P].shape)
    if tuple(g.tensors[dP].shape) != xs:
        raise ConfigError(f"softmax backward {name}: P {xs} and dP "
                          f"{g.tensors[dP].shape} differ")
    mdp = max_abs(g.tensors[dP].bound, f"softmax backward {name}: {dP}")
    ub = tuple(over.get("ubar", pow2_bound(mdp + 1)))
    mub = max_abs(ub, "ubar")
    wb = tuple(over.get("W", pow2_bound(mdp + mub + 1)))
    if kappa == 1:
        dz_worst = (((1 << s) * (mdp + mub) + (1 << (shift - 1))) >> shift) + 1
    else:
        dz_worst = ((kappa * max_abs(wb, "W") + (1 << (shift - s - 1))) >> (shift - s)) + 1
    dzb = tuple(over.get("dZ", pow2_bound(dz_worst)))
    if fused is None:
        fused = kappa != 1 and "W" not in over
        if fused:
            try:
                check_softmax_backward_bounds(name, scale=s, kappa=kappa, shift=shift,
                                              row_len=int(xs[-1]), dp=mdp, ubar=mub,
                                              dz=max_abs(dzb, "dZ"), fused=True)
            except ConfigError:
                fused = False
    if fused and kappa == 1:
        raise ConfigError(f"softmax backward {name}: fused needs κ ≠ 1")
    check_softmax_backward_bounds(name, scale=s, kappa=kappa, shift=shift,
                                  row_len=int(xs[-1]), dp=mdp, ubar=mub,
                                  dz=max_abs(dzb, "dZ"), w=max_abs(wb, "W"),
                                  fused=bool(fused))
    kz = shift if kappa == 1 else shift - s
    spec = {"dZ": (xs, dzb), "dZ_r": (xs, (0, (1 << kz) - 1)),
            "ubar": (xs[:-1], ub), "ubar_r": (xs[:-1], (0, (1 << s) - 1)),
            "W": (xs, wb), "W_r": (xs, (0, (1 << s) - 1))}
    spec |= {f"dZ_r{i}": (xs, (0, (1 << w) - 1))
             for i, w in enumerate(limbs(shift, limb_bits))}
    names = {r: g.tensor(f"{prefix}/{r}", spec[r][0], "committed", spec[r][1])
             for r in sb_roles(kappa, bool(fused), shift, limb_bits)}
    g.op("softmax_backward", name, [P, dP], list(names.values()), scale=s,
         kappa=int(kappa), shift=int(shift), limb_bits=int(limb_bits),
         **({"fused": 1} if fused else {}))
    return names


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
    Q, K, V and dO need declared bounds (proven by their producers); the derived
    bounds (worst case for honest values, power-of-two widths) can be overridden by
    ``bounds`` {role: (lo, hi)} for the roles dP, ubar, W, dZ, dQ, dK, dV.  Raises
    ConfigError naming the node when a relation could reach p/2 ≈ 2^63.
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

    def declared(role, worst, shift=s):
        check_fits(f"{name}/{role}", f"the product before the rescale of {role}", worst)
        return tuple(over.get(role, pow2_bound(((worst + (1 << (shift - 1))) >> shift) + 1)))

    # dP = dO·Vᵀ / 2^s
    dpr = g.tensor(f"{name}/dPraw", (B, H, T, T), "virtual")
    g.op("matmul", f"{name}/dov", [dO, V], [dpr], transpose_b=True, group=H // Hkv)
    dP = _rescaled(g, f"{name}/dP", dpr, s, declared("dP", dh * mdo * mv))
    # softmax backward
    sb = add_softmax_backward(g, f"{name}/softmax_backward", P, dP, scale=s, kappa=kappa,
                              shift=shift, limb_bits=lb, bounds=over, prefix=name)
    dZ = sb["dZ"]
    mdz = max_abs(g.tensors[dZ].bound, "dZ")
    # dQ = dZ·K / 2^s
    dqr = g.tensor(f"{name}/dQraw", (B, H, T, dh), "virtual")
    g.op("matmul", f"{name}/dzk", [dZ, K], [dqr], group=H // Hkv)
    dQ = _rescaled(g, f"{name}/dQ", dqr, s, declared("dQ", T * mdz * mk))
    # dK = Σ_group dZᵀ·Q / 2^s,  dV = Σ_group Pᵀ·dO / 2^s: einsums over the group's rows
    # the group sum runs over G·T products: at long sequences with GQA (T = 4096, G = 4)
    # it could pass p/2, so Q is first rounded to k fewer bits (k the smallest that fits;
    # 0 — no node — whenever it already fits): Q' = ⌊Q/2^k⌉ proven by a rescale, and
    # dK = Σ dZᵀ·Q' / 2^(s−k) (`q_shift`, the integer spec `attention_backward_forward`)
    k = q_shift(G * T * mdz, mq, s)
    if k:
        Q = _rescaled(g, f"{name}/Qs", Q, k, pow2_bound(((mq + (1 << (k - 1))) >> k) + 1))
        mq = max_abs(g.tensors[Q].bound, "Qs")
    sizes = {"b": B, "c": Hkv, "g": G, "t": T, "s": T, "d": dh}
    dkr = g.tensor(f"{name}/dKraw", (B, Hkv, T, dh), "virtual")
    g.op("einsum", f"{name}/dzq", [dZ, Q], [dkr], spec="bcgts,bcgtd->bcsd", sizes=sizes)
    dK = _rescaled(g, f"{name}/dK", dkr, s - k, declared("dK", G * T * mdz * mq, s - k))
    dvr = g.tensor(f"{name}/dVraw", (B, Hkv, T, dh), "virtual")
    g.op("einsum", f"{name}/pdo", [P, dO], [dvr], spec="bcgts,bcgtd->bcsd", sizes=sizes)
    dV = _rescaled(g, f"{name}/dV", dvr, s, declared("dV", G * T * (1 << (s + 1)) * mdo))
    return dQ, dK, dV


@hookimpl
def zk_ops():
    return [SoftmaxBackward()]


@hookimpl
def zk_builders():
    return [Builder("attention_backward", add_attention_backward,
                    "dQ, dK, dV of an add_attention forward (add_attention_backward)"),
            Builder("softmax_backward", add_softmax_backward,
                    "dZ of a softmax node (add_softmax_backward)")]
