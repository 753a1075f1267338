"""RMSNorm, y = x · rsqrt(mean(x²) + ε) · g (transformers' ``LlamaRMSNorm``), in fixed point.

`add_rmsnorm` builds five nodes; X (…, d) and g (d,) at scale s, Y (…, d) at scale s:

    rsqrt   (op ``rmsnorm_rsqrt``, this module)  X → r (…, 1) at scale s_r + advice
    XR2 = X ⊙ r        (``hadamard``, broadcast over d)                   scale s + s_r
    XR  = rescale(XR2, s_r)   committed: x·rsqrt, kept for the backward    scale s
    Y2  = XR ⊙ g       (``hadamard``, g broadcast over the rows)           scale 2s
    Y   = rescale(Y2, s)      committed                                    scale s

Integer definition of ``rmsnorm_rsqrt`` (per row x ∈ Z^d; docs/ops/rmsnorm.md has the
bound analysis).  Public constants, fixed at graph-build time:

    E0 = max(1, round(ε·d·2^(2s))),  c_d = 1 if log2 d is even else 2,
    K  = s_r + s + ⌈log2(d)/2⌉   (so 2^K/√(c_d·(Σx² + E0)) = 2^s_r·rsqrt(mean x² + ε)),
    L  = mantissa bits (14),  K' = mantissa rsqrt scale (21),  N' = 2^(2K').

    V   = c_d·(Σ_j x_j² + E0)
    e   = min{e ≥ 0 : ⌊V / 4^e⌋ < 2^(L+2)}        (exponent: normalises V)
    P   = 4^e,  H = 2^(K−K'−e),  LB = 0 if e = 0 else 2^L      (looked up together)
    M   = ⌊V / P⌋,  Rm = V − P·M                   (mantissa, remainder)
    rM  = ⌊√(N' / M)⌋                              (rsqrt of the mantissa)
    r   = rM · H                                   ≈ 2^K / √V

Outputs, all committed (…, 1): r, P, H, LB, M, Rm, G1 = P − 1 − Rm, G2 = M − LB,
rM, Glo = N' − rM²·M, Ghi = (rM + 1)²·M − N' − 1.

Relations proven (for every row, via identities of MLEs at a random point z over the
rows, Schwartz–Zippel):

    c_d·(Σ_j x_j² + E0) = P·M + Rm          sumcheck over (row, j) for Σ eq(z,·)·x²,
                                            sumcheck over rows for Σ eq(z,·)·P·M
    rM²·M = N' − Glo,  (2rM + 1)·M = Glo + Ghi + 1,  r = rM·H     (same row sumcheck)
    G1 = P − 1 − Rm,  G2 = M − LB                                 (linear, at z)
    (P, H, LB) ∈ exponent table;  M, G2 ∈ [0, 2^(L+2));  Rm, G1 ∈ [0, P_max);
    rM ∈ [0, rM_max];  Glo ∈ [0, 2N');  Ghi ∈ [0, Ghi_max]          (range checks)

Together: Rm ∈ [0, P) so M = ⌊V/P⌋; M < 2^(L+2) and (e = 0 or M ≥ 2^L) pin e;
Glo, Ghi ≥ 0 give rM²·M ≤ N' < (rM + 1)²·M, i.e. rM = ⌊√(N'/M)⌋.  Every product is
bounded by the range checks far below p/2 (checked by `RsqrtPlan`), so the field
identities hold over the integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.build import Builder, declared_bound, rescale_node
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import Table
from zklora.zkcore.op import Op, Role, param
from zklora.zkcore.quant import Bound, check_bound_fits, product_bound
from zklora.zkcore.range import LIMB_BITS, RangeCheck

#: the row tensors of ``rmsnorm_rsqrt``, in output order
ROW_TENSORS = ("r", "P", "H", "LB", "M", "Rm", "G1", "G2", "rM", "Glo", "Ghi")
#: products must stay below this (p/2 of Goldilocks is ≈ 2^63; keep a margin)
PRODUCT_LIMIT = 1 << 62


@attrs.frozen
class RsqrtPlan:
    """The public constants of one ``rmsnorm_rsqrt`` node and the declared ranges of its
    advice, derived from (d, max |x|, E0, s, s_r, L, K').  Construction checks that every
    integer relation stays below 2^62 (`PRODUCT_LIMIT`) and that H = 2^(K−K'−e) is an
    integer for every reachable e; a `ConfigError` names the node otherwise."""

    d: int
    x_max: int
    e0: int
    scale: int
    r_scale: int
    mant_bits: int = 14
    mant_scale: int = 21

    @property
    def c_d(self) -> int:
        return 1 if mle.log2_exact(self.d) % 2 == 0 else 2

    @property
    def K(self) -> int:
        return self.r_scale + self.scale + (mle.log2_exact(self.d) + 1) // 2

    @property
    def shift(self) -> int:
        """K − K': H = 2^(shift − e)."""
        return self.K - self.mant_scale

    @property
    def n_mant(self) -> int:
        return 1 << (2 * self.mant_scale)

    @property
    def v_max(self) -> int:
        return self.c_d * (self.d * self.x_max ** 2 + self.e0)

    @property
    def v_min(self) -> int:
        return self.c_d * self.e0

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
        """Declared range of rM: [0, 2^k − 1] ⊇ [0, √(N'/M_min)] (a power-of-two width
        needs one range side only)."""
        m_lo = min(self.v_min, 1 << self.mant_bits)
        return (1 << math.isqrt(self.n_mant // m_lo).bit_length()) - 1

    @property
    def glo_max(self) -> int:
        return (1 << (2 * self.mant_scale + 1)) - 1

    @property
    def ghi_max(self) -> int:
        return (1 << ((2 * self.rm_max + 1) * self.m_max).bit_length()) - 1

    @property
    def r_max(self) -> int:
        return self.rm_max << self.shift

    def check(self, name: str) -> RsqrtPlan:
        if self.e0 < 1:
            raise ConfigError(f"rmsnorm {name}: E0 = round(ε·d·2^2s) must be ≥ 1")
        if self.shift < self.e_max:
            need = self.r_scale + self.e_max - self.shift
            raise ConfigError(
                f"rmsnorm {name}: r_scale {self.r_scale} too small for |x| ≤ {self.x_max} "
                f"(rsqrt would lose precision); use r_scale ≥ {need}")
        worst = {
            "V = c_d·(Σx² + E0)": self.v_max,
            "P·M": self.p_max * self.m_max,
            "rM²·M": self.rm_max ** 2 * self.m_max + self.glo_max,
            "(rM + 1)²·M": (self.rm_max + 1) ** 2 * self.m_max + self.ghi_max,
            "rM·H": self.r_max,
        }
        for what, v in worst.items():
            if v >= PRODUCT_LIMIT:
                raise ConfigError(f"rmsnorm {name}: {what} may reach 2^{math.log2(v):.1f} ≥ "
                                  f"2^62 for |x| ≤ {self.x_max}, d = {self.d}: lower the "
                                  "declared bound of x or the scales")
        return self

    def params(self) -> dict:
        return {"x_max": self.x_max, "e0": self.e0, "scale": self.scale,
                "r_scale": self.r_scale, "mant_bits": self.mant_bits,
                "mant_scale": self.mant_scale}

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
    """The `RsqrtPlan` of an ``rmsnorm_rsqrt`` node for rows of length ``d``."""
    p = RmsNormRsqrt().params(node)
    return RsqrtPlan(d, p.x_max, p.e0, p.scale, p.r_scale, p.mant_bits, p.mant_scale)


def _isqrt_floor(n: int, m: torch.Tensor) -> torch.Tensor:
    """⌊√(n / m)⌋ for int64 m ≥ 1 (exact: float estimate, then integer correction)."""
    r = torch.floor(torch.sqrt(n / m.to(torch.float64))).to(torch.int64)
    for _ in range(3):
        r = torch.where(r * r * m > n, r - 1, r)
        r = torch.where((r + 1) * (r + 1) * m <= n, r + 1, r)
    return r


def rsqrt_forward(x: torch.Tensor, pl: RsqrtPlan) -> list[torch.Tensor]:
    """The integer definition (module doc) for x (…, d); returns the 11 row tensors
    (…, 1) in `ROW_TENSORS` order."""
    x = x.to(torch.int64)
    s = (x * x).sum(-1, keepdim=True)
    v = pl.c_d * (s + pl.e0)
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
    """Pure-Python r of one row (the twin `rsqrt_forward` is tested against)."""
    v = pl.c_d * (sum(int(a) * int(a) for a in row) + pl.e0)
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

    @attrs.frozen
    class Params:  # `RsqrtPlan.params` and limb_bits
        x_max: int = param("int", lo=0)
        e0: int = param("int", lo=0)
        scale: int = param("int", lo=0, hi=62)
        r_scale: int = param("int", lo=0, hi=62)
        mant_bits: int = param("int", default=14, lo=1, hi=40)
        mant_scale: int = param("int", default=21, lo=1, hi=62)
        limb_bits: int = param("int", default=LIMB_BITS, lo=1, hi=20)

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
    def _layout(ctx, node):
        X = node.inputs[0]
        xs = tuple(ctx.spec(X).shape)
        pl = plan_of(node, int(xs[-1]))
        return (X, dict(zip(ROW_TENSORS, node.outputs)), pl, mle.num_vars(xs[:-1] + (1,)),
                mle.log2_exact(int(xs[-1])))

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

    @staticmethod
    def _row_terms(E, lam):
        """Tables (eq, rM, M, P, H): rM²M + λ(2rM·M + M) + λ²·rM·H + λ³·P·M."""
        l2 = E.mul(lam, lam)
        return [(1, (0, 1, 1, 2)), (E.add(lam, lam), (0, 1, 2)), (lam, (0, 2)),
                (l2, (0, 1, 4)), (E.mul(l2, lam), (0, 3, 2))]

    @staticmethod
    def _row_claim(E, pl, lam, v, va):
        """(N' − Glo) + λ(Glo + Ghi + 1) + λ²·r + λ³·(c_d(V_a + E0) − Rm), values at z."""
        l2 = E.mul(lam, lam)
        a = E.sub(E.scalar(pl.n_mant), v["Glo"])
        b = E.add(E.add(v["Glo"], v["Ghi"]), E.scalar(1))
        c = E.sub(E.mul(E.scalar(pl.c_d), E.add(va, E.scalar(pl.e0))), v["Rm"])
        return E.add(E.add(a, E.mul(lam, b)), E.add(E.mul(l2, v["r"]), E.mul(E.mul(l2, lam), c)))

    def relations(self, ctx, node, out_claims):
        """At a random row point z: the values of the row tensors and V_a = Σ_j x̃²
        (sent together), G1 = P − 1 − Rm and G2 = M − LB (checked on the values), the
        sum of squares and the row identities (two sumchecks), the range checks and the
        exponent lookup (module doc)."""
        E = ctx.E
        X, names, pl, n_rows, n_d = self._layout(ctx, node)
        lab = node.name
        z = ctx.challenges(f"{lab}/rsqrt/z", n_rows)
        cache: dict[str, np.ndarray] = {}

        def tabs() -> dict[str, np.ndarray]:  # prover only
            if not cache:
                eqz = mle.eq_table(E, z)
                cache.update(eqz=eqz, eqx=np.repeat(eqz, 1 << n_d, axis=0), x=ctx.ext_table(X))
            return cache

        def values():  # prover only: the row tensors at z, then V_a
            t = tabs()
            va = E.sum(E.mul(t["eqx"], E.mul(t["x"], t["x"])))
            return np.stack([ctx.evaluate(names[k], z) for k in ROW_TENSORS] + [va])

        got = ctx.exchange(f"{lab}/rsqrt/values", len(ROW_TENSORS) + 1, values)
        v = dict(zip(ROW_TENSORS, got))
        va = got[len(ROW_TENSORS)]
        for k in ROW_TENSORS:
            ctx.claim(names[k], z, v[k])
        ctx.check(lambda: E.equal(v["G1"], E.sub(E.sub(v["P"], E.scalar(1)), v["Rm"])),
                  f"rmsnorm {lab}: G1 ≠ P − 1 − Rm")
        ctx.check(lambda: E.equal(v["G2"], E.sub(v["M"], v["LB"])),
                  f"rmsnorm {lab}: G2 ≠ M − LB")
        # Σ_{row, j} eq(z, row)·x² = V_a
        pa, fa = ctx.run_sumcheck(f"{lab}/rsqrt/sumsq", n_rows + n_d, [(1, (0, 1, 1))], va,
                                  lambda: [tabs()["eqx"], tabs()["x"]],
                                  public={0: lambda p: mle.eq_eval(E, z, p[n_d:])})
        ctx.claim(X, pa, fa[1])
        lam = ctx.challenge(f"{lab}/rsqrt/lambda")
        pb, fb = ctx.run_sumcheck(
            f"{lab}/rsqrt/rows", n_rows, self._row_terms(E, lam),
            self._row_claim(E, pl, lam, v, va),
            lambda: [tabs()["eqz"]] + [ctx.ext_table(names[k]) for k in ("rM", "M", "P", "H")],
            public={0: lambda p: mle.eq_eval(E, z, p)})
        for k, f in zip(("rM", "M", "P", "H"), fb[1:]):
            ctx.claim(names[k], pb, f)
        ctx.require_lookup(pl.table(), [names["P"], names["H"], names["LB"]], f"{lab}/exp")
        return []


# -- graph builder -----------------------------------------------------------------------


def add_rmsnorm(g: Graph, name: str, X: str, gamma: str, *, eps: float, scale: int = 16,
                r_scale: int | None = None, x_bound: Bound | None = None,
                gamma_bound: Bound | None = None, out_bound: Bound | None = None,
                mant_bits: int = 14, mant_scale: int = 21, limb_bits: int = LIMB_BITS) -> str:
    """Y = RMSNorm(X)·gamma at ``scale`` (module doc); X (…, d), gamma (d,) at ``scale``.

    Declares ``{name}/r`` … (the `ROW_TENSORS`, committed (…, 1); r at scale r_scale),
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
    e0 = max(1, math.floor(eps * d * (1 << (2 * scale)) + 0.5))
    base = RsqrtPlan(d, xb.max_abs, e0, scale, scale, mant_bits, mant_scale)
    if r_scale is None:
        r_scale = scale + max(0, base.e_max - base.shift)
    pl = attrs.evolve(base, r_scale=r_scale).check(name)
    rows = xs[:-1] + (1,)
    outs = []
    bounds = {"r": (0, pl.r_max), "P": (1, pl.p_max), "H": (1, 1 << pl.shift),
              "LB": (0, 1 << mant_bits), "M": (0, pl.m_max), "Rm": (0, pl.p_max - 1),
              "G1": (0, pl.p_max - 1), "G2": (0, pl.m_max), "rM": (0, pl.rm_max),
              "Glo": (0, pl.glo_max), "Ghi": (0, pl.ghi_max)}
    for k in ROW_TENSORS:
        outs.append(g.tensor(f"{name}/{k}", rows, "committed", bounds[k]))
    g.op("rmsnorm_rsqrt", f"{name}/rsqrt", [X], outs, limb_bits=int(limb_bits), **pl.params())
    r = outs[0]
    # r is pinned by X, so |x·r| ≤ 2^K·|x|/√(P·M) ≤ 2^(s+s_r)·√d·(1 + 2^(1−L)) (|x|² ≤ Σx²,
    # P·M ≥ V·(1 − 2^−L)); not the loose max|x|·max r (large r only on rows of small x)
    growth = math.sqrt(d) * (1 + 2.0 ** (1 - mant_bits))
    check_bound_fits(f"{name}/xr2",
                     Bound.symmetric(math.ceil((1 << (scale + pl.r_scale)) * growth)))
    xr2 = g.tensor(f"{name}/xr2", xs, "virtual")
    g.op("hadamard", f"{name}/xr2", [X, r], [xr2])
    xr_max = math.floor((1 << scale) * growth) + 2
    xr_b = check_bound_fits(f"{name}/xr", Bound.symmetric(xr_max))
    xr = rescale_node(g, f"{name}/xr", xr2, pl.r_scale, xr_b)
    y2b = product_bound(f"{name}/y2", xr_b, gb)
    y2 = g.tensor(f"{name}/y2", xs, "virtual")
    g.op("hadamard", f"{name}/y2", [xr, gamma], [y2])
    yb = check_bound_fits(f"{name}/Y", out_bound or y2b.rescaled(scale))
    return rescale_node(g, f"{name}/Y", y2, scale, yb)


@hookimpl
def zk_ops():
    return [RmsNormRsqrt()]


@hookimpl
def zk_builders():
    return [Builder("rmsnorm", add_rmsnorm, "Y = RMSNorm(X)·γ (add_rmsnorm)"),
            Builder("rmsnorm.plan", plan_of,
                    "the RsqrtPlan of an rmsnorm_rsqrt node (plan_of(node, d))")]
