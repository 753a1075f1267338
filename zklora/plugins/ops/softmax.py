"""Provably normalised softmax rows, grouped-query batched matmuls, causal attention.

Integer specification (`softmax_forward`; DESIGN §5 "causal softmax", zkAttn-style exp).
Inputs: X (…, rows, L) integers, an optional public 0/1 mask M (rows, L) (or X's shape)
broadcast over the leading axes, public parameters s (scale), ``shift``, κ (multiplier),
u (``exp_scale``), b (digit bits), lb (limb bits, 16).  The real score of entry (i, j)
is κ·X_ij / 2^(s+shift); t = s + shift − u low bits are dropped before the digits.  For
every row i ("allowed" = M_ij = 1; every row has at least one allowed entry):

    c_i    = max_{j allowed} κ·X_ij                               (scale 2^(s+shift))
    sel_ij = [j = the first allowed j with κ·X_ij = c_i]         (one-hot argmax, advice)
    D_ij   = M_ij·(c_i − κ·X_ij) = low_ij + 2^t·(d0_ij + 2^b·d1_ij),
             low ∈ [0, 2^t), d0, d1 ∈ [0, 2^b)    (d1 ≥ 2^b: ProverError, outside the table)
    f0_ij  = round(exp(−d0/2^u)·2^s),  f1_ij = round(exp(−d1·2^b/2^u)·2^s)
             (rows of exp_digit_table(u, s, b, 0) and (u, s, b, 1))
    e_ij   = M_ij·⌊(f0·f1 + 2^(s−1)) / 2^s⌋,  R_ij = M_ij·(f0·f1 + 2^(s−1)) − 2^s·e_ij
    S_i    = Σ_j e_ij                     (≥ 2^s: the argmax entry has e = 2^s)
    ρ_i    = ⌊2^(s+k) / S_i⌋,  σ_i = 2^(s+k) − ρ_i·S_i,  g_i = S_i − 1 − σ_i
    P_ij   = ⌊e_ij·ρ_i / 2^k⌋,  rem_ij = e_ij·ρ_i − 2^k·P_ij

with k = `recip_bits` = min(s + lb, 60 − sb), sb = s + L (L = log2 of the row length):
32 at the default s = lb = 16.  P is the softmax at scale s: the row's reciprocal is
taken once per row, so every entry needs one remainder of k bits (rem < 2^k) instead of
the two-sided certificate 0 ≤ e·2^s − P·S < S of a division per entry.  P differs from
⌊e·2^s/S⌋ by at most 1, and only when that quotient's fraction is below e·(2^(s+k)/S −
ρ)/2^k < 2^(s+1−k) (2^−15 at the defaults).  Entries whose exponent underflows (d ≥ ~11.1·2^s) get
f1 = 0 from the table itself: that is the saturation, and it is a lookup, so provable.

Relations proven (one batched zero-check Σ_x eq(τ, x)·Σ_k α^k·rel_k(x) = 0 over every
entry x, degree 4, then claims; all advice below is committed; "M·" is absent without
a mask, i.e. M = 1):

    (D) M·(c − κ·X) − Σ_k 2^(lb·k)·low_k − 2^t·d0 − 2^(t+b)·d1 = 0
    (E) 2^s·e + R − M·(f0·f1 + 2^(s−1)) = 0
    (F) e·ρ − 2^k·P − Σ_k 2^(lb·k)·rem_k = 0
    (G) per row (a second zero-check, over the rows):
        ρ·S + Σ_k 2^(lb·k)·σ_k − 2^(s+k) = 0,   S − 1 − Σ_k 2^(lb·k)·σ_k − Σ_k 2^(lb·k)·g_k = 0
    (H) S_i = Σ_j e_ij:  S̃(ρ_rows) = 2^L·ẽ(½,…,½, ρ_rows) (multilinearity)
    (I) sel·sel − M·sel = 0          (sel ∈ {0, 1} on allowed entries, 0 on masked ones)
    (J) sel·(c − κ·X) = 0            (the selected entry attains the shift)
    (K) Σ_j sel_ij = 1:  sel̃(½,…,½, ρ_rows) = 2^(−L)   (one 1 per row)
    lookups (d0, f0), (d1, f1) in the exp digit tables;
    ranges: low_k and rem_k limbs (exact: low t bits, rem k bits, lb-bit limbs, the top
    one narrower), σ_k, g_k (lb bits each, rows only: σ, g < 2^wb with wb = sb + 1
    rounded up to whole limbs), R ∈ [0, 2^s), e, P ∈ [0, 2^(s+1)),
    S ∈ [2^s, 2^s + 2^sb), ρ ∈ [0, 2^(k+1)).

Soundness: every range makes its side of (D)–(G) an integer far below p/2 (ρ·S <
2^(k+1)·2^(sb+1) ≤ 2^62 by the choice of k; e·ρ < 2^(s+k+2)), so each relation holds
over the integers: (D) gives 0 ≤ c_i − κX_ij < 2^(t+2b) on allowed entries, (E) e =
f0·f1/2^s rounded (0 when masked), (G) 0 ≤ 2^(s+k) − ρ·S ≤ S − 1, i.e. ρ = ⌊2^(s+k)/S⌋,
and (F) 0 ≤ e·ρ − 2^k·P < 2^k, i.e. P = ⌊e·ρ/2^k⌋.

The shift is the row maximum, exactly.  (D) alone only bounds it from below (c_i ≥
κX_ij on allowed entries), and S_i ≥ 2^s only bounds it by the logsumexp: a prover could
raise c_i in between and change every P, the loss and the gradients.  (I) makes sel
boolean on allowed entries and 0 on masked ones, (K) (a random row point after sel is
committed) makes each row sum 1 in the field, hence exactly one 1 per row (row length
< p), at an allowed entry j*; (J) there gives c_i = κX_ij*.  With (D), κX_ij* ≥ κX_ij
for every allowed j (|κX| < p/4 by X's bounds), so c_i = max_{j allowed} κX_ij: a
function of X and M alone (unique even without the bounds: two accepted shifts with
selections j*, j′ differ by D_ij′ ≥ 0 and by −D′_ij* ≤ 0, both below 2^(t+2b) ≪ p).
Under ties sel is not unique (any maximal entry may be selected), but c, and so every
other output, is.  Given c, D is fixed, its digits by their exact ranges, f0/f1 by the
lookups, e and R by (E), S by (H), ρ, σ and g by (G), P and rem by (F): the whole
witness is unique up to the choice of sel.

Every row is normalised:

    2^s − n_i − S_i/2^k < Σ_j P_ij ≤ 2^s     (n_i = number of allowed entries of row i)

because Σ_j e_ij·ρ_i/2^k ≤ Σ_j e_ij·2^s/S_i = 2^s, ρ_i > 2^(s+k)/S_i − 1 loses less than
e_ij/2^k per entry and each floor less than 1 (S_i/2^k ≤ n_i·2^(s−k) < 1 at the
defaults, so Σ_j P_ij ≥ 2^s − n_i; and S_i ≥ 2^s holds for the honest c: the argmax
entry has e = 2^s).

Q·Kᵀ and P·V are the ``matmul`` op with ``group = H / Hkv`` (grouped-query attention), and
the graph builders `add_softmax` and `add_attention` (docs/ops/softmax.md).
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import torch

from zklora.zkcore import mle, structured
from zklora.zkcore.build import Builder, named_table
from zklora.zkcore.einsum import einsum
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest, Table
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import LIMB, Term, error, limb_terms, limbs, split_limbs, vanishes


def exp_digit_table(in_scale_bits: int, out_scale_bits: int, digit_bits: int,
                    position: int) -> Table:
    """The exp-digit table (family ``exp_digit`` of the registry, `named_table`)."""
    return named_table("exp_digit", in_scale_bits=in_scale_bits,
                       out_scale_bits=out_scale_bits, digit_bits=digit_bits, position=position)


# -- softmax: integer specification -------------------------------------------------------


def softmax_forward(x: torch.Tensor, mask: torch.Tensor | None, *, scale: int, shift: int,
                    kappa: int, digit_bits: int, exp_scale: int, name: str = "softmax",
                    shifts: torch.Tensor | None = None, limb_bits: int = LIMB
                    ) -> dict[str, torch.Tensor]:
    """The integer specification (module doc).  Returns every tensor by role:
    P, c, S, e, R, d0, f0, d1, f1, sel, low (list), rem (list), g (list).

    ``shifts`` overrides c (tests only: a cheating prover's shift; any c above the row
    max yields a witness satisfying every relation but (J), and, when c is too large,
    S ≥ 2^s).  sel is always the first allowed argmax of κ·X."""
    s, b, u = scale, digit_bits, exp_scale
    t = low_bits(scale, shift, exp_scale)
    x = x.to(torch.int64)
    L = int(x.shape[-1])
    y = x * int(kappa)
    if mask is None:
        allowed = torch.ones_like(y, dtype=torch.bool)
    else:
        allowed = mask.to(torch.bool).expand_as(y)
    if not bool(allowed.any(-1).all()):
        raise ProverError(f"{name}: a row has no allowed entry")
    very_low = torch.iinfo(torch.int64).min
    ym = y.masked_fill(~allowed, very_low)
    arg = ym.argmax(-1, keepdim=True)          # the first maximal entry
    sel = torch.zeros_like(y).scatter_(-1, arg, 1)
    c = ym.gather(-1, arg)[..., 0] if shifts is None else shifts.to(torch.int64)
    banned = ~allowed
    d = (c[..., None] - y).masked_fill_(banned, 0)
    low = d & ((1 << t) - 1)
    hi = d >> t
    d0 = hi & ((1 << b) - 1)
    d1 = hi >> b
    if d1.numel() and int(d1.max()) >= 1 << b:
        i = int(torch.argmax(d1.reshape(-1)))
        raise ProverError(
            f"{name}: score difference {int(d.reshape(-1)[i])} (scale 2^{s + shift}) at "
            f"flat index {i} is outside the exp table domain [0, 2^{t + 2 * b}): the "
            f"scores' range exceeds ±{2.0 ** (2 * b - u - 1):g}")
    t0 = exp_digit_table(u, s, b, 0).columns()[1]
    t1 = exp_digit_table(u, s, b, 1).columns()[1]
    f0 = torch.from_numpy(np.ascontiguousarray(t0[d0.numpy()]))
    f1 = torch.from_numpy(np.ascontiguousarray(t1[d1.numpy()]))
    prod = (f0 * f1).add_(1 << (s - 1)).masked_fill_(banned, 0)
    e = prod >> s
    R = prod.bitwise_and_((1 << s) - 1)   # prod ≥ 0: its low s bits (prod not read after)
    S = e.sum(-1)
    lb = limb_bits
    k = recip_bits(s, L, lb)
    one = 1 << (s + k)
    rho = torch.div(one, S.clamp(min=1), rounding_mode="floor")
    sig = one - rho * S
    g = S - 1 - sig
    num = e * rho[..., None]
    P = num >> k
    rem = num.bitwise_and_((1 << k) - 1)  # num ≥ 0: its low k bits (num not read after)
    wb = row_cert_bits(s, L, lb)
    return {"P": P, "c": c, "S": S, "e": e, "R": R, "d0": d0, "f0": f0, "d1": d1, "f1": f1,
            "sel": sel, "rho": rho, "low": split_limbs(low, t, lb) if t else [],
            "rem": split_limbs(rem, k, lb), "sig": split_limbs(sig, wb, lb),
            "g": split_limbs(g, wb, lb)}


ROLES = ("P", "c", "S", "e", "R", "d0", "f0", "d1", "f1", "sel", "rho")
#: roles of shape (…, rows): one value per row (the rest are per entry)
ROW_ROLES = ("c", "S", "rho")


def low_bits(scale: int, shift: int, exp_scale: int) -> int:
    """Bits of D dropped before the digits: the digits are at scale 2^exp_scale."""
    t = scale + shift - exp_scale
    if t < 0:
        raise ConfigError(f"softmax: exp_scale {exp_scale} above the score scale "
                          f"{scale + shift}")
    return t


def rem_bits(scale: int, row_len: int, lb: int = LIMB) -> int:
    """Bits of a row sum's excess over 2^s, rounded up to whole ``lb``-bit limbs (the
    pre-reciprocal certificate's remainder width; kept for callers)."""
    need = scale + mle.log2_exact(row_len)
    return lb * -(-need // lb)


def sum_bits(scale: int, row_len: int) -> int:
    """sb = s + log2(L): every row sum S = Σ_j e_ij ≤ L·2^s = 2^sb; S is range-checked
    in [2^s, 2^s + 2^sb)."""
    return scale + mle.log2_exact(row_len)


def recip_bits(scale: int, row_len: int, lb: int = LIMB) -> int:
    """k, the bits of the row reciprocal ρ = ⌊2^(s+k)/S⌋ beyond 2^0 and of the entry
    remainders r = e·ρ − 2^k·P ∈ [0, 2^k): s + lb (32 by default), lowered so that
    ρ·S < 2^(k+1)·2^(sb+1) stays below 2^62 (k ≤ 60 − sb)."""
    k = min(scale + lb, 60 - sum_bits(scale, row_len))
    if k < 1:
        raise ConfigError(f"softmax: row length {row_len} too long for scale {scale}")
    return k


def row_cert_bits(scale: int, row_len: int, lb: int = LIMB) -> int:
    """Width of the row certificate's σ = 2^(s+k) − ρ·S and g = S − 1 − σ (both < S <
    2^(sb+1)), rounded up to whole ``lb``-bit limbs (a looser bound is still sound: the
    row relations stay below p/2)."""
    return lb * -(-(sum_bits(scale, row_len) + 1) // lb)


def limb_bounds(low: int, row_len: int, scale: int,
                lb: int = LIMB) -> dict[str, tuple[int, int]]:
    """{role: (0, 2^w − 1)} of the limbs of D's low bits, the entry remainders r (role
    ``rem``, exactly k bits) and the row certificate's σ, g (``sig``, ``g``)."""
    k, wb = recip_bits(scale, row_len, lb), row_cert_bits(scale, row_len, lb)
    return {f"{r}{i}": (0, (1 << w) - 1)
            for r, bits in (("low", low), ("rem", k), ("sig", wb), ("g", wb))
            for i, w in enumerate(limbs(bits, lb))}


def softmax_roles(low: int, row_len: int, scale: int, lb: int = LIMB) -> list[str]:
    """Role of every output of a softmax node, in order (``low`` = `low_bits`)."""
    return list(ROLES) + list(limb_bounds(low, row_len, scale, lb))


def is_row_role(role: str) -> bool:
    """A role of shape (…, rows): c, S, ρ and the row certificate's limbs."""
    return role in ROW_ROLES or role.rstrip("0123456789") in ("sig", "g")


class Softmax(Op):
    """Provably normalised softmax rows (module doc).

    Inputs: X, and optionally the public mask.  Params: ``scale``, ``shift``, ``kappa``,
    ``digit_bits``, ``exp_scale``.  Outputs in the order of `softmax_roles`.
    """

    name = "softmax"
    input_roles = ("X", Role("mask?", "public", lambda s, p: s["X"][len(s["X"]) - len(s["mask"]):]))
    #: zero knowledge (docs/zero-knowledge.md §5.1): every output is committed and its
    #: claims are opened, never read here; the two zero-checks' finals of tensors in
    #: ``ctx.hide`` are hidden (`vanishes`), and the row sums (H) take S̃'s blinded value
    #: on (an einsum of one operand: e's claim carries S̃'s blind, scaled)
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:  # field order: as unpacked by forward and _layout
        scale: int = param("int", lo=1, hi=16, doc="s")
        shift: int = param("int", lo=0, hi=64)
        kappa: int = param("int", doc="nonzero")
        digit_bits: int = param("int", lo=1, hi=24, doc="b")
        exp_scale: int = param("int", lo=0, hi=64, doc="u")
        limb_bits: int = param("int", default=LIMB, lo=1, hi=16)

    def roles(self, node, p, specs):
        if specs is None:
            return self.input_roles, None
        xs = specs[node.inputs[0]].shape
        roles = softmax_roles(p.scale + p.shift - p.exp_scale, xs[-1], p.scale, p.limb_bits)
        return self.input_roles, tuple(
            Role(r, "committed", (lambda s, p: s["X"][:-1]) if is_row_role(r) else "X")
            for r in roles)

    def validate(self, node, p, specs):
        if p.kappa == 0 or not 0 <= p.scale + p.shift - p.exp_scale <= 64:
            raise ValueError("kappa must be nonzero and scale + shift - exp_scale in [0, 64]")

    def forward(self, node, inputs):
        s, t, k, b, u, lb = attrs.astuple(self.params(node))
        x = inputs[0]
        mask = inputs[1] if len(inputs) > 1 else None
        out = softmax_forward(x, mask, scale=s, shift=t, kappa=k, digit_bits=b, exp_scale=u,
                              name=node.name, limb_bits=lb)
        flat = [out[r] for r in ROLES] + out["low"] + out["rem"] + out["sig"] + out["g"]
        return flat

    @staticmethod
    def _selector_terms(k: int, masked: bool) -> list[list[Term]]:
        """(I) sel·sel − M·sel and (J) sel·c − κ·sel·X (without eq): the one-hot argmax
        selector that pins c to the row maximum (with (K), a row sum in `relations`)."""
        M = ("M",) if masked else ()
        rI = [(1, ("sel", "sel")), (-1, M + ("sel",))]
        rJ = [(1, ("sel", "c")), (-k, ("sel", "X"))]
        return [rI, rJ]

    def range_checks(self, node, p, specs):
        """The limbs, R, e, P, S and ρ in their ranges (module doc)."""
        s, lb, lab = p.scale, p.limb_bits, node.name
        t = p.scale + p.shift - p.exp_scale
        L = int(specs[node.inputs[0]].shape[-1])
        names = dict(zip(softmax_roles(t, L, s, lb), node.outputs))
        sb, k = sum_bits(s, L), recip_bits(s, L, lb)
        return [RangeCheck(names[r], 0, hi, f"{lab}/{r}")
                for r, (_, hi) in limb_bounds(t, L, s, lb).items()] + [
            RangeCheck(names["R"], 0, (1 << s) - 1, f"{lab}/R", max(lb, s)),
            RangeCheck(names["e"], 0, (1 << (s + 1)) - 1, f"{lab}/e", s + 1),
            RangeCheck(names["P"], 0, (1 << (s + 1)) - 1, f"{lab}/P", s + 1),
            RangeCheck(names["S"], 1 << s, (1 << s) + (1 << sb) - 1, f"{lab}/S", lb),
            RangeCheck(names["rho"], 0, (1 << (k + 1)) - 1, f"{lab}/rho", lb)]

    def lookups(self, node, p, specs):
        """(d_i, f_i) in the exp digit tables, i = 0, 1."""
        s, lb = p.scale, p.limb_bits
        t = p.scale + p.shift - p.exp_scale
        L = int(specs[node.inputs[0]].shape[-1])
        names = dict(zip(softmax_roles(t, L, s, lb), node.outputs))
        return [LookupRequest(exp_digit_table(p.exp_scale, s, p.digit_bits, i),
                              (names[f"d{i}"], names[f"f{i}"]), f"{node.name}/exp{i}")
                for i in (0, 1)]

    def relations(self, ctx, node, out_claims):
        """(D), (E), (F), (I), (J) by one zero-check over every entry (`vanishes`: c and
        ρ broadcast along a row, the mask along the leading axes), (G) by one zero-check
        over the rows, (H) and (K) as the row sums (einsum "rj->r") of e and sel at the
        rows' point, then the ranges and the exp digit lookups (module doc)."""
        s, shift, k, b, u, lb = attrs.astuple(self.params(node))
        X, mask = node.inputs[0], (node.inputs[1] if len(node.inputs) > 1 else None)
        t, xs = s + shift - u, tuple(ctx.spec(X).shape)
        if 1 << (t + 2 * b + 2) >= ctx.F.p:  # the digits of D must be unique modulo p
            raise error(ctx, f"op {node.name}: 2^(t + 2b) = 2^{t + 2 * b} is too large "
                        f"for the field {ctx.F.name}")
        L = int(xs[-1])
        kr, sb = recip_bits(s, L, lb), sum_bits(s, L)
        if 1 << (kr + sb + 3) >= ctx.F.p:   # ρ·S + σ must stay below p/2
            raise error(ctx, f"op {node.name}: 2^(k + sb) = 2^{kr + sb} is too large for "
                        f"the field {ctx.F.name}")
        names = dict(zip(softmax_roles(t, L, s, lb), node.outputs))
        M = ("M",) if mask is not None else ()
        low, rem, sig, gg = ([r for r in names if r.rstrip("0123456789") == p]
                             for p in ("low", "rem", "sig", "g"))
        rels = [[(1, M + ("c",)), (-k, M + ("X",))] + limb_terms(low, -1, lb)
                + [(-(1 << t), ("d0",)), (-(1 << (t + b)), ("d1",))],                  # (D)
                [(1 << s, ("e",)), (1, ("R",)), (-1, M + ("f0", "f1")),
                 (-(1 << (s - 1)), M)],                                                # (E)
                [(1, ("e", "rho")), (-(1 << kr), ("P",))] + limb_terms(rem, -1, lb),  # (F)
                *self._selector_terms(k, mask is not None)]                           # (I), (J)
        rows = [[(1, ("rho", "S")), (-(1 << (s + kr)), ())] + limb_terms(sig, 1, lb),
                [(1, ("S",)), (-1, ())] + limb_terms(sig, -1, lb)
                + limb_terms(gg, -1, lb)]                                             # (G)
        tensor = {**names, "X": X, "M": mask}

        def named(rs):
            return [[(c, tuple(tensor[f] for f in fs)) for c, fs in r] for r in rs]

        claims = vanishes(ctx, node.name, named(rels), high=[mask] if M else [])
        claims += vanishes(ctx, f"{node.name}/rows", named(rows))
        (cS,) = (c for c in claims if c.tensor == names["S"])
        sz = {"r": int(np.prod(xs[:-1])), "j": xs[-1]}
        for r, v in (("e", cS.value), ("sel", ctx.E.scalar(1))):     # (H), (K)
            claims += einsum(ctx, node.name, "rj->r", [names[r]], cS.point, v, sizes=sz)
        return claims   # (d_i, f_i) in the exp digit tables: `lookups`


# -- graph builders -----------------------------------------------------------------------


def add_softmax(g, name: str, X: str, *, mask: str | None = None, scale: int = 16,
                shift: int = 0, kappa: int = 1, digit_bits: int = 14,
                exp_scale: int | None = None, x_bound: tuple[int, int] | None = None,
                limb_bits: int = LIMB, vocab: int | None = None) -> dict[str, str]:
    """Add a softmax node over the last axis of X (real scores κ·X/2^(scale+shift)).

    ``vocab`` (default: the row length L): only the first ``vocab`` columns are real
    (a padded vocabulary).  With vocab < L the node is masked by the public column
    prefix mask ``{name}/vocab_mask`` (L,) (`zklora.zkcore.structured.prefix_mask`,
    closed-form MLE), so the padded columns get no mass: e = P = sel = 0 there, proven
    by (D)–(J) with M = 0.  It cannot be combined with another ``mask``.

    The exp digits are taken at scale 2^exp_scale (default scale+shift: no bits
    dropped); ``scale + shift − exp_scale`` low bits are dropped, proven by exact
    16-bit limbs (keep it a multiple of 16).  Declares every output (committed, with
    bounds) as ``{name}/{role}`` and returns {role: tensor name}; the main output is
    ``P`` (the softmax at scale ``scale``); ``c`` (shifts, scale+shift: the row maxima,
    pinned by the one-hot argmax selector ``sel``) and ``S`` (row sums, scale) serve the
    cross-entropy.
    """
    xs = tuple(g.tensors[X].shape)
    L = int(xs[-1])
    if vocab is not None and not 1 <= int(vocab) <= L:
        raise ConfigError(f"softmax {name}: vocab {vocab} must be in [1, {L}]")
    if vocab is not None and int(vocab) < L:
        if mask is not None:
            raise ConfigError(f"softmax {name}: a padded vocabulary (vocab {vocab} < {L}) "
                              "cannot be combined with another mask")
        mask = g.tensor(f"{name}/vocab_mask", (L,), "public",
                        value=structured.prefix_mask((L,), (int(vocab),)))
    s, b = scale, digit_bits
    u = scale + shift if exp_scale is None else exp_scale
    t = low_bits(s, shift, u)
    if not 1 <= s <= 16:
        raise ConfigError(f"softmax {name}: scale {s} must be in [1, 16]")
    rows = xs[:-1]
    lb = limb_bits
    sb, kr = sum_bits(s, L), recip_bits(s, L, lb)
    if x_bound is None and g.tensors[X].bound is not None:
        x_bound = g.tensors[X].bound
    cb = None
    if x_bound is not None:
        m = abs(kappa) * max(abs(x_bound[0]), abs(x_bound[1]))
        cb = (-m, m)
    bounds = {"P": (0, 1 << s), "c": cb, "S": (1 << s, (1 << s) + (1 << sb) - 1),
              "e": (0, 1 << s), "R": (0, (1 << s) - 1), "d0": (0, (1 << b) - 1),
              "f0": (0, 1 << s), "d1": (0, (1 << b) - 1), "f1": (0, 1 << s),
              "sel": (0, 1), "rho": (0, 1 << kr)}
    bounds |= limb_bounds(t, L, s, lb)
    names = {}
    for role in softmax_roles(t, L, s, lb):
        shape = rows if is_row_role(role) else xs
        names[role] = g.tensor(f"{name}/{role}", shape, "committed", bounds[role])
    inputs = [X] + ([mask] if mask is not None else [])
    g.op("softmax", name, inputs, list(names.values()), scale=s, shift=int(shift),
         kappa=int(kappa), digit_bits=b, exp_scale=u, limb_bits=lb)
    return names


def score_scaling(head_dim: int, scale: int) -> tuple[int, int, int]:
    """(κ, shift, exp_scale) for the scores X = Q·Kᵀ (scale 2^(2·scale)): the real score
    is κ·X/2^(scale+shift) = X/(√dh·2^(2·scale)), and exactly 16 low bits are dropped.

    dh a power of 4: κ = 1, shift = scale + log2(dh)/2 (1/√dh folded into the shift),
    exp_scale = 2·scale + log2(dh)/2 − 16; otherwise κ = round(2^16/√dh) (a public
    fixed-point constant), shift = scale + 16, exp_scale = 2·scale − 16 (32 low bits)."""
    lg = mle.log2_exact(head_dim)
    if lg % 2 == 0:
        return 1, scale + lg // 2, 2 * scale + lg // 2 - LIMB
    return (int(math.floor((1 << LIMB) / math.sqrt(head_dim) + 0.5)), scale + LIMB,
            2 * scale - LIMB)


def causal_mask(T: int) -> torch.Tensor:
    """Public (T, T) mask: 1 where j ≤ i."""
    return torch.tril(torch.ones(T, T, dtype=torch.int64))


def add_attention(g, name: str, Q: str, K: str, V: str, *, scale: int = 16,
                  digit_bits: int = 14, mask: str | None = None,
                  out_bound: tuple[int, int] | None = None) -> str:
    """Causal softmax attention core: O = softmax(Q·Kᵀ/√dh + causal) · V at ``scale``.

    Q (B, H, T, dh), K/V (B, Hkv, T, dh), H % Hkv == 0 (GQA, transformers' repeat_kv).
    Nodes: ``{name}/qk`` (matmul, transposed K, grouped), ``{name}/softmax`` (masked by the
    public causal mask ``{name}/mask`` unless ``mask`` names one), ``{name}/pv``
    (matmul, grouped) and ``{name}/rescale`` (O = P·V / 2^scale, committed; its bound covers
    |V|max + 1, widened to whole 16-bit limbs, unless ``out_bound`` is given).  Returns O's name."""
    B, H, T, dh = g.tensors[Q].shape
    Bk, Hkv, Tk, dk = g.tensors[K].shape
    if (Bk, Tk, dk) != (B, T, dh) or tuple(g.tensors[V].shape) != (B, Hkv, T, dh) or \
            H % Hkv:
        raise ConfigError(f"attention {name}: shapes Q {g.tensors[Q].shape}, K "
                          f"{g.tensors[K].shape}, V {g.tensors[V].shape} do not agree")
    kappa, shift, u = score_scaling(dh, scale)
    zb = None
    qb, kb = g.tensors[Q].bound, g.tensors[K].bound
    if qb is not None and kb is not None:
        m = dh * max(map(abs, qb)) * max(map(abs, kb))
        zb = (-m, m)
    Z = g.tensor(f"{name}/scores", (B, H, T, T), "virtual")
    g.op("matmul", f"{name}/qk", [Q, K], [Z], transpose_b=True, group=H // Hkv)
    if mask is None:
        mask = g.tensor(f"{name}/mask", (T, T), "public", value=structured.causal_mask(T))
    sm = add_softmax(g, f"{name}/softmax", Z, mask=mask, scale=scale, shift=shift,
                     kappa=kappa, digit_bits=digit_bits, exp_scale=u, x_bound=zb)
    Oraw = g.tensor(f"{name}/pv", (B, H, T, dh), "virtual")
    g.op("matmul", f"{name}/pv", [sm["P"], V], [Oraw], group=H // Hkv)
    if out_bound is None:
        vb = g.tensors[V].bound
        if vb is None:
            raise ConfigError(f"attention {name}: V needs a declared bound (or pass "
                              "out_bound)")
        # |O| ≤ max|V| + 1 (Σ_j P_ij ≤ 2^s); widened to (−2^(B−1), 2^(B−1) − 1) with B a
        # multiple of 16, so the rescale's range check uses only the 16-bit table
        nb = LIMB * -(-((max(map(abs, vb)) + 1).bit_length() + 1) // LIMB)
        out_bound = (-(1 << (nb - 1)), (1 << (nb - 1)) - 1)
    O = g.tensor(f"{name}/out", (B, H, T, dh), "committed", tuple(out_bound))
    Ro = g.tensor(f"{name}/out_r", (B, H, T, dh), "committed", (0, (1 << scale) - 1))
    g.op("rescale", f"{name}/rescale", [Oraw], [O, Ro], shift=scale)
    return O


def attention_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: int = 16,
                      digit_bits: int = 14) -> torch.Tensor:
    """The integer attention of `add_attention` (for tests and reference runs)."""
    from zklora.zkcore.quant import rescale

    dh = q.shape[-1]
    kappa, shift, u = score_scaling(dh, scale)
    G = q.shape[1] // k.shape[1]
    z = torch.matmul(q, k.repeat_interleave(G, 1).transpose(-1, -2))
    sm = softmax_forward(z, causal_mask(q.shape[2]), scale=scale, shift=shift, kappa=kappa,
                         digit_bits=digit_bits, exp_scale=u)
    o = torch.matmul(sm["P"], v.repeat_interleave(G, 1))
    return rescale(o, scale)[0]


@hookimpl
def zk_ops():
    return [Softmax()]


@hookimpl
def zk_builders():
    return [Builder("attention", add_attention, "causal softmax attention (add_attention)"),
            Builder("softmax", add_softmax, "row softmax node (add_softmax)"),
            # looked up at call time, so a test patching this module's softmax_forward
            # patches the cross-entropy's too
            Builder("softmax.forward", lambda *a, **k: softmax_forward(*a, **k),
                    "integer softmax (softmax_forward)"),
            Builder("attention.score_scaling", score_scaling,
                    "(κ, shift, exp_scale) of the scores Q·Kᵀ/√dh (score_scaling)")]
