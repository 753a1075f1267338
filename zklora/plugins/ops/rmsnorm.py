"""RMSNorm, y = x · rsqrt(mean(x²) + ε) · g (transformers' ``LlamaRMSNorm``), in fixed point.

`add_rmsnorm` builds these nodes; X (…, D) and g (D,) at scale s, Y (…, D) at scale s;
the true hidden size is d = ``count`` ≤ D (default D): a padded X has zero columns
j ≥ d, which leave Σx² unchanged, and the mean divides by d:

    XS  = rescale(X, k)       only when the pre-shift k > 0: committed x' = ⌊x/2^k⌉ for
                              the sum of squares (+ remainder XS_R ∈ [0, 2^k))  scale s − k
    rsqrt   (op ``rmsnorm_rsqrt``, this module)  XS (or X) → r (…, 1) at scale s_r + advice
    XR2 = X ⊙ r        (``hadamard``, broadcast over D; full-precision X)    scale s + s_r
    XR  = rescale(XR2, s_r)   committed: x·rsqrt, kept for the backward    scale s
    Y2  = XR ⊙ g       (``hadamard``, g broadcast over the rows)           scale 2s
    Y   = rescale(Y2, s)      committed                                    scale s

The pre-shift k is the smallest k ≥ 0 for which every relation of the rsqrt fits below
2^62 (k = 0 — no extra node — at the tiny widths; k = 1 at hidden 4096 with |x| < 2^25;
docs/fixed_point.md §7).  The sum of squares then runs at reduced precision: Σx'² with
x' = x/2^k rounded (`zklora.zkcore.quant.rescale`), its rounding proven by the rescale's
range-checked remainder; only the rsqrt sees x', the product x·r uses the exact x.

Integer definition of ``rmsnorm_rsqrt`` (per row x' ∈ Z^D; docs/ops/rmsnorm.md has the
bound analysis).  Public constants, fixed at graph-build time:

    E0 = max(1, round(ε·d·2^(2s − 2k))),  j = ⌊log2(d)/2⌋,
    K  = s_r + s + j − k,  L = mantissa bits (14),  K' = mantissa rsqrt scale (21),
    N  = d·4^(K' − j)   (so √N·2^(K−K')/√V = 2^s_r·rsqrt(mean x² + ε), V below).

    V   = Σ_j x'_j² + E0
    e   = min{e ≥ 0 : ⌊V / 4^e⌋ < 2^(L+2)}        (exponent: normalises V)
    P   = 4^e,  H = 2^(K−K'−e),  LB = 0 if e = 0 else 2^L      (looked up together)
    M   = ⌊V / P⌋,  Rm = V − P·M                   (mantissa, remainder)
    rM  = ⌊√(N / M)⌋                               (rsqrt of the mantissa)
    r   = rM · H                                   ≈ √N·2^(K−K')/√V

(N = d·4^(K'−j) is an exact integer for any d — no power-of-two hidden size needed.)
Outputs, all committed (…, 1): r, P, H, LB, M, Rm, G1 = P − 1 − Rm, G2 = M − LB,
rM, Glo = N − rM²·M, Ghi = (rM + 1)²·M − N − 1.

Relations proven (for every row; a zero-check over the rows at a random point ρ,
then two einsums at ρ, Schwartz–Zippel):

    rM²·M = N − Glo,  (2rM + 1)·M = Glo + Ghi + 1,  r = rM·H,
    G1 = P − 1 − Rm,  G2 = M − LB                     (one `vanishes` zero-check)
    Σ_j x'_j² = V_a,  P·M = V_a + E0 − Rm             (einsums "rj,rj->r", "r,r->r" at ρ;
                                                      V_a sent, Rm(ρ) from the zero-check)
    (P, H, LB) ∈ exponent table;  M, G2 ∈ [0, 2^(L+2));  Rm, G1 ∈ [0, P_max);
    rM ∈ [0, rM_max];  Glo ∈ [0, Glo_max];  Ghi ∈ [0, Ghi_max]      (range checks)

Together: Rm ∈ [0, P) so M = ⌊V/P⌋; M < 2^(L+2) and (e = 0 or M ≥ 2^L) pin e;
Glo, Ghi ≥ 0 give rM²·M ≤ N < (rM + 1)²·M, i.e. rM = ⌊√(N/M)⌋.  Every product is
bounded by the range checks (and V by x'’s proven bound) far below p/2 (checked by
`RsqrtPlan`), so the field identities hold over the integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore import zk as zklib
from zklora.zkcore.build import Builder, declared_bound, rescale_node
from zklora.zkcore.claims import blind_value, scale_blind
from zklora.zkcore.einsum import einsum
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest, Table
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.quant import Bound, check_bound_fits, product_bound
from zklora.zkcore.range import LIMB_BITS, RangeCheck
from zklora.zkcore.relations import vanishes

#: the row tensors of ``rmsnorm_rsqrt``, in output order
ROW_TENSORS = ("r", "P", "H", "LB", "M", "Rm", "G1", "G2", "rM", "Glo", "Ghi")
#: products must stay below this (p/2 of Goldilocks is ≈ 2^63; keep a margin)
PRODUCT_LIMIT = 1 << 62
#: the largest automatic pre-shift `add_rmsnorm` tries
MAX_PRE_SHIFT = 40


@attrs.frozen
class RsqrtPlan:
    """The public constants of one ``rmsnorm_rsqrt`` node and the declared ranges of its
    advice, derived from (D, max |x'|, E0, s, s_r, L, K', d, k): ``d`` is the row length
    D the op sums over, ``count`` the true hidden size (0: D), ``pre_shift`` the k of
    x' = ⌊x/2^k⌉ (the op's input is x').  `check` verifies that every integer relation
    stays below 2^62 (`PRODUCT_LIMIT`) and that H = 2^(K−K'−e) is an integer for every
    reachable e; a `ConfigError` names the node otherwise."""

    d: int
    x_max: int
    e0: int
    scale: int
    r_scale: int
    mant_bits: int = 14
    mant_scale: int = 21
    count: int = 0
    pre_shift: int = 0

    @property
    def n_true(self) -> int:
        """The true hidden size d (the mean divides by it)."""
        return self.count or self.d

    @property
    def j(self) -> int:
        """⌊log2(d)/2⌋: 4^j ≤ d < 4^(j+1)."""
        return (self.n_true.bit_length() - 1) // 2

    @property
    def K(self) -> int:
        return self.r_scale + self.scale + self.j - self.pre_shift

    @property
    def shift(self) -> int:
        """K − K': H = 2^(shift − e)."""
        return self.K - self.mant_scale

    @property
    def n_mant(self) -> int:
        """N = d·4^(K' − j) ∈ [4^K', 4^(K'+1))."""
        return self.n_true << (2 * (self.mant_scale - self.j))

    @property
    def r_const(self) -> float:
        """√N·2^(K−K') = 2^(s+s_r−k)·√d: r = r_const/√V up to the mantissa rounding."""
        return math.sqrt(self.n_true) * 2.0 ** (self.K - self.j)

    @property
    def v_max(self) -> int:
        return self.d * self.x_max ** 2 + self.e0

    @property
    def v_min(self) -> int:
        return self.e0

    @property
    def e_max(self) -> int:
        e = 0
        while (self.v_max >> (2 * e)) >= 1 << (self.mant_bits + 2):
            e += 1
        return e

    @property
    def m_max(self) -> int:
        return (1 << (self.mant_bits + 2)) - 1

    @property
    def p_max(self) -> int:
        return 1 << (2 * self.e_max)

    @property
    def rm_max(self) -> int:
        """Declared range of rM: [0, 2^k − 1] ⊇ [0, √(N/M_min)] (a power-of-two width
        needs one range side only)."""
        m_lo = min(self.v_min, 1 << self.mant_bits)
        return (1 << math.isqrt(self.n_mant // m_lo).bit_length()) - 1

    @property
    def glo_max(self) -> int:
        """Glo = N − rM²·M ∈ [0, N] ⊆ [0, 2^bits(N) − 1]."""
        return (1 << self.n_mant.bit_length()) - 1

    @property
    def ghi_max(self) -> int:
        return (1 << ((2 * self.rm_max + 1) * self.m_max).bit_length()) - 1

    @property
    def r_max(self) -> int:
        return self.rm_max << self.shift

    def worst(self) -> dict[str, int]:
        """The largest integer each relation can reach, from the proven ranges."""
        return {
            "V = Σx'² + E0": self.v_max,
            "P·M + Rm": self.p_max * self.m_max + self.p_max - 1,
            "rM²·M + Glo": self.rm_max ** 2 * self.m_max + self.glo_max,
            "(rM + 1)²·M": (self.rm_max + 1) ** 2 * self.m_max + self.ghi_max,
            "rM·H": self.r_max,
        }

    def check(self, name: str) -> RsqrtPlan:
        if self.e0 < 1:
            raise ConfigError(f"rmsnorm {name}: E0 = round(ε·d·2^(2s−2k)) must be ≥ 1")
        if not 1 <= self.n_true <= self.d:
            raise ConfigError(f"rmsnorm {name}: count {self.n_true} must be in [1, {self.d}] "
                              "(the true hidden size within the padded width)")
        if self.j > self.mant_scale:
            raise ConfigError(f"rmsnorm {name}: hidden size {self.n_true} too large for "
                              f"mant_scale {self.mant_scale}")
        if self.shift < self.e_max:
            need = self.r_scale + self.e_max - self.shift
            raise ConfigError(
                f"rmsnorm {name}: r_scale {self.r_scale} too small for |x| ≤ {self.x_max} "
                f"(rsqrt would lose precision); use r_scale ≥ {need}")
        for what, v in self.worst().items():
            if v >= PRODUCT_LIMIT:
                raise ConfigError(f"rmsnorm {name}: {what} may reach 2^{math.log2(v):.1f} ≥ "
                                  f"2^62 for |x'| ≤ {self.x_max}, D = {self.d} (pre-shift "
                                  f"{self.pre_shift}): lower the declared bound of x, the "
                                  "scales, or raise pre_shift")
        return self

    def params(self) -> dict:
        return {"x_max": self.x_max, "e0": self.e0, "scale": self.scale,
                "r_scale": self.r_scale, "mant_bits": self.mant_bits,
                "mant_scale": self.mant_scale, "count": self.count,
                "pre_shift": self.pre_shift}

    def table(self) -> ExpTable:
        return exp_table(self.e_max, self.shift, self.mant_bits)


class ExpTable(Table):
    """Rows (4^e, 2^(shift − e), 0 if e = 0 else 2^L) for e = 0..e_max (padded to a power
    of two by repeating the last row)."""

    width = 3

    def __init__(self, e_max: int, shift: int, mant_bits: int):
        if not 0 <= e_max <= shift:
            raise ValueError(f"exponent table: need 0 ≤ e_max ≤ shift, got {e_max}, {shift}")
        self.name = f"rsqrt_exp[emax={e_max},shift={shift},L={mant_bits}]"
        self.num_vars = max(0, e_max.bit_length())
        e = np.minimum(np.arange(1 << self.num_vars, dtype=np.int64), e_max)
        self._cols = [np.left_shift(np.int64(1), 2 * e), np.left_shift(np.int64(1), shift - e),
                      np.where(e > 0, np.int64(1 << mant_bits), np.int64(0))]
        for c in self._cols:
            c.setflags(write=False)

    def columns(self):
        return list(self._cols)

    def explain(self, row):
        return f"(P, H, LB) = {tuple(int(v) for v in row)} is not (4^e, 2^(shift−e), LB(e))"


_EXP_TABLES: dict[tuple[int, int, int], ExpTable] = {}


def exp_table(e_max: int, shift: int, mant_bits: int) -> ExpTable:
    key = (int(e_max), int(shift), int(mant_bits))
    if key not in _EXP_TABLES:
        _EXP_TABLES[key] = ExpTable(*key)
    return _EXP_TABLES[key]


def plan_of(node, d: int) -> RsqrtPlan:
    """The `RsqrtPlan` of an ``rmsnorm_rsqrt`` node for rows of length ``d`` (= D)."""
    p = RmsNormRsqrt().params(node)
    return RsqrtPlan(d, p.x_max, p.e0, p.scale, p.r_scale, p.mant_bits, p.mant_scale,
                     p.count, p.pre_shift)


def _isqrt_floor(n: int, m: torch.Tensor) -> torch.Tensor:
    """⌊√(n / m)⌋ for int64 m ≥ 1 (exact: float estimate, then integer correction)."""
    r = torch.floor(torch.sqrt(n / m.to(torch.float64))).to(torch.int64)
    for _ in range(3):
        r = torch.where(r * r * m > n, r - 1, r)
        r = torch.where((r + 1) * (r + 1) * m <= n, r + 1, r)
    return r


def rsqrt_forward(x: torch.Tensor, pl: RsqrtPlan) -> list[torch.Tensor]:
    """The integer definition (module doc) for the op's input x' (…, D); returns the 11
    row tensors (…, 1) in `ROW_TENSORS` order."""
    x = x.to(torch.int64)
    v = (x * x).sum(-1, keepdim=True) + pl.e0
    e = torch.zeros_like(v)
    for k in range(1, pl.e_max + 1):
        e = e + (v >= (1 << (2 * k + pl.mant_bits))).to(torch.int64)
    P = torch.ones_like(v) << (2 * e)
    M = v >> (2 * e)
    Rm = v - P * M
    H = torch.ones_like(v) << (pl.shift - e)
    LB = torch.where(e > 0, 1 << pl.mant_bits, 0).to(torch.int64)
    rM = _isqrt_floor(pl.n_mant, M)
    r = rM * H
    glo = pl.n_mant - rM * rM * M
    ghi = (rM + 1) * (rM + 1) * M - pl.n_mant - 1
    return [r, P, H, LB, M, Rm, P - 1 - Rm, M - LB, rM, glo, ghi]


def rsqrt_reference(row: Sequence[int], pl: RsqrtPlan) -> int:
    """Pure-Python r of one row of x' (the twin `rsqrt_forward` is tested against)."""
    v = sum(int(a) * int(a) for a in row) + pl.e0
    e = 0
    while (v >> (2 * e)) >= 1 << (pl.mant_bits + 2):
        e += 1
    m = v >> (2 * e)
    return math.isqrt(pl.n_mant // m) << (pl.shift - e)


class RmsNormRsqrt(Op):
    """r = rsqrt of each row's mean square (module doc); params `RsqrtPlan.params`."""

    name = "rmsnorm_rsqrt"
    input_roles = ("X",)
    output_roles = tuple(Role(r, "committed", lambda s, p: s["X"][:-1] + (1,))
                         for r in ROW_TENSORS)
    #: zero knowledge: committed outputs (their claims are not read); the zero-check's
    #: finals hidden, V_a sent masked, both carried into the einsums (`relations`)
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:  # `RsqrtPlan.params` and limb_bits
        x_max: int = param("int", lo=0)
        e0: int = param("int", lo=0)
        scale: int = param("int", lo=0, hi=62)
        r_scale: int = param("int", lo=0, hi=62)
        mant_bits: int = param("int", default=14, lo=1, hi=40)
        mant_scale: int = param("int", default=21, lo=1, hi=62)
        limb_bits: int = param("int", default=LIMB_BITS, lo=1, hi=20)
        count: int = param("int", default=0, lo=0)
        pre_shift: int = param("int", default=0, lo=0, hi=62)

    def validate(self, node, p, specs):
        xs = specs[node.inputs[0]].shape
        try:
            plan_of(node, int(xs[-1])).check(node.name)
        except ConfigError as e:
            raise ValueError(str(e)) from None

    def forward(self, node, inputs):
        (x,) = inputs
        pl = plan_of(node, int(x.shape[-1]))
        if x.numel() and int(x.abs().max()) > pl.x_max:
            i = int(torch.argmax(x.abs().reshape(-1)))
            raise ProverError(f"rmsnorm {node.name}: input {node.inputs[0]} has value "
                              f"{int(x.reshape(-1)[i])} at flat index {i}, outside the "
                              f"declared |x| ≤ {pl.x_max}")
        return rsqrt_forward(x, pl)

    @staticmethod
    def _ranges(pl: RsqrtPlan):
        return [("M", 0, pl.m_max), ("G2", 0, pl.m_max), ("Rm", 0, pl.p_max - 1),
                ("G1", 0, pl.p_max - 1), ("rM", 0, pl.rm_max), ("Glo", 0, pl.glo_max),
                ("Ghi", 0, pl.ghi_max)]

    def range_checks(self, node, p, specs):
        """M, G2, Rm, G1, rM, Glo, Ghi in their ranges (module doc)."""
        names = dict(zip(ROW_TENSORS, node.outputs))
        pl = plan_of(node, int(specs[node.inputs[0]].shape[-1]))
        return [RangeCheck(names[k], lo, hi, f"{node.name}/{k}", p.limb_bits)
                for k, lo, hi in self._ranges(pl)]

    def lookups(self, node, p, specs):
        """(P, H, LB) in the exponent table."""
        pl = plan_of(node, int(specs[node.inputs[0]].shape[-1]))
        _, P, H, LB = node.outputs[:4]
        return [LookupRequest(pl.table(), (P, H, LB), f"{node.name}/exp")]

    def relations(self, ctx, node, out_claims):
        """One zero-check over the rows (the five row identities, G1 and G2 among them)
        at a point ρ; the prover sends V_a = Σ_j x̃'(ρ, j)²; the einsums "rj,rj->r" of x'
        (= V_a) and "r,r->r" of P, M (= V_a + E0 − Rm(ρ)) at ρ; the range checks and the
        exponent lookup (module doc)."""
        E, X = ctx.E, node.inputs[0]
        xs = tuple(ctx.spec(X).shape)
        pl = plan_of(node, int(xs[-1]))
        r, P, H, LB, M, Rm, G1, G2, rM, Glo, Ghi = node.outputs
        claims = vanishes(ctx, node.name, [
            [(1, (rM, rM, M)), (1, (Glo,)), (-pl.n_mant, ())],        # rM²·M = N − Glo
            [(2, (rM, M)), (1, (M,)), (-1, (Glo,)), (-1, (Ghi,)), (-1, ())],
            [(1, (r,)), (-1, (rM, H))],                                # r = rM·H
            [(1, (G1,)), (-1, (P,)), (1, ()), (1, (Rm,))],             # G1 = P − 1 − Rm
            [(1, (G2,)), (-1, (M,)), (1, (LB,))]])                     # G2 = M − LB
        rho, rm = next((c.point, c.value) for c in claims if c.tensor == Rm)
        sz = {"r": math.prod(xs[:-1]), "j": xs[-1]}

        def sumsq():  # prover only
            x, eq = ctx.ext_table(X), np.repeat(mle.eq_table(E, rho), xs[-1], axis=0)
            return np.stack([E.sum(E.mul(eq, E.mul(x, x)))])

        # zero knowledge (inside a blind-aware run, `ctx.carries_blinds`): V_a sent as
        # V_a + ν, ν a fresh committed blind carried into the einsum's hidden sumcheck
        nu = (zklib.fresh_nu(ctx),) if ctx.zk is not None and ctx.carries_blinds and \
            ctx.hide and zklib.room(ctx, 1) else ()
        (va,) = ctx.exchange(ctx.label(node.name, "sumsq"), 1, lambda: [
            E.add(sumsq()[0], blind_value(ctx, nu))] if nu else sumsq())
        ctx.register_blind(rho, va, nu)
        claims += einsum(ctx, node.name, "rj,rj->r", [X, X], rho, va, sizes=sz)
        v2 = E.sub(E.add(va, E.scalar(pl.e0)), rm)
        ctx.register_blind(rho, v2, nu + scale_blind(E, ctx.blind_of(rho, rm), E.scalar(-1)))
        claims += einsum(ctx, node.name, "r,r->r", [P, M], rho, v2, sizes=sz)
        return claims   # (P, H, LB) in the exponent table: `lookups`


# -- graph builder -----------------------------------------------------------------------


def rsqrt_plan_for(name: str, d: int, x_bound: Bound, *, eps: float, scale: int,
                   r_scale: int | None = None, count: int | None = None,
                   pre_shift: int | None = None, mant_bits: int = 14,
                   mant_scale: int = 21) -> RsqrtPlan:
    """The checked `RsqrtPlan` of a norm over rows of length ``d`` (= D) whose input is
    bounded by ``x_bound``: the pre-shift k is ``pre_shift`` or, when None, the smallest
    k ≥ 0 for which every relation fits (x' = ⌊x/2^k⌉, E0 = round(ε·d·4^(s−k)));
    r_scale, when None, the smallest value ≥ scale keeping ≥ 13 bits in r.  A
    `ConfigError` names the node when no k ≤ `MAX_PRE_SHIFT` fits (the k = 0 reason)."""
    n = d if count is None else int(count)
    if not 1 <= n <= d:
        raise ConfigError(f"rmsnorm {name}: count {n} must be in [1, {d}] (the true hidden "
                          "size within the padded width)")
    first: ConfigError | None = None
    for k in ([pre_shift] if pre_shift is not None else range(MAX_PRE_SHIFT + 1)):
        if k < 0:
            raise ConfigError(f"rmsnorm {name}: pre_shift {k} must be ≥ 0")
        xk = x_bound.rescaled(k).max_abs if k else x_bound.max_abs
        e0 = max(1, math.floor(eps * n * 2.0 ** (2 * (scale - k)) + 0.5))
        base = RsqrtPlan(d, xk, e0, scale, scale, mant_bits, mant_scale,
                         0 if n == d else n, k)
        rs = r_scale if r_scale is not None else scale + max(0, base.e_max - base.shift)
        try:
            return attrs.evolve(base, r_scale=rs).check(name)
        except ConfigError as e:
            first = first or e
    assert first is not None
    raise first


def _growth(pl: RsqrtPlan) -> float:
    """max |x_j·r| / 2^(s+s_r) for a row pinned by x' (the comment in `add_rmsnorm`)."""
    return (math.sqrt(pl.n_true) * (1 + 2.0 ** (1 - pl.mant_bits))
            * (1 + (0.5 / math.sqrt(pl.e0) if pl.pre_shift else 0.0)))


def add_rmsnorm(g: Graph, name: str, X: str, gamma: str, *, eps: float, scale: int = 16,
                r_scale: int | None = None, x_bound: Bound | None = None,
                gamma_bound: Bound | None = None, out_bound: Bound | None = None,
                mant_bits: int = 14, mant_scale: int = 21, limb_bits: int = LIMB_BITS,
                count: int | None = None, pre_shift: int | None = None,
                precise: Sequence[tuple[int, int]] = ()) -> str:
    """Y = RMSNorm(X)·gamma at ``scale`` (module doc); X (…, D), gamma (D,) at ``scale``.

    ``count`` is the true hidden size d ≤ D (default D): X's columns j ≥ d must be zero
    (padding; the caller proves it), and the mean divides by d.  ``pre_shift`` forces
    the k of the reduced-precision sum of squares (default: the smallest that fits,
    `rsqrt_plan_for`); with k > 0 the node ``{name}/xs/rescale`` commits x' =
    ``{name}/xs`` and its remainder.

    Declares ``{name}/r`` … (the `ROW_TENSORS`, committed (…, 1); r at scale r_scale),
    ``precise``: (L, K') mantissa settings tried in order before (``mant_bits``,
    ``mant_scale``); the first whose plan and x·r bound fit is used (the node's params
    record it).
    ``{name}/xr`` (x·r at ``scale``, committed: the backward reuses it) and ``{name}/Y``
    (committed).  Bounds: X's declared (or derived) bound unless ``x_bound``; gamma's
    unless ``gamma_bound`` (default |γ| < 2^(scale+6)); r_scale defaults to the smallest
    value ≥ scale keeping ≥ 13 bits in r; ``limb_bits`` is the limb width of the range
    checks on the row tensors.  Every bound is checked to fit the field."""
    xs = tuple(g.tensors[X].shape)
    d = int(xs[-1])
    xb = x_bound or declared_bound(g, X)
    if xb is None:
        raise ConfigError(f"rmsnorm {name}: input {X} needs a declared bound (or x_bound=)")
    gb = gamma_bound or declared_bound(g, gamma) or Bound.bits(scale + 7)
    if tuple(g.tensors[gamma].shape) != (d,):
        raise ConfigError(f"rmsnorm {name}: gamma {gamma} must have shape ({d},)")
    pl = None
    for L, Kp in [*precise, (mant_bits, mant_scale)]:
        try:
            pl = rsqrt_plan_for(name, d, xb, eps=eps, scale=scale, r_scale=r_scale,
                                count=count, pre_shift=pre_shift, mant_bits=L, mant_scale=Kp)
            check_bound_fits(f"{name}/xr2", Bound.symmetric(math.ceil(
                (1 << (scale + pl.r_scale)) * _growth(pl))))
            break
        except ConfigError:
            if (L, Kp) == (mant_bits, mant_scale):
                raise
    assert pl is not None
    mant_bits = pl.mant_bits
    k = pl.pre_shift
    xin = X
    if k:
        # x_max is the image of X's bound under the rescale (`rsqrt_plan_for`): derived
        # unless the caller overrides X's bound (docs/soundness.md §3.1)
        xsb = check_bound_fits(f"{name}/xs", Bound.symmetric(pl.x_max))
        xin = rescale_node(g, f"{name}/xs", X, k, xsb, derived=x_bound is None)
    rows = xs[:-1] + (1,)
    outs = []
    bounds = {"r": (0, pl.r_max), "P": (1, pl.p_max), "H": (1, 1 << pl.shift),
              "LB": (0, 1 << mant_bits), "M": (0, pl.m_max), "Rm": (0, pl.p_max - 1),
              "G1": (0, pl.p_max - 1), "G2": (0, pl.m_max), "rM": (0, pl.rm_max),
              "Glo": (0, pl.glo_max), "Ghi": (0, pl.ghi_max)}
    for key in ROW_TENSORS:
        outs.append(g.tensor(f"{name}/{key}", rows, "committed", bounds[key]))
    g.op("rmsnorm_rsqrt", f"{name}/rsqrt", [xin], outs, limb_bits=int(limb_bits),
         **pl.params())
    r = outs[0]
    # r is pinned by x', so |x_j·r| ≤ 2^(s+s_r)·√d·(1 + 2^(1−L))·(1 + [k>0]/(2√E0)):
    # |x_j| ≤ 2^k·(|x'_j| + ½[k>0]), |x'_j| ≤ √V, r ≤ √N·2^(K−K')/√(V·(1 − 2^−L))
    # (P·M ≥ V·(1 − 2^−L)); not the loose max|x|·max r (large r only on rows of small x)
    growth = _growth(pl)
    check_bound_fits(f"{name}/xr2",
                     Bound.symmetric(math.ceil((1 << (scale + pl.r_scale)) * growth)))
    xr2 = g.tensor(f"{name}/xr2", xs, "virtual")
    g.op("hadamard", f"{name}/xr2", [X, r], [xr2])
    xr_max = math.floor((1 << scale) * growth) + 2
    xr_b = check_bound_fits(f"{name}/xr", Bound.symmetric(xr_max))
    # xr_b and (without out_bound) yb are derived, from X's and γ's declared bounds and
    # r's pinned value: Y's range check may be one-sided (`add_rescale`'s ``derived``)
    own = x_bound is None and gamma_bound is None and declared_bound(g, gamma) is not None
    xr = rescale_node(g, f"{name}/xr", xr2, pl.r_scale, xr_b, derived=x_bound is None)
    y2b = product_bound(f"{name}/y2", xr_b, gb)
    y2 = g.tensor(f"{name}/y2", xs, "virtual")
    g.op("hadamard", f"{name}/y2", [xr, gamma], [y2])
    yb = check_bound_fits(f"{name}/Y", out_bound or y2b.rescaled(scale))
    return rescale_node(g, f"{name}/Y", y2, scale, yb, derived=own and out_bound is None)


@hookimpl
def zk_ops():
    return [RmsNormRsqrt()]


@hookimpl
def zk_builders():
    return [Builder("rmsnorm", add_rmsnorm, "Y = RMSNorm(X)·γ (add_rmsnorm)"),
            Builder("rmsnorm.plan", plan_of,
                    "the RsqrtPlan of an rmsnorm_rsqrt node (plan_of(node, d))")]
