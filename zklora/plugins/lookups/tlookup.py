"""``tlookup``: zkLLM's LogUp variant that commits the inverse vectors (paper profile).

With c_i = C_0(i) + Σ_(k≥1) α_k C_k(i) (combined lookup columns, 2^K rows, see
`zklora.zkcore.lookup.LookupLayout`; independent α_k, `draw_combiners`),
τ_j = T_0(j) + Σ_(k≥1) α_k T_k(j) (public table, 2^t rows) and
committed multiplicities m, the prover commits

    A_i = 1 / (β − c_i),        B_j = m_j / (β − τ_j),

sends s_A = Σ_i A_i and s_B = Σ_j B_j, and the verifier checks s_A = s_B.  Inverse
correctness and the sums are proven by two degree-3 sumchecks, at random points r_A,
r_B and with random γ_A, γ_B:

    Σ_x eq(r_A, x)·A(x)·(β − c(x)) + γ_A·A(x)          = 1 + γ_A·s_A,
    Σ_x eq(r_B, x)·[B(x)·(β − τ(x)) − m(x)] + γ_B·B(x) = γ_B·s_B,

(Σ_x eq(r, x) = 1), which hold for random r, γ only if A ⊙ (β − c) = 1, B ⊙ (β − τ) = m
and the sums are right.  They end in claims on A, B, m and the request columns; τ is
evaluated by the verifier.

A and B live in the challenge field E.  Under goldilocks (E = F[x]/(x² − 7)) each is
committed as its two base-field coordinate tensors A = A.0 + x·A.1, and a claim
Ã(ρ) = v becomes claims Ã.0(ρ) = v0, Ã.1(ρ) = v1 with v0 + x·v1 = v (the MLE is linear);
under bls12-381-fr (E = F) A is committed as is.  So tlookup runs under both fields,
at the cost of 2·(2^K + 2^t) more committed elements than logup-gkr.

Soundness: as for logup-gkr (docs/soundness.md §2.2), the fraction identity with
independent combiners, cleared of its denominators, has degree < N + T in (α, β) (N
looked-up rows, T table rows).  Unlike logup-gkr's root denominators, B ⊙ (β − τ) = m
does not exclude β = τ_j (then m_j = 0 and B_j is free), an event of probability
≤ T/|E|, so the term counts N + 2T (`soundness_rows`); both sides refuse an argument
for which (N + 2T)/|E| exceeds 2^-100 (`zklora.zkcore.security.check_lookup`; tlookup
draws one challenge set only).

Zero knowledge (docs/zero-knowledge.md §5.1 "tlookup"; the same condition as LogUp-GKR's
hidden mode: a ZK session whose context hides, ``ctx.hide_lookups``): nothing the
argument sends is a function of the witness.

* The sums are not sent: the prover sends s' = s + ν_s (ν_s = `zk.fresh_nu`, committed
  with the witness before any challenge) and both sumchecks carry −ν_s as a blind,

      Σ_x eq(r_A, x)·A·(β − c) + γ_A·A + γ_A·ν_s          = 1 + γ_A·s',
      Σ_x eq(r_B, x)·[B·(β − τ) − m] + γ_B·B + γ_B·ν_s    = γ_B·s',

  so both prove their sum equal to the one committed-but-unknown s' − ν_s (the old
  check s_A = s_B).
* Both sumchecks are hidden (`zk.run_hidden`: finals f̂ = f + Z·ν, last round masked
  at the hidden degree, the final check a claim on the masks).
* A hidden final of a committed tensor T (A, B, m) becomes the blinded claim
  T̃(ρ) + Z·ν = f̂ when T may carry the blind (`Committer.may_blind`: its stack and the
  masks' stack agree, or the opening takes masks across stacks — A and B are committed
  after β, in a stack of their own, `Committer.blinds_across`); otherwise (and for the
  coordinates of A, B over an extension field) T̃(ρ) + ν' is sent (ν' fresh when T may
  carry it, else plain) and the difference is a claim on the masks.
* The looked-up columns: `LookupLayout.columns_hidden` (col~(ρ) + ν), the difference to
  the hidden finals a claim on the masks.

Outside that mode nothing changes (same messages, same bytes).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from zklora.kernels import lookup_gkr as KL
from zklora.zkcore import mle, zk
from zklora.zkcore.claims import Blind, blind_value, scale_blind
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import (
    LookupArgument,
    LookupCommitted,
    draw_combiners,
    table_field_columns,
)


def _basis(E: Field) -> list[np.ndarray]:
    """The coordinate basis 1, x, … of E over its prime field."""
    if not E.elem_shape:
        return [E.scalar(1)]
    out = []
    for j in range(E.degree):
        e = E.zeros(())
        e[j] = 1
        out.append(e)
    return out


def _components(E: Field, a: np.ndarray) -> list[np.ndarray]:
    """Base-field coordinate arrays of an E-array."""
    if not E.elem_shape:
        return [a]
    return [np.ascontiguousarray(a[..., j]) for j in range(E.degree)]


def _names(E: Field, name: str) -> list[str]:
    return [name] if not E.elem_shape else [f"{name}.{j}" for j in range(E.degree)]


def _commit_E(ctx, name: str, size: int, compute) -> None:
    """Commit an E-valued vector of ``size`` entries (``compute()``, prover only, cached)
    as its base-field coordinate tensors."""
    for j, n in enumerate(_names(ctx.E, name)):
        ctx.field_advice(n, size, lambda j=j: _components(ctx.E, compute())[j])


def _claim_E(ctx, name: str, point, value, label: str) -> None:
    """Split the claim Ã(point) = value on an E-valued committed vector into claims on
    its coordinates (sent by the prover), checking Σ_j basis_j·Ã.j(point) = value."""
    E = ctx.E
    vals = ctx.reveal(f"{label}/coords", _names(E, name), point)
    acc = E.scalar(0)
    for b, v in zip(_basis(E), vals):
        acc = E.add(acc, E.mul(b, v))
    ctx.check(E.equal(acc, value), f"{label}: coordinates of {name} do not match its "
              "evaluation")


def _terms_A(E: Field, apow, beta, gamma, width: int):
    """Tables [eq, A, C_1..C_w]: eq·A·β − Σ_k a_k eq·A·C_k + γ·A (a = `draw_combiners`)."""
    terms = [(beta, (0, 1))]
    terms += [(E.neg(apow[k]), (0, 1, 2 + k)) for k in range(width)]
    terms.append((gamma, (1,)))
    return terms


def _terms_B(E: Field, apow, beta, gamma, width: int):
    """Tables [eq, B, m, T_1..T_w]: eq·B·β − Σ_k a_k eq·B·T_k − eq·m + γ·B."""
    terms = [(beta, (0, 1))]
    terms += [(E.neg(apow[k]), (0, 1, 3 + k)) for k in range(width)]
    terms += [(E.neg(E.scalar(1)), (0, 2)), (gamma, (1,))]
    return terms


def _commit_inverses(ctx, c: LookupCommitted):
    """Draw the combiners and commit A = 1/(β − c) (lookup side) and B = m/(β − τ) (table
    side), both sides: returns (α powers, β, A, B) with A, B cached prover callables."""
    F, E = ctx.F, ctx.E
    table, wit = c.table, c.witness
    apow, beta = draw_combiners(ctx, table.width, c.label)

    @cache
    def A():
        return E.inv(KL.leaf_denoms(E, wit.columns, apow, beta))

    @cache
    def B():
        tcols = table_field_columns(F, table)
        m_E = mle.lift(E, ctx.table(c.m), base=True)
        return E.mul(E.inv(KL.leaf_denoms(E, tcols, apow, beta)), m_E)

    _commit_E(ctx, f"{c.label}/A", c.layout.size, A)
    _commit_E(ctx, f"{c.label}/B", table.size, B)
    return apow, beta, A, B


def _table_side_public(E, table, r_b) -> dict:
    """The table-side sumcheck's public factors: eq(r_B, ·) (slot 0) and the table's
    columns (slots 3…), the table evaluated once at the final point."""
    tval: dict = {}

    def tcol(k):
        def at(x):
            if "v" not in tval:
                tval["v"] = table.evaluate(E, x)
            return tval["v"][k]
        return at

    public = {0: lambda x: mle.eq_eval(E, r_b, x)}
    public.update({3 + k: tcol(k) for k in range(table.width)})
    return public


class TLookup(LookupArgument):
    """zkLLM-style LogUp committing the inverse vectors (see module doc)."""

    name = "tlookup"
    fields = ()

    def soundness_rows(self, layout, table) -> tuple[int, int]:
        """The table rows count twice: a table denominator may vanish (module doc)."""
        return layout.used, 2 * table.size

    def prove(self, ctx, c: LookupCommitted) -> None:
        if ctx.zk is not None and getattr(ctx, "hide_lookups", False):
            return _prove_hidden(ctx, c)
        F, E = ctx.F, ctx.E
        table, lay, wit, mname, pre = c.table, c.layout, c.witness, c.m, c.label
        w = table.width
        apow, beta, A, B = _commit_inverses(ctx, c)
        s_a, s_b = ctx.exchange(f"{pre}/sums", 2, lambda: np.stack([E.sum(A()), E.sum(B())]))
        ctx.check(E.equal(s_a, s_b), f"{pre}: LogUp sums differ (a looked-up row is not in "
                  "the table, or the multiplicities are wrong)")
        # inverse of the lookup side, and its sum
        r_a = ctx.challenges(f"{pre}/rA", lay.num_vars)
        g_a = ctx.challenge(f"{pre}/gammaA")
        rho, fin = ctx.run_sumcheck(
            f"{pre}/A", lay.num_vars, _terms_A(E, apow, beta, g_a, w),
            E.add(E.scalar(1), E.mul(g_a, s_a)),
            lambda: [mle.eq_table(E, r_a), A()] + [mle.lift(E, c, base=True)
                                                   for c in wit.columns],
            public={0: lambda x: mle.eq_eval(E, r_a, x)})
        _claim_E(ctx, f"{pre}/A", rho, fin[1], f"{pre}/A")
        cols = lay.columns(ctx, rho, pre)
        for k in range(w):
            ctx.check(E.equal(cols[k], fin[2 + k]),
                      f"{pre}: column {k} does not match its requests")
        # inverse of the table side, and its sum
        r_b = ctx.challenges(f"{pre}/rB", table.num_vars)
        g_b = ctx.challenge(f"{pre}/gammaB")
        public = _table_side_public(E, table, r_b)
        rho, fin = ctx.run_sumcheck(
            f"{pre}/B", table.num_vars, _terms_B(E, apow, beta, g_b, w), E.mul(g_b, s_b),
            lambda: [mle.eq_table(E, r_b), B(), mle.lift(E, ctx.table(mname), base=True)]
            + [mle.lift(E, c, base=True) for c in table_field_columns(F, table)],
            public=public)
        _claim_E(ctx, f"{pre}/B", rho, fin[1], f"{pre}/B")
        ctx.claim(mname, rho, fin[2])


# -- zero knowledge (module doc) ---------------------------------------------------------


def _neg(E: Field, blinds, k=None) -> tuple:
    """The blind terms times −k (−1 when k is None)."""
    m = E.neg(E.scalar(1)) if k is None else E.neg(k)
    return scale_blind(E, tuple(blinds), m)


def _claim_hidden(ctx, names: list[str], point, value, blinds, label: str) -> None:
    """Both sides: the hidden final ``value`` = T̃(point) + Σ ``blinds`` of the E-valued
    committed vector whose coordinate tensors are ``names`` (`_names`; a base-field
    tensor: itself) as claims.  One coordinate tensor that may
    carry the blinds: the blinded claim itself, no message.  Else each coordinate T.j
    is sent as T̃.j(point) + ν_j (ν_j = `zk.fresh_nu`, when T.j may carry it; plain
    otherwise), claimed blinded, and Σ blinds − Σ_j basis_j·ν_j = value − Σ_j basis_j·v_j
    is a claim on the masks."""
    E = ctx.E
    blinds = tuple(blinds)
    if len(names) == 1 and ctx.committer.may_blind(ctx, names[0], blinds[0], blinds[1:]):
        ctx.claim(names[0], point, value, blinds)
        return
    nus = []
    for n in names:
        nu = zk.fresh_nu(ctx)
        nus.append(nu if ctx.committer.may_blind(ctx, n, nu, ()) else None)
    vals = ctx.exchange(f"{label}/zk/coords", len(names), lambda: np.stack(
        [E.add(ctx.evaluate(n, point), blind_value(ctx, () if nu is None else (nu,)))
         for n, nu in zip(names, nus)]))
    acc = E.scalar(0)
    extra: tuple = ()
    for b, n, v, nu in zip(_basis(E), names, vals, nus):
        ctx.claim(n, point, v, () if nu is None else (nu,))
        acc = E.add(acc, E.mul(b, v))
        if nu is not None:
            extra += (Blind(nu.tensor, nu.point, E.neg(E.mul(nu.coefficient, b))),)
    zk.mask_claim(ctx, blinds + extra, E.sub(value, acc))


def _hidden_sumcheck(ctx, label: str, n: int, terms, claim, blinds, tables, public):
    """`zk.run_hidden` over ``n`` ≥ 0 variables (``public``: index -> function of the
    point, verifier side); n = 0 runs over one dummy variable, the tables duplicated
    (the sum and the blinds doubled), as LogUp-GKR's layer 0.  Returns (point, finals,
    final blinds)."""
    E = ctx.E
    nv = max(n, 1)
    two = E.scalar(1 if n else 2)

    def tabs():
        t = tables()
        return t if n else [np.concatenate([x, x]) for x in t]

    pub = tuple(public) if ctx.prover else {
        i: (lambda x, f=f: f(x[:n])) for i, f in public.items()}
    rho, fin, fbl = zk.run_hidden(ctx, label, nv, terms, E.mul(claim, two), tabs, pub,
                                  blinds=scale_blind(E, tuple(blinds), two))
    return rho[:n], fin, fbl


def _prove_hidden(ctx, c: LookupCommitted) -> None:
    """`TLookup.prove` with zero knowledge (module doc), both sides."""
    F, E = ctx.F, ctx.E
    table, lay, wit, mname, pre = c.table, c.layout, c.witness, c.m, c.label
    w = table.width
    apow, beta, A, B = _commit_inverses(ctx, c)
    if ctx.prover:
        ctx.check(lambda: E.equal(E.sum(A()), E.sum(B())), f"{pre}: LogUp sums differ (a "
                  "looked-up row is not in the table, or the multiplicities are wrong)")
    # s' = s + ν_s: both sumchecks carry γ·ν_s, so both sums equal s' − ν_s
    nu_s = zk.fresh_nu(ctx)
    (s1,) = ctx.exchange(f"{pre}/zk/sum", 1, lambda: np.stack(
        [E.add(E.sum(A()), blind_value(ctx, (nu_s,)))]))
    # inverse of the lookup side, and its sum
    r_a = ctx.challenges(f"{pre}/rA", lay.num_vars)
    g_a = ctx.challenge(f"{pre}/gammaA")
    rho, fin, fbl = _hidden_sumcheck(
        ctx, f"{pre}/A", lay.num_vars, _terms_A(E, apow, beta, g_a, w),
        E.add(E.scalar(1), E.mul(g_a, s1)), scale_blind(E, (nu_s,), g_a),
        lambda: [mle.eq_table(E, r_a), A()] + [mle.lift(E, col, base=True)
                                               for col in wit.columns],
        {0: lambda x: mle.eq_eval(E, r_a, x)})
    _claim_hidden(ctx, _names(E, f"{pre}/A"), rho, fin[1], fbl[1], f"{pre}/A")
    cblinds = tuple(b for k in range(w) for b in fbl[2 + k])
    cols, cbl = lay.columns_hidden(ctx, rho, pre,
                                   lambda t, nu: ctx.committer.may_blind(ctx, t, nu, cblinds))
    for k in range(w):   # C̃_k + fbl_k = ĉ_k and C̃_k + B_k = C̃'_k
        zk.mask_claim(ctx, tuple(fbl[2 + k]) + _neg(E, cbl[k]), E.sub(fin[2 + k], cols[k]))
    # inverse of the table side, and its sum
    r_b = ctx.challenges(f"{pre}/rB", table.num_vars)
    g_b = ctx.challenge(f"{pre}/gammaB")
    public = _table_side_public(E, table, r_b)
    rho, fin, fbl = _hidden_sumcheck(
        ctx, f"{pre}/B", table.num_vars, _terms_B(E, apow, beta, g_b, w), E.mul(g_b, s1),
        scale_blind(E, (nu_s,), g_b),
        lambda: [mle.eq_table(E, r_b), B(), mle.lift(E, ctx.table(mname), base=True)]
        + [mle.lift(E, col, base=True) for col in table_field_columns(F, table)],
        public)
    _claim_hidden(ctx, _names(E, f"{pre}/B"), rho, fin[1], fbl[1], f"{pre}/B")
    _claim_hidden(ctx, [mname], rho, fin[2], fbl[2], f"{pre}/m")


@hookimpl
def zk_lookup_arguments():
    return [TLookup]
