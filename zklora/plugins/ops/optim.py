"""Optimiser ops: ``sgd``, ``adam`` and ``adamw`` on LoRA adapter parameters.

Every op is element-wise over tensors of one shape: parameters θ (scale ``theta_scale``,
s_θ), their gradient g (scale ``grad_scale``, s_g) and, for Adam, the optimiser state.
The float reference is ``torch.optim.SGD`` / ``Adam`` / ``AdamW`` (docs/ops/optim.md
gives the derivation and the measured fidelity).

Integer specification (``forward``; every ``⌊·⌉_k`` is `zklora.zkcore.quant.rescale`:
⌊X⌉_k = ⌊(X + 2^(k−1)) / 2^k⌋, remainder R = X − 2^k·⌊X⌉_k + 2^(k−1) ∈ [0, 2^k)):

**sgd**  Q = ⌊L1·g + L2·θ⌉_k (L1 = ⌊lr·2^(k+s_θ−s_g)⌉, L2 = ⌊lr·wd·2^k⌉),  θ' = θ − Q.

**adam / adamw**  The state is kept *bias-corrected*: m̂ (scale s_g) and v̂ (scale 2·s_g)
with m̂_t = m_t/(1−β1^t), v̂_t = v_t/(1−β2^t) (torch's exp_avg / exp_avg_sq divided by
the bias corrections; `to_torch_state` / `from_torch_state` convert).  Then
m̂_t = a1·m̂_{t−1} + (1−a1)·g with the public a1 = β1·(1−β1^(t−1))/(1−β1^t) (a2 alike),
so m̂ and v̂ keep one range over all steps and step 1 is exact (m̂ = g, v̂ = g²):

    ge = g                                         (adamw, or adam with wd = 0)
    ge = ⌊2^kge·g + W·θ⌉_kge, W = ⌊wd·2^(kge+s_g−s_θ)⌉           (adam, coupled decay)
    m̂' = ⌊A1·m̂ + C1·ge⌉_k1,  C1 = ⌊(1−a1)·2^k1⌉, A1 = 2^k1 − C1
    v̂' = ⌊A2·v̂ + C2·ge²⌉_k2,  C2 = ⌊(1−a2)·2^k2⌉, A2 = 2^k2 − C2
    S  = ⌊√(v̂'·2^e)⌋     D1 = v̂'·2^e − S²,  D2 = 2S − D1           (√v̂' at scale s_s = s_g + e/2)
    D' = (S + EPS)·2^b,  N = K·m̂'·2^a,  EPS = max(1, ⌊ε·2^s_s⌉), K = ⌊lr·2^sk⌉
    Q  = ⌊(2N + D') / (2D')⌋  (N/D' rounded half up)   RQ1 = 2N + D' − 2D'·Q,  RQ2 = 2D' − 1 − RQ1
    DW = ⌊WD·θ⌉_kw, WD = ⌊lr·wd·2^kw⌉                                (adamw, wd ≠ 0)
    θ' = θ − DW − Q   (θ' = θ − Q without decoupled decay)

with a = max(E, 0), b = max(−E, 0), E = s_θ + s_s − sk − s_g, so Q ≈ lr·m̂'/(√v̂' + ε)
at scale s_θ.  All integer constants (the *plan*) are a deterministic function of the
hyper-parameters, the scales and the declared bounds (`adam_plan` / `sgd_plan`, exact
rational arithmetic); the builder stores them in the node and the verifier recomputes
and compares them.

Relations proven (each holds element-wise; all outputs and advice are committed):
every line above is an integer identity Σ c·Π X = 0 of degree ≤ 2 in the tensors.  All
of them are batched into one zero-check  Σ_x eq(z, x)·Σ_j α^j·L_j(x) = 0  at a fresh
random point z (`zklora.zkcore.relations.vanishes`: a degree-3 sumcheck, eq public),
after which the prover sends every tensor's value at the sumcheck point — one claim
each.  Every output and advice tensor is range-checked to its declared bound
(`zklora.zkcore.range`), remainders exactly [0, 2^k), S, D1, D2, RQ1, RQ2 from 0;
inputs listed in ``check_inputs`` too.  Each relation's worst-case magnitude under
the bounds is below p/2 (checked by `_check_fits` on both sides), so the identities
hold over the integers, which pins every output to the specification: R ∈ [0, 2^k)
makes each rounding unique, S ≥ 0 and 0 ≤ D1 ≤ 2S make S the floor square root,
RQ1 ∈ [0, 2D') makes Q the rounded quotient (D' ≥ 1).

The op is proven whenever one of its outputs has a claim (the builders make θ', m̂', v̂'
graph outputs: they are the statement's state after the step); claims arriving on the
committed outputs are discharged by their openings.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import attrs
import torch

from zklora.zkcore import quant
from zklora.zkcore.build import Builder
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import error, vanishes

#: planner budget: every relation's worst-case magnitude is at most 2^62 < p/2 (Goldilocks)
BUDGET = 1 << 62
#: default significant bits of every public fixed-point constant
CONST_BITS = 20

Mono = tuple[int, tuple[str, ...]]  # coefficient, factor roles (0, 1 or 2)
Bnd = tuple[int, int]

ADAM_INPUTS = ("theta", "grad", "m", "v")
SGD_INPUTS = ("theta", "grad")


# -- small exact helpers ----------------------------------------------------------------


def _rnd(x: Fraction) -> int:
    """x rounded half up (the spec's rounding)."""
    return math.floor(x + Fraction(1, 2))


def _fr(x) -> Fraction:
    return Fraction(x)


def _maxabs(b: Bnd) -> int:
    return max(abs(int(b[0])), abs(int(b[1])))


def _pow2(lo: int, hi: int) -> Bnd:
    """[lo, hi] widened upwards to a power-of-two width (a one-sided range check)."""
    w = hi - lo + 1
    return (lo, lo + (1 << (w - 1).bit_length()) - 1)


def _sym(m: int) -> Bnd:
    return _pow2(-m, m)


def magnitude(rel: Sequence[Mono], bounds: Mapping[str, Bnd]) -> int:
    """Worst-case |Σ c·Π X| of a relation under the bounds."""
    tot = 0
    for c, fs in rel:
        t = abs(c)
        for f in fs:
            t *= _maxabs(bounds[f])
        tot += t
    return tot


def _choose_k(x: Fraction, rel_for, bounds, const_bits: int, kmin: int = 1,
              kmax: int = 62) -> int:
    """Smallest k ≥ kmin with ⌊x·2^k⌉ ≥ 2^const_bits whose relation fits `BUDGET`, else
    the largest k that fits; ConfigError if none fits."""
    best = None
    for k in range(kmin, kmax + 1):
        if magnitude(rel_for(k), bounds(k) if callable(bounds) else bounds) > BUDGET:
            break
        best = k
        if x == 0 or _rnd(abs(x) * Fraction(2) ** k) >= 1 << const_bits:
            return k
    if best is None:
        raise ConfigError("optimiser: no fixed-point shift keeps the relation below p/2; "
                          "narrow the declared bounds or lower the scales")
    return best


def _bias(beta: Fraction, t: int) -> Fraction:
    """a_t = β·(1−β^(t−1))/(1−β^t): weight of the previous bias-corrected moment."""
    return beta * (1 - beta ** (t - 1)) / (1 - beta ** t)


def _rescale_rel(y: str, r: str, k: int, terms: Sequence[Mono]) -> list[Mono]:
    """2^k·Y + R − 2^(k−1) − Σ terms = 0."""
    return [(1 << k, (y,)), (1, (r,)), (-(1 << (k - 1)), ())] + [(-c, fs) for c, fs in terms]


def _isqrt(x: torch.Tensor) -> torch.Tensor:
    """Element-wise ⌊√x⌋ of a non-negative int64 tensor (x < 2^62)."""
    s = torch.sqrt(x.to(torch.float64)).floor().to(torch.int64)
    for _ in range(3):
        s = torch.where(s * s > x, s - 1, s)
        s = torch.where((s + 1) * (s + 1) <= x, s + 1, s)
    return s


# -- plans ---------------------------------------------------------------------------------


def _hp(params: Mapping) -> dict:
    return {"lr": _fr(params["lr"]), "wd": _fr(params.get("weight_decay", 0.0)),
            "st": int(params["theta_scale"]), "sg": int(params["grad_scale"]),
            "cb": int(params.get("const_bits", CONST_BITS))}


def sgd_plan(params: Mapping, bounds: Mapping[str, Bnd]) -> dict:
    """Integer constants and advice bounds of ``sgd`` from its hyper-parameters, scales
    and the declared bounds of theta, grad (and theta_new)."""
    h = _hp(params)
    lr, wd, st, sg = h["lr"], h["wd"], h["st"], h["sg"]
    if lr <= 0 or wd < 0:
        raise ConfigError("sgd: lr must be > 0 and weight_decay ≥ 0")
    Tm, Gm = _maxabs(bounds["theta"]), _maxabs(bounds["grad"])
    qm = math.ceil(lr * (Gm * Fraction(2) ** (st - sg) + wd * Tm)) + 1
    b = dict(bounds)
    b["q"] = _sym(qm)

    def rel(k):
        b["r_q"] = (0, (1 << k) - 1)
        L1 = _rnd(lr * Fraction(2) ** (k + st - sg))
        L2 = _rnd(lr * wd * (1 << k))
        return _rescale_rel("q", "r_q", k, [(L1, ("grad",)), (L2, ("theta",))])

    x = min(v for v in (lr * Fraction(2) ** (st - sg), lr * wd) if v > 0)
    k = _choose_k(x, rel, b, h["cb"])
    rel(k)
    return {"k": k, "L1": _rnd(lr * Fraction(2) ** (k + st - sg)), "L2": _rnd(lr * wd * (1 << k)),
            "bounds": {n: b[n] for n in ("q", "r_q")}}


def _ratio_bound(b1: float, b2: float, t: int) -> float:
    """Cauchy–Schwarz bound on |m̂_t|/√v̂_t for any gradient history from a zero state:
    √(Σ_i w1_i²/w2_i) with the EMA weights w of m̂ and v̂."""
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    s = sum(((1 - b1) * b1 ** j / bc1) ** 2 / ((1 - b2) * b2 ** j / bc2) for j in range(t))
    return math.sqrt(s)


def adam_update_bound(params: Mapping, e: int) -> int:
    """Default declared bound of the update Q (integers at s_θ): twice the worst honest
    |lr·m̂/(√v̂+ε)| including the effect of fixed-point rounding of m̂ and v̂."""
    h = _hp(params)
    b1, b2 = params["betas"]
    t = int(params["step"])
    rho = _ratio_bound(float(b1), float(b2), t)
    ss = h["sg"] + e // 2
    eps_eff = max(1, _rnd(_fr(params["eps"]) * (1 << ss))) / 2.0 ** ss
    ratio = rho + 1 + (rho + 1) * 2.0 ** -h["sg"] / eps_eff
    return math.ceil(2 * float(h["lr"]) * ratio * 2.0 ** h["st"]) + 2


def adam_roles(decoupled: bool, weight_decay: float) -> tuple[str, ...]:
    """Output roles of an adam/adamw node, in ``node.outputs`` order."""
    coupled = not decoupled and weight_decay != 0
    dec = decoupled and weight_decay != 0
    return (("theta_new", "m_new", "v_new") + (("ge", "r_ge") if coupled else ())
            + ("r_m", "r_v", "s", "d1", "d2", "q", "rq1", "rq2")
            + (("dw", "r_dw") if dec else ()))


#: `adam_plan` results by (parameters, bounds, decoupled): every adapter tensor of a
#: step has the same hyper-parameters and bounds, and the prover, the verifier and the
#: builder each ask for the plan of every node (the plan is a pure function of these)
_PLANS: dict[str, dict] = {}
_PLANS_MAX = 256


def adam_plan(params: Mapping, bounds: Mapping[str, Bnd], decoupled: bool) -> dict:
    """`_adam_plan`, memoised on its inputs (a fresh copy each call)."""
    try:
        key = json.dumps([params, sorted((k, list(v)) for k, v in bounds.items()),
                          bool(decoupled)], sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return _adam_plan(params, bounds, decoupled)
    hit = _PLANS.get(key)
    if hit is None:
        hit = _adam_plan(params, bounds, decoupled)
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = hit
    return copy.deepcopy(hit)


def _adam_plan(params: Mapping, bounds: Mapping[str, Bnd], decoupled: bool) -> dict:
    """Integer constants and derived advice bounds of ``adam``/``adamw`` from the
    hyper-parameters, the scales and the declared bounds of theta, grad, m, v,
    theta_new, m_new, v_new and q (the free bounds)."""
    h = _hp(params)
    lr, wd, st, sg, cb = h["lr"], h["wd"], h["st"], h["sg"], h["cb"]
    b1, b2 = (_fr(x) for x in params["betas"])
    eps = _fr(params["eps"])
    t = int(params["step"])
    if t < 1 or lr <= 0 or wd < 0 or eps <= 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ConfigError("adam: need step ≥ 1, lr > 0, eps > 0, wd ≥ 0, betas in [0, 1)")
    coupled = not decoupled and wd != 0
    dec = decoupled and wd != 0
    b = dict(bounds)
    plan: dict = {}
    Tm = _maxabs(b["theta"])
    if coupled:
        dge = math.ceil(wd * Tm * Fraction(2) ** (sg - st)) + 1
        b["ge"] = _pow2(b["grad"][0] - dge, b["grad"][1] + dge)

        def rel_ge(k):
            b["r_ge"] = (0, (1 << k) - 1)
            W = _rnd(wd * Fraction(2) ** (k + sg - st))
            return _rescale_rel("ge", "r_ge", k, [(1 << k, ("grad",)), (W, ("theta",))])

        k = _choose_k(wd * Fraction(2) ** (sg - st), rel_ge, b, cb)
        rel_ge(k)
        plan.update(k_ge=k, W=_rnd(wd * Fraction(2) ** (k + sg - st)))
    ge = "ge" if coupled else "grad"
    # moments
    for mom, src, beta, kk in (("m", (ge,), b1, "k1"), ("v", (ge, ge), b2, "k2")):
        a = _bias(beta, t)

        def rel_mom(k, mom=mom, src=src, a=a):
            b[f"r_{mom}"] = (0, (1 << k) - 1)
            C = _rnd((1 - a) * (1 << k))
            return _rescale_rel(f"{mom}_new", f"r_{mom}", k,
                                [((1 << k) - C, (mom,)), (C, src)])

        x = min(a, 1 - a) if a > 0 else Fraction(1)
        k = _choose_k(x, rel_mom, b, cb)
        rel_mom(k)
        C = _rnd((1 - a) * (1 << k))
        plan.update({kk: k, f"A{kk[1]}": (1 << k) - C, f"C{kk[1]}": C})
    # floor square root of v̂'·2^e
    V2m = _maxabs(b["v_new"])
    e = None
    for cand in range(16, -1, -2):
        smax = math.isqrt(V2m << cand)
        bb = dict(b, s=_pow2(0, smax), d1=_pow2(0, 2 * smax))
        if magnitude([(1 << cand, ("v_new",)), (-1, ("s", "s")), (-1, ("d1",))], bb) <= BUDGET:
            e = cand
            break
    if e is None:
        raise ConfigError("adam: the bound of v_new is too wide for the square root")
    smax = math.isqrt(V2m << e)
    b["s"] = _pow2(0, smax)
    b["d1"] = b["d2"] = _pow2(0, 2 * b["s"][1])
    ss = sg + e // 2
    EPS = max(1, _rnd(eps * (1 << ss)))
    plan.update(e=e, EPS=EPS)

    # rounded division Q = N / D'
    def div_consts(sk):
        E = st + ss - sk - sg
        return _rnd(lr * Fraction(2) ** sk), max(E, 0), max(-E, 0)

    def rel_div(sk):
        K, a, bb = div_consts(sk)
        dmax = (b["s"][1] + EPS) << bb
        b["rq1"] = b["rq2"] = _pow2(0, 2 * dmax - 1)
        return _div_rel(K, a, bb, EPS)

    sk = _choose_k(lr, rel_div, b, cb, kmin=0)
    rel_div(sk)
    K, a, bb = div_consts(sk)
    plan.update(sk=sk, K=K, a=a, b=bb)
    if dec:
        dwm = math.ceil(lr * wd * Tm) + 1
        b["dw"] = _sym(dwm)

        def rel_dw(k):
            b["r_dw"] = (0, (1 << k) - 1)
            return _rescale_rel("dw", "r_dw", k, [(_rnd(lr * wd * (1 << k)), ("theta",))])

        k = _choose_k(lr * wd, rel_dw, b, cb)
        rel_dw(k)
        plan.update(kw=k, WD=_rnd(lr * wd * (1 << k)))
    derived = [r for r in adam_roles(decoupled, float(wd))[3:] if r != "q"]
    plan["bounds"] = {r: b[r] for r in derived}
    return plan


def _div_rel(K: int, a: int, b: int, EPS: int) -> list[Mono]:
    """RQ1 − 2N − D' + 2·D'·Q = 0 with N = K·m̂'·2^a, D' = (S + EPS)·2^b."""
    return [(1, ("rq1",)), (-(K << (a + 1)), ("m_new",)), (-(1 << b), ("s",)),
            (-(EPS << b), ()), (1 << (b + 1), ("q", "s")), (EPS << (b + 1), ("q",))]


def adam_relations(plan: Mapping, decoupled: bool, coupled: bool) -> list[list[Mono]]:
    """The integer identities of the adam/adamw spec (module doc), over role names."""
    P = plan
    ge = "ge" if coupled else "grad"
    rels = []
    if coupled:
        rels.append(_rescale_rel("ge", "r_ge", P["k_ge"],
                                 [(1 << P["k_ge"], ("grad",)), (P["W"], ("theta",))]))
    rels.append(_rescale_rel("m_new", "r_m", P["k1"], [(P["A1"], ("m",)), (P["C1"], (ge,))]))
    rels.append(_rescale_rel("v_new", "r_v", P["k2"], [(P["A2"], ("v",)), (P["C2"], (ge, ge))]))
    rels.append([(1 << P["e"], ("v_new",)), (-1, ("s", "s")), (-1, ("d1",))])
    rels.append([(1, ("d2",)), (-2, ("s",)), (1, ("d1",))])
    rels.append(_div_rel(P["K"], P["a"], P["b"], P["EPS"]))
    rels.append([(1, ("rq2",)), (1, ("rq1",)), (-(2 << P["b"]), ("s",)),
                 (-(P["EPS"] << (P["b"] + 1)), ()), (1, ())])
    th = [(1, ("theta_new",)), (-1, ("theta",)), (1, ("q",))]
    if decoupled and "kw" in P:
        rels.append(_rescale_rel("dw", "r_dw", P["kw"], [(P["WD"], ("theta",))]))
        th.append((1, ("dw",)))
    rels.append(th)
    return [[(c, fs) for c, fs in r if c != 0] for r in rels]


def sgd_relations(plan: Mapping) -> list[list[Mono]]:
    return [[(c, fs) for c, fs in _rescale_rel("q", "r_q", plan["k"],
                                                [(plan["L1"], ("grad",)),
                                                 (plan["L2"], ("theta",))]) if c != 0],
            [(1, ("theta_new",)), (-1, ("theta",)), (1, ("q",))]]


# -- field fit -----------------------------------------------------------------------------------


def _check_fits(ctx, node, rels, bounds) -> None:
    """Every relation's worst-case magnitude is below p/2 in the proof's field."""
    half = (ctx.F.p - 1) // 2
    for j, rel in enumerate(rels):
        if magnitude(rel, bounds) >= half:
            raise error(ctx, f"{node.name}: relation {j} may reach p/2 in field "
                             f"{ctx.F.name}; narrow the declared bounds")


# -- ops ------------------------------------------------------------------------------------------


def _hyper(**extra):
    """The parameters of an optimiser node: hyper-parameters, scales, the stored plan
    constants and the inputs to range-check (plus ``extra`` fields)."""
    return attrs.make_class("Params", {
        "lr": param("float", doc="> 0"),
        **extra,
        "weight_decay": param("float", default=0.0, lo=0.0),
        "theta_scale": param("int", lo=0, hi=62),
        "grad_scale": param("int", lo=0, hi=62),
        "const_bits": param("int", default=CONST_BITS, lo=1, hi=62),
        "plan": param("any", default=attrs.Factory(dict), doc="the planned constants"),
        "check_inputs": param("any", default=(), doc="input roles to range-check"),
    }, frozen=True)


class _OptimOp(Op):
    """Shared relations: check the plan, range checks, one zero-check."""

    input_roles: tuple[str, ...]
    #: zero knowledge: the output claims are not read (committed outputs, opened); the
    #: zero-check's finals are hidden (`relations.vanishes`)
    zk_blinds = ABSORB

    def validate(self, node, p, specs):
        if not isinstance(p.plan, Mapping) or not all(
                isinstance(v, int) for v in p.plan.values()):
            raise ValueError("parameter 'plan' must map names to integer constants")
        if isinstance(p.check_inputs, str) or not all(
                r in self.input_roles for r in p.check_inputs):
            raise ValueError(f"parameter 'check_inputs' must list roles of "
                             f"{self.input_roles}")
        names = self.io(node).roles
        bounds = {role: tuple(int(x) for x in specs[t].bound) for role, t in names.items()}
        try:
            plan = self.plan(node, {r: bounds[r] for r in self.input_roles + self.free()})
        except ConfigError as e:
            raise ValueError(str(e)) from None
        want = {k: v for k, v in plan.items() if k != "bounds"}
        if dict(p.plan) != want:
            raise ValueError(f"stored constants {dict(p.plan)} differ from the plan {want} of "
                             "the hyper-parameters")
        for role, bd in plan["bounds"].items():
            if bounds[role] != tuple(bd):
                raise ValueError(f"{names[role]} must be declared with bound {tuple(bd)}, not "
                                 f"{bounds[role]}")

    def roles(self, node, p, specs):
        return (tuple(Role(r, shape="theta", bounded=True) for r in self.input_roles),
                tuple(Role(r, "committed", "theta", bounded=True)
                      for r in self.outputs_of(node)))

    def outputs_of(self, node) -> tuple[str, ...]:
        raise NotImplementedError

    def plan(self, node, bounds) -> dict:
        raise NotImplementedError

    def identities(self, node, plan) -> list[list[Mono]]:
        """The integer identities of the spec, over role names."""
        raise NotImplementedError

    def free(self) -> tuple[str, ...]:
        """Output roles whose bounds are the builder's choice (the rest are derived)."""
        raise NotImplementedError

    def range_checks(self, node, p, specs):
        """Every output and advice tensor and the ``check_inputs`` in their declared
        bounds."""
        names = self.io(node).roles
        out = []
        for r in list(self.outputs_of(node)) + list(p.check_inputs):
            lo, hi = specs[names[r]].bound
            out.append(RangeCheck(names[r], int(lo), int(hi), f"{node.name}/{r}"))
        return out

    def relations(self, ctx, node, out_claims):
        """One zero-check of every identity of the spec (module doc); the range checks
        of the outputs, advice and checked inputs are `range_checks`."""
        names = self.io(node).roles
        bounds = {role: tuple(int(x) for x in ctx.spec(t).bound) for role, t in names.items()}
        rels = self.identities(node, self.params(node).plan)  # = the plan (validate)
        _check_fits(ctx, node, rels, bounds)
        vanishes(ctx, node.name, [[(c, tuple(names[f] for f in fs)) for c, fs in rel]
                                  for rel in rels])
        return []


class SGD(_OptimOp):
    """θ' = θ − ⌊lr·(g + wd·θ)⌉ (module doc)."""

    name = "sgd"
    input_roles = SGD_INPUTS
    Params = _hyper()

    def outputs_of(self, node):
        return ("theta_new", "q", "r_q")

    def free(self):
        return ("theta_new",)

    def plan(self, node, bounds):
        return sgd_plan(node.params, bounds)

    def identities(self, node, plan):
        return sgd_relations(plan)

    def forward(self, node, inputs):
        P = self.params(node).plan
        T, G = inputs
        q, r = quant.rescale(P["L1"] * G + P["L2"] * T, P["k"])
        return [T - q, q, r]


class Adam(_OptimOp):
    """Adam with L2 weight decay added to the gradient (``torch.optim.Adam``)."""

    name = "adam"
    input_roles = ADAM_INPUTS
    Params = _hyper(betas=param("floats", length=2, lo=0.0, hi=1.0), eps=param("float"),
                    step=param("int", lo=1))
    decoupled = False

    def _wd(self, node) -> float:
        return self.params(node).weight_decay

    def outputs_of(self, node):
        return adam_roles(self.decoupled, self._wd(node))

    def free(self):
        return ("theta_new", "m_new", "v_new", "q")

    def plan(self, node, bounds):
        return adam_plan(node.params, bounds, self.decoupled)

    def identities(self, node, plan):
        coupled = not self.decoupled and self._wd(node) != 0
        return adam_relations(plan, self.decoupled, coupled)

    def forward(self, node, inputs):
        P = self.params(node).plan
        T, G, M, V = inputs
        out = {}
        ge = G
        if "k_ge" in P:
            ge, out["r_ge"] = quant.rescale((G << P["k_ge"]) + P["W"] * T, P["k_ge"])
            out["ge"] = ge
        out["m_new"], out["r_m"] = quant.rescale(P["A1"] * M + P["C1"] * ge, P["k1"])
        out["v_new"], out["r_v"] = quant.rescale(P["A2"] * V + P["C2"] * ge * ge, P["k2"])
        X = out["v_new"] << P["e"]
        S = _isqrt(X)
        out["s"], out["d1"] = S, X - S * S
        out["d2"] = 2 * S - out["d1"]
        Dp = (S + P["EPS"]) << P["b"]
        num = ((P["K"] * out["m_new"]) << (P["a"] + 1)) + Dp
        q = torch.div(num, 2 * Dp, rounding_mode="floor")
        out["q"] = q
        out["rq1"] = num - 2 * Dp * q
        out["rq2"] = 2 * Dp - 1 - out["rq1"]
        th = T - q
        if "kw" in P:
            out["dw"], out["r_dw"] = quant.rescale(P["WD"] * T, P["kw"])
            th = th - out["dw"]
        out["theta_new"] = th
        return [out[r] for r in self.outputs_of(node)]


class AdamW(Adam):
    """Adam with decoupled weight decay θ ← θ − lr·wd·θ (``torch.optim.AdamW``)."""

    name = "adamw"
    decoupled = True


# -- builders ------------------------------------------------------------------------------------


def _inputs_to_check(g, names: Mapping[str, str]) -> list[str]:
    """Inputs range-checked by the op: graph inputs (no producer) and virtual tensors;
    a committed tensor produced by another op is range-checked by its producer."""
    out = []
    for role, t in names.items():
        if g.producer(t) is None or g.tensors[t].kind == "virtual":
            out.append(role)
    return out


def _bound(g, t: str) -> Bnd:
    b = g.tensors[t].bound
    if b is None:
        raise ConfigError(f"tensor {t} needs a declared bound for the optimiser")
    return (int(b[0]), int(b[1]))


def _declare(g, name: str, shape, bound: Bnd) -> str:
    g.tensor(name, shape, "committed", tuple(int(x) for x in bound))
    return name


def add_sgd(g, name: str, theta: str, grad: str, *, lr: float = 1e-3,
            weight_decay: float = 0.0, theta_scale: int = 16, grad_scale: int = 24,
            theta_bound: Bnd | None = None, const_bits: int = CONST_BITS,
            check_inputs: Sequence[str] | None = None, as_outputs: bool = True) -> str:
    """Declare θ' (bound: θ's unless ``theta_bound``) and the advice, add an ``sgd`` node;
    returns θ'.  ``as_outputs`` makes θ' a graph output (so the op is proven)."""
    shape = g.tensors[theta].shape
    params = {"lr": float(lr), "weight_decay": float(weight_decay),
              "theta_scale": int(theta_scale), "grad_scale": int(grad_scale),
              "const_bits": int(const_bits)}
    names = {"theta": theta, "grad": grad}
    tb = tuple(theta_bound) if theta_bound is not None else _bound(g, theta)
    bounds = {"theta": _bound(g, theta), "grad": _bound(g, grad), "theta_new": tb}
    plan = sgd_plan(params, bounds)
    outs = [_declare(g, f"{name}/theta", shape, tb)]
    outs += [_declare(g, f"{name}/{r}", shape, plan["bounds"][r]) for r in ("q", "r_q")]
    params["plan"] = {k: v for k, v in plan.items() if k != "bounds"}
    params["check_inputs"] = list(check_inputs) if check_inputs is not None else \
        _inputs_to_check(g, names)
    g.op("sgd", name, [theta, grad], outs, **params)
    if as_outputs and outs[0] not in g.outputs:
        g.outputs.append(outs[0])
    return outs[0]


def adam_state_bounds(grad_bound: Bnd, *, theta_bound: Bnd | None = None,
                      weight_decay: float = 0.0, decoupled: bool = True, theta_scale: int = 16,
                      grad_scale: int = 24) -> tuple[Bnd, Bnd]:
    """Bounds to declare for the initial (m̂, v̂) so that every step of a chain keeps
    them: m̂ within the (decayed) gradient's range, v̂ within [0, its square]."""
    ge = tuple(grad_bound)
    if not decoupled and weight_decay != 0:
        if theta_bound is None:
            raise ConfigError("adam_state_bounds: coupled weight decay needs theta_bound")
        dge = math.ceil(Fraction(weight_decay) * _maxabs(theta_bound)
                        * Fraction(2) ** (grad_scale - theta_scale)) + 1
        ge = _pow2(ge[0] - dge, ge[1] + dge)
    return _pow2(*ge), _pow2(0, _maxabs(ge) ** 2)


def add_adam(g, name: str, theta: str, grad: str, m: str, v: str, *, step: int,
             lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
             weight_decay: float = 1e-2, decoupled: bool = True, theta_scale: int = 16,
             grad_scale: int = 24, theta_bound: Bnd | None = None,
             update_bound: int | None = None, const_bits: int = CONST_BITS,
             check_inputs: Sequence[str] | None = None,
             as_outputs: bool = True) -> tuple[str, str, str]:
    """Declare θ', m̂', v̂' and the advice of one Adam (``decoupled=False``) or AdamW
    step ``step`` (1-based) and add the node; returns (θ', m̂', v̂').

    m and v are the *bias-corrected* moments (module doc) at scales grad_scale and
    2·grad_scale; at step 1 pass zeros.  Output bounds: θ' keeps θ's (or
    ``theta_bound``), m̂' the hull of m's and the gradient's, v̂' [0, max(v, g²)]
    — so a chain of steps keeps the same bounds.  ``update_bound`` (integer, scale
    theta_scale) bounds |lr·m̂/(√v̂+ε)|; default `adam_update_bound`.
    """
    shape = g.tensors[theta].shape
    params = {"lr": float(lr), "betas": [float(betas[0]), float(betas[1])], "eps": float(eps),
              "weight_decay": float(weight_decay), "step": int(step),
              "theta_scale": int(theta_scale), "grad_scale": int(grad_scale),
              "const_bits": int(const_bits)}
    names = {"theta": theta, "grad": grad, "m": m, "v": v}
    bounds = {r: _bound(g, t) for r, t in names.items()}
    bounds["theta_new"] = tuple(theta_bound) if theta_bound is not None else bounds["theta"]
    # ge's bound (with coupled decay) widens the gradient's; m̂' and v̂' cover both
    ge_b = bounds["grad"]
    wd = Fraction(weight_decay)
    if not decoupled and weight_decay != 0:
        dge = math.ceil(wd * _maxabs(bounds["theta"])
                        * Fraction(2) ** (grad_scale - theta_scale)) + 1
        ge_b = _pow2(bounds["grad"][0] - dge, bounds["grad"][1] + dge)
    bounds["m_new"] = _pow2(min(bounds["m"][0], ge_b[0]), max(bounds["m"][1], ge_b[1]))
    bounds["v_new"] = _pow2(0, max(bounds["v"][1], _maxabs(ge_b) ** 2))
    qb = update_bound
    if qb is None:
        probe = adam_plan(params, dict(bounds, q=(-1, 1)), decoupled)
        qb = adam_update_bound(params, probe["e"])
    bounds["q"] = _sym(int(qb))
    plan = adam_plan(params, bounds, decoupled)
    roles = adam_roles(decoupled, weight_decay)
    outs = []
    for r, suffix in zip(roles[:3], ("theta", "m", "v")):
        outs.append(_declare(g, f"{name}/{suffix}", shape, bounds[r]))
    for r in roles[3:]:
        outs.append(_declare(g, f"{name}/{r}", shape, bounds["q"] if r == "q"
                             else plan["bounds"][r]))
    params["plan"] = {k: v for k, v in plan.items() if k != "bounds"}
    params["check_inputs"] = list(check_inputs) if check_inputs is not None else \
        _inputs_to_check(g, names)
    g.op("adamw" if decoupled else "adam", name, [theta, grad, m, v], outs, **params)
    if as_outputs:
        for t in outs[:3]:
            if t not in g.outputs:
                g.outputs.append(t)
    return outs[0], outs[1], outs[2]


# -- conversions to and from torch's optimiser state ----------------------------------------------


def from_torch_state(exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor, step: int,
                     betas: tuple[float, float], grad_scale: int) -> tuple[torch.Tensor,
                                                                          torch.Tensor]:
    """torch's (exp_avg, exp_avg_sq) after ``step`` steps → integer (m̂, v̂)."""
    if step == 0:
        z = torch.zeros_like(exp_avg, dtype=torch.int64)
        return z, z.clone()
    bc1, bc2 = 1 - betas[0] ** step, 1 - betas[1] ** step
    return (quant.to_fixed(exp_avg.double() / bc1, grad_scale, name="m"),
            quant.to_fixed(exp_avg_sq.double() / bc2, 2 * grad_scale, name="v"))


def to_torch_state(m: torch.Tensor, v: torch.Tensor, step: int, betas: tuple[float, float],
                   grad_scale: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer (m̂, v̂) after ``step`` steps → torch's (exp_avg, exp_avg_sq) in float64."""
    bc1, bc2 = 1 - betas[0] ** step, 1 - betas[1] ** step
    return (quant.from_fixed(m, grad_scale) * bc1,
            v.to(torch.float64) / float(1 << (2 * grad_scale)) * bc2)


@hookimpl
def zk_ops():
    return [SGD(), Adam(), AdamW()]


@hookimpl
def zk_builders():
    return [Builder("sgd", add_sgd, "one SGD step of a tensor (add_sgd)"),
            Builder("adam", add_adam, "one Adam/AdamW step of a tensor (add_adam)"),
            Builder("adam.state_bounds", adam_state_bounds,
                    "declared bounds of Adam's moments (adam_state_bounds)")]
