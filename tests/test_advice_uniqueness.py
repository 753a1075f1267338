"""Advice uniqueness (docs/soundness.md, issue 9 point 2).

For each kind of prover-chosen advice, the *next* witness that satisfies every other
relation of its op — quotient ∓ 1 with remainder ± divisor, a limb ± 2^lb with the next
limb ∓ 1, a one-hot 1 moved, an exponent + 1 with its mantissa re-normalised, … — is
built explicitly and must be rejected by the unmodified verifier (`assert_rejected`: the
cheating prover, self-checks off, does produce a proof).  Every test first proves the
honest witness (completeness), so a verifier that rejects everything fails it, and
asserts in the tamper function that the forged witness really satisfies the op's other
relations where that is not evident from the construction.  Where the verifier's
message names only a table ("LogUp sums differ"), the prover's own self-checks
(`_checks_failing`) are asked which check the forged witness breaks first.

Advice kinds whose "next value" test already lives with the op (referenced from
docs/soundness.md, not repeated here):

* rescale (Y + 1, R − 2^s): tests/test_rescale_op.py::test_rescale_tampered_witness_rejected;
* rsqrt root (rM ± 1) and exponent (e + 1): tests/test_rmsnorm_op.py::
  test_rmsnorm_consistent_cheat_rejected;
* optimiser division (Q + 1, RQ1 − 2D') and square root (S + 1, D1 − 2S − 1):
  tests/test_optim_ops.py::test_tamper_consistent_certificate;
* softmax-backward quotients (dZ, ū, W): tests/test_attention_backward_op.py::
  test_quotient_remainder_shift_rejected;
* RMSNorm-backward rescales: tests/test_rmsnorm_backward_op.py::
  test_rmsnorm_backward_consistent_rescale_cheat_rejected;
* softmax P / rem / g (P + 1, rem − S): tests/test_softmax_op.py::
  test_softmax_unnormalised_row_rejected; the row shift c: tests/test_softmax_op.py and
  tests/test_shift_attack.py;
* lookup multiplicities (not semantics; a wrong vector is rejected):
  tests/test_lookup_conformance.py::test_rejects_wrong_multiplicities.
"""

from __future__ import annotations

import math

import torch

from zklora.plugins.ops.cross_entropy import cross_entropy_value, exponent_table
from zklora.plugins.ops.rmsnorm import plan_of
from zklora.plugins.ops.silu import table_of
from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore.errors import ProverError, ZkLoraError
from zklora.zkcore.graph import Graph
from zklora.zkcore.op import ProverContext
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify, prove_tampered

from . import test_cross_entropy_backward_op as ceb
from . import test_cross_entropy_op as ce
from . import test_embedding_op as emb
from . import test_optim_ops as opt
from . import test_rescale_op as rs
from . import test_rmsnorm_op as rms
from . import test_silu_op as silu
from .conftest import backend_for


def _checks_failing(g, w, be, tamper, statement=None) -> str | None:
    """With the prover's own self-checks on (range checks, lookups, and each sumcheck's
    round-0 sum), the first complaint about the tampered witness, or None if there is
    none.  A test whose forged witness breaks exactly one check expects that check
    here, so the verifier's (less specific) rejection is known to come from it."""
    values = {k: v.clone() for k, v in graphlib.forward(g, w, be.registry).items()}
    tamper(values)
    try:
        graphlib.prove(g, w, be, statement or {}, values=values)
    except ProverError as e:
        return str(e)
    return None



def _lookup_rejects(msg: str, table: str) -> bool:
    """The verifier's rejection comes from the lookup argument on ``table``: named when
    the table is proven alone; with several tables in one batched LogUp-GKR the
    verifier checks one identity for all of them and cannot say which (each test pins
    the failing check on the prover's side with `_checks_failing`)."""
    return table in msg or msg.startswith("lookups: LogUp sums differ")

def _first(mask: torch.Tensor) -> int:
    """Flat index of the first True entry (the test needs one)."""
    idx = torch.nonzero(mask.reshape(-1)).reshape(-1)
    assert idx.numel(), "no entry satisfies the test's precondition"
    return int(idx[0])


# -- rescale: the other direction (Y − 1, R + 2^s) ---------------------------------------


def test_rescale_quotient_minus_one_rejected(gold):
    """(Y − 1, R + 2^s) keeps X = 2^s·Y + R − 2^(s−1) and Y in range; only R's range
    check [0, 2^s) excludes it (the opposite move of test_rescale_op's Y+R)."""
    g, w = rs.rescale_graph(), rs.wit()
    prove_and_verify(g, w, gold)

    def tamper(v):
        v["Y"].reshape(-1)[3] -= 1
        v["R"].reshape(-1)[3] += 1 << rs.S
        x = v["T"].reshape(-1)[3]
        assert int(x) == (int(v["Y"].reshape(-1)[3]) << rs.S) + int(v["R"].reshape(-1)[3]) \
            - (1 << (rs.S - 1))

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "'R'" in _checks_failing(g, w, gold, tamper)
    assert _lookup_rejects(msg, f"range{rs.S}:"), msg   # R's table [0, 2^s); Y's is range12@-2048


# -- range-check limbs -------------------------------------------------------------------


def _limb_graph():
    """A rescale whose Y has a 24-bit declared range: its range check commits two limbs
    (16 + 8 bits) of Y + 2^23 and proves their recomposition."""
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-(1 << 12), 1 << 12))
    g.tensor("W", (8, 4), "committed", (-(1 << 12), 1 << 12))
    g.tensor("T", (4, 4), "virtual")
    g.tensor("Y", (4, 4), "committed", (-(1 << 23), (1 << 23) - 1))
    g.tensor("R", (4, 4), "committed", (0, 15))
    g.op("matmul", "mm", ["X", "W"], ["T"])
    g.op("rescale", "rs", ["T"], ["Y", "R"], shift=4)
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(3)
    w = {"X": torch.randint(-(1 << 12), (1 << 12) + 1, (4, 8), generator=gen),
         "W": torch.randint(-(1 << 12), (1 << 12) + 1, (8, 4), generator=gen)}
    return g, w


def test_range_limbs_carry_rejected(gold, monkeypatch):
    """Limbs (L0 + 2^16, L1 − 1) — or (L0 − 2^16, L1 + 1) where L1 = 0 — recompose to
    the same value, so the recomposition identity at the random point holds; only the
    limbs' own range lookups reject (each limb is in [0, 2^16) exactly, which makes the
    decomposition unique)."""
    g, w = _limb_graph()
    prove_and_verify(g, w, gold)
    seen: list[str] = []
    monkeypatch.setattr(ProverContext, "commit_advice",
                        _limb_pair_tamper(ProverContext.commit_advice, seen))
    msg = assert_rejected(g, w, gold, {}, lambda v: None)
    assert seen, "the range check of Y committed no limbs: the test exercises nothing"
    assert _lookup_rejects(msg, "range16:"), msg        # the low limb left [0, 2^16)


def _limb_pair_tamper(orig, seen):
    """commit_advice that, for Y's range-check limbs, commits (L0 ± 2^16, L1 ∓ 1) at
    flat index 5: limb0's change is decided from Y's value, limb1's follows (limb1 is
    bits 16.. of Y − lo up to its width: 8 bits, or 4 where the cost rule splits the
    8-bit top limb into 4 + 4, `range._split_tops`; higher limbs are left alone)."""
    state = {}

    def commit_advice(self, name, values, bound=None):
        if name.startswith("rs/Y/") and name.endswith(("limb0", "limb1")):
            y = self.values["Y"].reshape(-1)
            d = int(y[5]) + (1 << 23)          # the lo side: Y − lo
            step = -1 if (d >> 16) & 0xF else 1    # L1 + step, L0 − step·2^16
            values = values.clone()
            if name.endswith("limb0"):
                values.reshape(-1)[5] -= step << 16
                state["l0"] = int(values.reshape(-1)[5])
            else:
                values.reshape(-1)[5] += step
                low = d & ((1 << (16 + int(bound[1]).bit_length())) - 1)
                assert state["l0"] + (int(values.reshape(-1)[5]) << 16) == low
                seen.append(name)
        return orig(self, name, values, bound)

    return commit_advice


# -- RMSNorm rsqrt: the mantissa division --------------------------------------------------


def test_rsqrt_mantissa_division_rejected(gold):
    """(M − 1, Rm + P) keeps Σx² + E0 = P·M + Rm; G2 = M − LB stays ≥ 0, rM is
    recomputed as ⌊√(N/M)⌋ for the new M (so Glo, Ghi ≥ 0 and r = rM·H hold) and the
    downstream x·r and Y are recomputed.  Only G1 = P − 1 − Rm < 0 is left: its range
    check (Rm < P, not merely Rm < P_max) rejects."""
    g, _ = rms.rms_graph()
    inputs, _, _ = rms.wit()
    prove_and_verify(g, inputs, gold)
    node = next(n for n in g.nodes if n.op == "rmsnorm_rsqrt")
    pl = plan_of(node, 16)
    vals = graphlib.forward(g, inputs, gold.registry)
    row = _first((vals["n/M"] > vals["n/LB"] + 1) & (vals["n/P"] > 1))

    def tamper(v):
        P, H, LB = (int(v[f"n/{k}"][row, 0]) for k in ("P", "H", "LB"))
        M = int(v["n/M"][row, 0]) - 1
        Rm = int(v["n/Rm"][row, 0]) + P
        rm = math.isqrt(pl.n_mant // M)
        new = {"M": M, "Rm": Rm, "G1": P - 1 - Rm, "G2": M - LB, "rM": rm, "r": rm * H,
               "Glo": pl.n_mant - rm * rm * M, "Ghi": (rm + 1) ** 2 * M - pl.n_mant - 1}
        for k, val in new.items():
            v[f"n/{k}"][row, 0] = val
        x = v["X"][row]
        assert P * M + Rm == int((x * x).sum()) + pl.e0
        assert new["Glo"] >= 0 and new["Ghi"] >= 0 and new["G2"] >= 0 and new["G1"] < 0
        xr2 = v["X"] * v["n/r"]
        v["n/xr"], v["n/xr_R"] = quant.rescale(xr2, pl.r_scale)
        v["n/Y"], v["n/Y_R"] = quant.rescale(v["n/xr"] * v["g"], pl.scale)

    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert "n/G1" in _checks_failing(g, inputs, gold, tamper)
    assert "G1" in msg, msg


# -- SiLU: table input quotient ------------------------------------------------------------


def test_silu_table_input_quotient_rejected(gold):
    """(Gq + 1, Rq − 2^shift) keeps G = 2^shift·Gq + Rq − 2^(shift−1); Sg is set to the
    table's value at Gq + 1 (so the (Gq, Sg) lookup holds) and Y = rescale(Sg ⊙ U) is
    recomputed.  Only Rq's range check rejects."""
    g, _ = silu.swiglu_graph()
    inputs, _, _ = silu.wit()
    prove_and_verify(g, inputs, gold)
    node = next(n for n in g.nodes if n.op == "silu")
    t = table_of(node)
    shift = int(node.params["shift"])
    xcol, ycol = (torch.from_numpy(c.copy()) for c in t.columns())
    vals = graphlib.forward(g, inputs, gold.registry)
    i = _first(vals["m/gq"] < t.lo + t.size - 1)

    def tamper(v):
        gq = v["m/gq"].reshape(-1)
        gq[i] += 1
        v["m/gq_R"].reshape(-1)[i] -= 1 << shift
        v["m/silu"].reshape(-1)[i] = ycol[int(gq[i]) - t.lo]
        assert int(xcol[int(gq[i]) - t.lo]) == int(gq[i])
        v["m/su"] = v["m/silu"] * v["U"]
        v["m/Y"], v["m/Y_R"] = quant.rescale(v["m/su"], int(node.params["out_scale"]))

    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert "m/gq_R" in _checks_failing(g, inputs, gold, tamper)
    assert _lookup_rejects(msg, f"range{shift}:"), msg    # Rq's table [0, 2^shift)


# -- embedding: the one-hot matrix ---------------------------------------------------------


def test_embedding_onehot_moved_rejected(reg):
    """Row n's 1 moved from ids[n] to another column u, with H = OH·table (and the
    downstream Y = 3·H) recomputed: booleanity, the row sum and the lookup-by-matmul all
    hold; only Σ_u u·OH[n, u] = ids[n] rejects."""
    be = backend_for(reg, "goldilocks", "plain", "")
    g, w = emb.emb_graph(), emb.wit()
    prove_and_verify(g, w, be)
    n = 2

    def tamper(v):
        oh = v["emb/onehot"]
        u = (int(w["ids"][n]) + 1) % emb.V
        oh[n].zero_()
        oh[n, u] = 1
        v["emb/H"] = oh @ v["tab"]
        v["Y"] = 3 * v["emb/H"]
        assert int(oh[n].sum()) == 1 and int((oh * (oh - 1)).abs().sum()) == 0

    msg = assert_rejected(g, w, be, {}, tamper)
    assert "emb/rows" in _checks_failing(g, w, be, tamper)   # the ids relation, alone
    assert "emb/rows" in msg or "sumcheck" in msg, msg


# -- softmax: the exponential's rounding ---------------------------------------------------

SM = dict(scale=8, shift=16, kappa=1, digit_bits=6, exp_scale=8, limb_bits=8)
SM_SHAPE = (1, 2, 4, 8)


def test_softmax_exp_rounding_rejected(gold):
    """(e + 1, R − 2^s) keeps (E) 2^s·e + R = M·(f0·f1 + 2^(s−1)); the row sum S + 1
    keeps (H), and ρ, σ, g of the row and P, rem of its entries are recomputed from it
    ((F), (G) and their ranges hold), the shift and selector are untouched.  Only R's
    range check [0, 2^s) rejects."""
    from zklora.plugins.ops.softmax import add_softmax, recip_bits, row_cert_bits, split_limbs

    g = Graph()
    g.tensor("X", SM_SHAPE, "committed", (-(1 << 27), 1 << 27))
    names = add_softmax(g, "sm", "X", **SM)
    g.outputs = [names["P"]]
    gen = torch.Generator().manual_seed(0)
    w = {"X": (torch.randn(SM_SHAPE, generator=gen) * (1 << 24)).round().to(torch.int64)}
    prove_and_verify(g, w, gold)
    s, L, lb = SM["scale"], SM_SHAPE[-1], SM["limb_bits"]
    k, wb = recip_bits(s, L, lb), row_cert_bits(s, L, lb)
    vals = graphlib.forward(g, w, gold.registry)
    i = _first(vals[names["e"]] < (1 << (s + 1)) - 1)
    r = i // L

    def tamper(v):
        e = v[names["e"]].reshape(-1, L)
        e[r, i % L] += 1
        v[names["R"]].reshape(-1)[i] -= 1 << s
        S = v[names["S"]].reshape(-1)
        S[r] += 1
        rho = (1 << (s + k)) // S[r]
        sig = (1 << (s + k)) - rho * S[r]
        v[names["rho"]].reshape(-1)[r] = rho
        for kind, val in (("sig", sig), ("g", S[r] - 1 - sig)):
            for j, limb in enumerate(split_limbs(val, wb, lb)):
                v[names[f"{kind}{j}"]].reshape(-1)[r] = limb
        num = e[r] * rho
        P = num >> k
        v[names["P"]].reshape(-1, L)[r] = P
        for j, limb in enumerate(split_limbs(num - (P << k), k, lb)):
            v[names[f"rem{j}"]].reshape(-1, L)[r] = limb
        assert int(S[r]) == int(e[r].sum()) and int(v[names["R"]].reshape(-1)[i]) < 0

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "sm/R" in _checks_failing(g, w, gold, tamper)
    assert _lookup_rejects(msg, f"range{s}:"), msg


# -- cross-entropy: label one-hot and the log exponent ----------------------------------------


def _ce_tied(t: int = 3):
    """ce's witness with row t's label logit copied to another column v (a tie), so the
    loss does not see which of the two the one-hot selects."""
    w = ce.wit()
    lab = int(w["lab"][t])
    assert lab != -100
    v = (lab + 1) % ce.V
    w["Z"][t, v] = w["Z"][t, lab]
    return w, t, v


def test_ce_label_onehot_moved_rejected(gold):
    """Y's 1 in a counted row moved to a column with the same logit: booleanity, the row
    sum m_t and the loss identity (Σ Y·Z unchanged) hold; only Σ_v v·Y = m·label
    rejects."""
    w, t, v = _ce_tied()
    g, _ = ce.ce_graph(w)
    prove_and_verify(g, w, gold)
    lab = int(w["lab"][t])

    def tamper(vals):
        Y = vals["ce/Y"]
        assert int(Y[t, lab]) == 1
        Y[t, lab] = 0
        Y[t, v] = 1
        assert int((Y * vals["Z"]).sum()) == int((vals["ce/Y"] * vals["Z"]).sum())

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "ce/labels" in _checks_failing(g, w, gold, tamper)  # the label relation
    assert "ce/labels" in msg or "sumcheck" in msg, msg


def test_ce_log_exponent_rejected(gold):
    """(k + 1, 2^(k+1), off(k + 1)) is an exponent-table row, μ' = ⌊S/2^(k+1)⌋,
    ρ' = S − μ'·2^(k+1) < 2^(k+1), γ' = 2^(k+1) − 1 − ρ' ≥ 0 satisfy the row relations
    and their range checks; lμ' = lμ + off(k) − off(k + 1) keeps every ℓ_t and so the
    loss.  Only the log-table lookup (μ' below 2^q: outside its domain) rejects, so the
    table's domain [2^q, 2^(q+1)) is what pins the exponent."""
    w = ce.wit()
    g, _ = ce.ce_graph(w)
    prove_and_verify(g, w, gold)
    q, s = ce.P["mantissa_bits"], ce.P["scale"]
    off = exponent_table(q, s).columns()[2]
    t = 3

    def tamper(v):
        S = int(v["ce/softmax/S"][t])
        k = int(v["ce/k"][t]) + 1
        mu = S >> k
        rho = S - (mu << k)
        new = {"k": k, "pow": 1 << k, "off": int(off[k]), "mu": mu, "rho": rho,
               "gam": (1 << k) - 1 - rho,
               "lmu": int(v["ce/lmu"][t]) + int(off[k - 1]) - int(off[k])}
        assert new["gam"] >= 0 and new["gam"] < 1 << ce.P["limb_bits"] and mu < 1 << q
        for r, val in new.items():
            v[f"ce/{r}"][t] = val

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "ce/mu" in _checks_failing(g, w, gold, tamper)
    assert _lookup_rejects(msg, "lookup:log["), msg


def test_ce_mantissa_division_rejected(gold):
    """(μ − 1, ρ + 2^k) keeps S = μ·2^k + ρ, with lμ = ln(μ − 1) from the log table (a
    valid row) and the statement's loss recomputed for it (so the loss identity, r_L and
    g_L hold).  Only γ = 2^k − 1 − ρ < 0 is left: γ's range check is what bounds ρ by
    the data-dependent divisor 2^k, not merely by 2^lb."""
    from zklora.plugins.lookups.tables import log_table

    w = ce.wit()
    g0, _ = ce.ce_graph(w)
    prove_and_verify(g0, w, gold)
    q, s, lb = ce.P["mantissa_bits"], ce.P["scale"], ce.P["limb_bits"]
    lt = log_table(q, s, q, 1 << q).columns()[1]
    vals = graphlib.forward(g0, w, gold.registry)
    t = _first((vals["ce/mu"] > 1 << q) & (vals["ce/m"] == 1)
               & (vals["ce/rho"] + vals["ce/pow"] < 1 << lb))
    loss, n = cross_entropy_value(w["Z"], w["lab"], **ce.P)
    D = n << (ce.P["exp_scale"] - s)
    mu = int(vals["ce/mu"][t]) - 1
    dl = int(lt[mu - (1 << q)]) - int(vals["ce/lmu"][t])
    total = loss * D - D // 2 + int(vals["ce/rL"][0]) + (dl << (ce.P["exp_scale"] - s))
    loss2 = (total + D // 2) // D
    rl2 = total + D // 2 - loss2 * D
    g, _ = ce.ce_graph(w, loss_delta=loss2 - loss)

    def tamper(v):
        pw = int(v["ce/pow"][t])
        v["ce/mu"][t] = mu
        v["ce/lmu"][t] = int(lt[mu - (1 << q)])
        v["ce/rho"][t] += pw
        v["ce/gam"][t] -= pw
        v["ce/loss"][0] = loss2
        v["ce/rL"][0], v["ce/gL"][0] = rl2, D - 1 - rl2
        assert int(v["ce/mu"][t]) * pw + int(v["ce/rho"][t]) == int(v["ce/softmax/S"][t])
        assert int(v["ce/gam"][t]) < 0 <= rl2 < D

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "ce/gam" in _checks_failing(g, w, gold, tamper)
    assert "ce/gam" in msg or _lookup_rejects(msg, "range"), msg


def test_ce_loss_remainder_rejected(gold):
    """Statement loss L − 1 with r_L + D and g_L − D: the loss identity
    Σ m·ℓ = L·D − ⌊D/2⌋ + r_L and the verifier's r_L + g_L = D − 1 hold, r_L stays in
    [0, 2^lb); only g_L's range check (so r_L < D, the rounding) rejects."""
    w = ce.wit()
    loss, n = cross_entropy_value(w["Z"], w["lab"], **ce.P)
    D = n << (ce.P["exp_scale"] - ce.P["scale"])
    g, _ = ce.ce_graph(w, loss_delta=-1)

    def tamper(v):
        v["ce/rL"][0] += D
        v["ce/gL"][0] -= D
        v["ce/loss"][0] = loss - 1
        assert 0 <= int(v["ce/rL"][0]) < 1 << ce.P["limb_bits"]

    prove_and_verify(ce.ce_graph(w)[0], w, gold)
    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "ce/gL" in _checks_failing(g, w, gold, tamper)
    assert _lookup_rejects(msg, "range8:"), msg


def test_ce_public_loss_is_unique(gold):
    """The public loss L enters only through L·D − ⌊D/2⌋ + r_L with r_L ∈ [0, D); over
    Goldilocks the statement loss L' = L − δ·D⁻¹ (mod p, centred: an int64) with
    r_L + δ ∈ [0, D) satisfies every relation.  The verifier must bound |L|·D below
    p/4 so that only the true loss is accepted (`CrossEntropy._layout`)."""
    w = ce.wit()
    loss, n = cross_entropy_value(w["Z"], w["lab"], **ce.P)
    D = n << (ce.P["exp_scale"] - ce.P["scale"])
    g0, _ = ce.ce_graph(w)
    rL = int(graphlib.forward(g0, w, gold.registry)["ce/rL"][0])
    delta = 1 if rL + 1 < D else -1
    p = gold.field.p
    alt = (loss - delta * pow(D, -1, p)) % p
    alt = alt - p if alt > p // 2 else alt

    def tamper(v):
        v["ce/rL"][0] += delta
        v["ce/gL"][0] -= delta
        v["ce/loss"][0] = alt

    try:   # a fix may refuse the statement at graph building, proving or verifying
        g, _ = ce.ce_graph(w, loss_delta=alt - loss)
        out = prove_tampered(g, w, gold, {}, tamper)
        if out is None:
            return
        graphlib.verify(g, out[0], gold, {}, out[1])
    except ZkLoraError:
        return
    raise AssertionError(f"the verifier accepted loss {alt} (true loss {loss})")


# -- cross-entropy backward: a divisor that is not a power of two ------------------------------


def test_ce_backward_remainder_hi_side_rejected(gold):
    """(dZ − 1, R + D) keeps M·A + ⌊D/2⌋ = D·dZ + R.  With D = N = 6 the range
    [0, D − 1] is checked as R ∈ [0, 8) *and* D − 1 − R ∈ [0, 8): the forged R (< 8)
    passes the first, and only the second (the tight side) rejects."""
    g, w = ceb.standalone()
    prove_and_verify(g, w, gold)
    D = int(w["m"].sum())
    assert D & (D - 1), "the test needs a divisor that is not a power of two"
    vals = graphlib.forward(g, w, gold.registry)
    i = _first(vals["ceb/R"] + D < 1 << (D - 1).bit_length())

    def tamper(v):
        v["ceb/dZ"].reshape(-1)[i] -= 1
        v["ceb/R"].reshape(-1)[i] += D
        assert int(v["ceb/R"].reshape(-1)[i]) < 1 << (D - 1).bit_length()

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "ceb/R" in _checks_failing(g, w, gold, tamper)
    B = (D - 1).bit_length()
    assert _lookup_rejects(msg, f"range{B}@{D - (1 << B)}:"), msg   # the hi side's offset table


# -- optimiser: a moment's rounding ---------------------------------------------------------


def test_adamw_moment_rounding_rejected(gold):
    """(m̂′ + 1, r_m − 2^k1) keeps 2^k1·m̂′ + r_m − 2^(k1−1) = A1·m̂ + C1·g; the update is
    recomputed from the forged m̂′ (Q, RQ1, RQ2 the rounded quotient again, θ′ = θ − Q −
    dw), so the division, square root and θ′ relations all hold.  Only r_m's range
    check rejects.  (The division and square-root certificates themselves:
    tests/test_optim_ops.py::test_tamper_consistent_certificate.)"""
    g, inp, _ = opt.chain("adamw", (2, 4), 1, seed=6)
    st = {"opt": 1}
    stream, sections = graphlib.prove(g, inp, gold, st)
    graphlib.verify(g, stream, gold, st, sections)
    P = g.nodes[0].params["plan"]
    i = 2

    def tamper(v):
        f = {r: v[f"adamw0/{r}"].reshape(-1) for r in
             ("m", "r_m", "s", "q", "rq1", "rq2", "theta", "dw")}
        f["m"][i] += 1
        f["r_m"][i] -= 1 << P["k1"]
        dp = (int(f["s"][i]) + P["EPS"]) << P["b"]
        num = ((P["K"] * int(f["m"][i])) << (P["a"] + 1)) + dp
        q = num // (2 * dp)
        f["q"][i], f["rq1"][i] = q, num - 2 * dp * q
        f["rq2"][i] = 2 * dp - 1 - int(f["rq1"][i])
        f["theta"][i] = int(inp["theta"].reshape(-1)[i]) - q - int(f["dw"][i])
        assert int(f["r_m"][i]) < 0 <= int(f["rq1"][i]) and int(f["rq2"][i]) >= 0

    msg = assert_rejected(g, inp, gold, st, tamper)
    assert "adamw0/r_m" in _checks_failing(g, inp, gold, tamper, st)
    assert "adamw0/r_m" in msg, msg
