"""``tlookup``: zkLLM's LogUp variant that commits the inverse vectors (paper profile).

With c_i = Σ_k α^k C_k(i) (combined lookup columns, 2^K rows, see
`zklora.zkcore.lookup.LookupLayout`), τ_j = Σ_k α^k T_k(j) (public table, 2^t rows) and
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

Soundness: as for logup-gkr, the fraction identity has degree ≤ max(1, w − 1)·(2^K + 2^t)
in (α, β); both sides refuse an argument for which that over |E| exceeds 2^-100
(`zklora.zkcore.security.check_lookup`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from zklora.kernels import lookup_gkr as KL
from zklora.zkcore import mle
from zklora.zkcore.errors import VerificationError
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupArgument, LookupLayout, LookupRequest, Table
from zklora.zkcore.security import check_lookup

from .logup_gkr import draw_combiners, prefix, table_field_columns


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


def _commit_E(ctx, name: str, a: np.ndarray) -> None:
    for n, comp in zip(_names(ctx.E, name), _components(ctx.E, a)):
        ctx.commit_field_advice(n, comp)


def _claim_E_prove(ctx, name: str, point, label: str) -> None:
    """Split a claim on an E-valued committed vector into claims on its coordinates."""
    names = _names(ctx.E, name)
    vals = [ctx.evaluate(n, point) for n in names]
    ctx.send(f"{label}/coords", np.stack(vals))
    for n, v in zip(names, vals):
        ctx.claim(n, point, v)


def _claim_E_verify(ctx, name: str, point, value, label: str) -> None:
    E = ctx.E
    names = _names(E, name)
    vals = ctx.recv(f"{label}/coords", len(names))
    acc = E.scalar(0)
    for b, v in zip(_basis(E), vals):
        acc = E.add(acc, E.mul(b, v))
    if not E.equal(acc, value):
        raise VerificationError(f"{label}: coordinates of {name} do not match its evaluation")
    for n, v in zip(names, vals):
        ctx.claim(n, point, v)


def _terms_A(E: Field, apow, beta, gamma, width: int):
    """Tables [eq, A, C_1..C_w]: eq·A·β − Σ_k α^k eq·A·C_k + γ·A."""
    terms = [(beta, (0, 1))]
    terms += [(E.neg(apow[k]), (0, 1, 2 + k)) for k in range(width)]
    terms.append((gamma, (1,)))
    return terms


def _terms_B(E: Field, apow, beta, gamma, width: int):
    """Tables [eq, B, m, T_1..T_w]: eq·B·β − Σ_k α^k eq·B·T_k − eq·m + γ·B."""
    terms = [(beta, (0, 1))]
    terms += [(E.neg(apow[k]), (0, 1, 3 + k)) for k in range(width)]
    terms += [(E.neg(E.scalar(1)), (0, 2)), (gamma, (1,))]
    return terms


class TLookup(LookupArgument):
    """zkLLM-style LogUp committing the inverse vectors (see module doc)."""

    name = "tlookup"
    fields = ()

    def prove(self, ctx, table: Table, requests: Sequence[LookupRequest]) -> None:
        F, E, ch = ctx.F, ctx.E, ctx.ch
        pre = prefix(table)
        w = table.width
        wit = self.witness(ctx, table, requests)
        lay = wit.layout
        check_lookup(E, lay.num_vars, table.num_vars, w, pre, prover=True)
        ch.observe_public(f"{pre}/layout", lay.describe())
        mname = f"{pre}/m"
        ctx.commit_advice(mname, torch.from_numpy(wit.multiplicities), bound=(0, lay.size))
        apow, beta = draw_combiners(ch, E, w, pre)
        tcols = table_field_columns(F, table)
        A = E.inv(KL.leaf_denoms(E, wit.columns, apow, beta))
        m_E = mle.lift(E, ctx.table(mname), base=True)
        B = E.mul(E.inv(KL.leaf_denoms(E, tcols, apow, beta)), m_E)
        _commit_E(ctx, f"{pre}/A", A)
        _commit_E(ctx, f"{pre}/B", B)
        s_a, s_b = E.sum(A), E.sum(B)
        ctx.send(f"{pre}/sums", np.stack([s_a, s_b]))
        # inverse of the lookup side, and its sum
        r_a = ch.challenges(f"{pre}/rA", E, lay.num_vars)
        g_a = ch.challenge(f"{pre}/gammaA", E)
        tables = [mle.eq_table(E, r_a), A] + [mle.lift(E, c, base=True) for c in wit.columns]
        claim = E.add(E.scalar(1), E.mul(g_a, s_a))
        rho, fin = ctx.sumcheck(tables, _terms_A(E, apow, beta, g_a, w), claim,
                                label=f"{pre}/A", public=[0])
        _claim_E_prove(ctx, f"{pre}/A", rho, f"{pre}/A")
        lay.send_columns(ctx, rho, pre)
        # inverse of the table side, and its sum
        r_b = ch.challenges(f"{pre}/rB", E, table.num_vars)
        g_b = ch.challenge(f"{pre}/gammaB", E)
        tables = [mle.eq_table(E, r_b), B, m_E] + [mle.lift(E, c, base=True) for c in tcols]
        rho, fin = ctx.sumcheck(tables, _terms_B(E, apow, beta, g_b, w), E.mul(g_b, s_b),
                                label=f"{pre}/B", public=[0] + [3 + k for k in range(w)])
        _claim_E_prove(ctx, f"{pre}/B", rho, f"{pre}/B")
        ctx.claim(mname, rho, fin[2])

    def verify(self, ctx, table: Table, requests: Sequence[LookupRequest]) -> None:
        E, ch = ctx.E, ctx.ch
        pre = prefix(table)
        w = table.width
        lay = LookupLayout(table, requests, ctx.specs)
        check_lookup(E, lay.num_vars, table.num_vars, w, pre)
        ch.observe_public(f"{pre}/layout", lay.describe())
        mname = f"{pre}/m"
        ctx.commit_advice(mname, (table.size,), bound=(0, lay.size))
        apow, beta = draw_combiners(ch, E, w, pre)
        for n in _names(E, f"{pre}/A"):
            ctx.commit_advice(n, (lay.size,))
        for n in _names(E, f"{pre}/B"):
            ctx.commit_advice(n, (table.size,))
        s_a, s_b = ctx.recv(f"{pre}/sums", 2)
        if not E.equal(s_a, s_b):
            raise VerificationError(f"{pre}: LogUp sums differ (a looked-up row is not in "
                                    "the table, or the multiplicities are wrong)")
        r_a = ch.challenges(f"{pre}/rA", E, lay.num_vars)
        g_a = ch.challenge(f"{pre}/gammaA", E)
        claim = E.add(E.scalar(1), E.mul(g_a, s_a))
        rho, fin = ctx.sumcheck(lay.num_vars, 2 + w, _terms_A(E, apow, beta, g_a, w), claim,
                                label=f"{pre}/A", public={0: lambda x: mle.eq_eval(E, r_a, x)})
        _claim_E_verify(ctx, f"{pre}/A", rho, fin[1], f"{pre}/A")
        cols = lay.recv_columns(ctx, rho, pre)
        for k in range(w):
            if not E.equal(cols[k], fin[2 + k]):
                raise VerificationError(f"{pre}: column {k} does not match its requests")
        r_b = ch.challenges(f"{pre}/rB", E, table.num_vars)
        g_b = ch.challenge(f"{pre}/gammaB", E)
        tval: dict = {}

        def tcol(k):
            def at(x):
                if "v" not in tval:
                    tval["v"] = table.evaluate(E, x)
                return tval["v"][k]
            return at

        public = {0: lambda x: mle.eq_eval(E, r_b, x)}
        public.update({3 + k: tcol(k) for k in range(w)})
        rho, fin = ctx.sumcheck(table.num_vars, 3 + w, _terms_B(E, apow, beta, g_b, w),
                                E.mul(g_b, s_b), label=f"{pre}/B", public=public)
        _claim_E_verify(ctx, f"{pre}/B", rho, fin[1], f"{pre}/B")
        ctx.claim(mname, rho, fin[2])


@hookimpl
def zk_lookup_arguments():
    return [TLookup]
