"""Softmax / attention ops: completeness, row normalisation, accuracy, tamper rejection."""

from __future__ import annotations

import math

import pytest
import torch

from zklora.plugins.ops.softmax import (
    Softmax,
    add_attention,
    add_softmax,
    attention_forward,
    causal_mask,
    is_row_role,
    recip_bits,
    softmax_forward,
    softmax_roles,
)
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected
from zklora.zkcore.testing.tamper import prove_and_verify as _ok

from .conftest import backend_for

# small softmax graph: scores at scale 2^(8+16), 16 low bits dropped, digits at 2^8,
# 8-bit limbs (small tables keep the tamper tests fast; the defaults are 16)
SM = dict(scale=8, shift=16, kappa=1, digit_bits=6, exp_scale=8, limb_bits=8)
XS = (1, 2, 4, 8)


def softmax_graph():
    g = Graph()
    g.tensor("X", XS, "committed", (-(1 << 27), 1 << 27))
    g.tensor("M", XS[-2:], "public", value=torch.tril(torch.ones(XS[-2:], dtype=torch.int64)))
    names = add_softmax(g, "sm", "X", mask="M", **SM)
    g.outputs = [names["P"]]
    return g, names


def softmax_wit(seed=0, mult=2.0):
    gen = torch.Generator().manual_seed(seed)
    return {"X": (torch.randn(XS, generator=gen) * mult * (1 << 24)).round().to(torch.int64)}




def test_softmax_complete_goldilocks(gold):
    g, _ = softmax_graph()
    _ok(g, softmax_wit(), gold)


def test_softmax_complete_bls(reg):
    be = backend_for(reg, "bls12-381-fr", "plain", "logup-gkr")
    g, _ = softmax_graph()
    _ok(g, softmax_wit(1), be)


@pytest.mark.parametrize("role", softmax_roles(16, XS[-1], SM["scale"], SM["limb_bits"]))
def test_softmax_tampered_advice_rejected(gold, role):
    """One element of each advice tensor off by one (an allowed entry) ⇒ reject."""
    g, names = softmax_graph()
    idx = 3 if is_row_role(role) else 3 * XS[-1] + 1   # row 3, column 1 (allowed)
    delta = -1 if role in ("d0", "d1") else 1

    def tamper(values):
        values[names[role]].reshape(-1)[idx] += delta

    assert_rejected(g, softmax_wit(), gold, {}, tamper)


def test_softmax_unnormalised_row_rejected(gold):
    """P_ij + 1 with rem_ij − 2^k keeps (F) e·ρ − 2^k·P − rem = 0 but makes the row
    sum exceed 2^s: the remainder's range check rejects, so rows stay normalised."""
    g, names = softmax_graph()
    S = 1 << SM["scale"]
    k, lb = recip_bits(SM["scale"], XS[-1], SM["limb_bits"]), SM["limb_bits"]
    assert k == 2 * lb

    def tamper(values):
        i = 3 * XS[-1] + 1
        values[names["P"]].reshape(-1)[i] += 1
        # rem −= 2^k on the limbs: rem0 + 2^8·rem1 goes negative
        values[names["rem1"]].reshape(-1)[i] -= 1 << lb
        assert int(values[names["P"]][0, 0, 3].sum()) >= S - 3

    assert_rejected(g, softmax_wit(), gold, {}, tamper)


@pytest.mark.parametrize("pinned", [True, False])
def test_softmax_shift_far_above_max_rejected(gold, monkeypatch, pinned):
    """A consistent witness for shifts c far above the row maximum (every e rounds to
    ~0) violates (J) sel·(c − κX) = 0; even without the selector relations (pinned =
    False) S ≥ 2^s rejects it.  Smaller raised shifts: tests/test_shift_attack.py."""
    if not pinned:
        keep_i = Softmax._selector_terms          # drop (J) only: the unpinned design
        monkeypatch.setattr(Softmax, "_selector_terms",
                            staticmethod(lambda k, m: keep_i(k, m)[:1]))
    else:   # S's and ρ's range checks (proven before the ops; S < 2^s makes ρ > 2^k)
        keep_r = Softmax.range_checks             # would reject first: drop them, so
        monkeypatch.setattr(Softmax, "range_checks", lambda self, n, p, sp: [  # (J) alone
            rc for rc in keep_r(self, n, p, sp) if not rc.label.endswith(("/S", "/rho"))])
    g, names = softmax_graph()
    wit = softmax_wit(mult=1.0)
    mask = g.publics["M"]

    def tamper(values):
        honest = values[names["c"]]
        forged = softmax_forward(wit["X"], mask, **SM, shifts=honest + (5 << 24))
        assert int(forged["S"].min()) < 1 << SM["scale"]
        for role in ("P", "c", "S", "e", "R", "d0", "f0", "d1", "f1", "sel", "rho"):
            values[names[role]] = forged[role]
        for kind in ("low", "rem", "sig", "g"):
            for k, v in enumerate(forged[kind]):
                values[names[f"{kind}{k}"]] = v

    msg = assert_rejected(g, wit, gold, {}, tamper)
    if pinned:
        assert "sm/zerocheck" in msg
    else:
        assert "S" in msg or "range" in msg or "lookup" in msg


def test_softmax_proof_bytes_tampered(gold):
    g, _ = softmax_graph()
    stream, sections = _ok(g, softmax_wit(), gold)
    for pos in range(0, len(stream), max(1, len(stream) // 15)):
        bad = bytearray(stream)
        bad[pos] ^= 0x04
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), gold, {}, sections)


@pytest.mark.parametrize("seed", range(4))
def test_rows_normalised_property(seed):
    """2^s − n_i < Σ_j P_ij ≤ 2^s for every row (n_i allowed entries); the shift is the
    row maximum of the allowed entries (the only one the proof admits: (D) + (I)–(K)),
    selected by a one-hot sel on an allowed maximal entry, the first one under ties."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(2, 3, 16, 16, generator=gen) * 4 * (1 << 34)).round().to(torch.int64)
    x[0, 0, 5, 2] = x[0, 0, 5, 4] = x[0, 0, 5, :6].max() + 7     # a tie
    x[0, 1, 3, 9] = x[0, 1, 3].max() + 1                          # max on a masked entry
    mask = causal_mask(16)
    p = dict(scale=16, shift=18, kappa=1, digit_bits=14, exp_scale=18)
    out = softmax_forward(x, mask, **p)
    assert int(out["S"].min()) >= 1 << 16
    n = mask.sum(-1).expand_as(out["S"])
    rs = out["P"].sum(-1)
    assert bool((rs <= 1 << 16).all()) and bool((rs > (1 << 16) - n).all())
    assert int(out["P"][..., mask == 0].abs().max()) == 0
    allowed = mask.bool().expand_as(x)
    assert torch.equal(out["c"], x.masked_fill(~allowed, -(1 << 62)).amax(-1))
    sel = out["sel"]
    assert bool((sel.sum(-1) == 1).all()) and int(sel[~allowed].abs().sum()) == 0
    assert torch.equal((sel * x).sum(-1), out["c"])
    assert int(sel[0, 0, 5].argmax()) == 2


def _float_attention(q, k, v):
    G = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(G, 1)
    v = v.repeat_interleave(G, 1)
    T, dh = q.shape[-2], q.shape[-1]
    sc = q @ k.transpose(-1, -2) / math.sqrt(dh)
    sc = sc.masked_fill(causal_mask(T) == 0, float("-inf"))
    return torch.softmax(sc, -1) @ v


@pytest.mark.parametrize("dh", [16, 8])
def test_attention_accuracy(dh):
    """Integer attention vs float eager attention (tiny model scale: T=32, GQA 4/2)."""
    gen = torch.Generator().manual_seed(dh)
    shapes = [(4, 4, 32, dh), (4, 2, 32, dh), (4, 2, 32, dh)]
    qf, kf, vf = (torch.randn(s, generator=gen, dtype=torch.float64) * 1.5 for s in shapes)
    qi, ki, vi = (torch.floor(t * 65536 + 0.5).to(torch.int64) for t in (qf, kf, vf))
    o = attention_forward(qi, ki, vi).double() / 65536
    ref = _float_attention(qi.double() / 65536, ki.double() / 65536, vi.double() / 65536)
    abs_err = float((o - ref).abs().max())
    rel = float((o - ref).norm() / ref.norm())
    print(f"attention dh={dh}: max abs err {abs_err:.2e}, relative (Frobenius) {rel:.2e}")
    assert rel < 1e-3 and abs_err < 1e-2


def attention_graph(B=1, H=4, Hkv=2, T=4, dh=4, bound=1 << 20):
    g = Graph()
    for n, h in (("Q", H), ("K", Hkv), ("V", Hkv)):
        g.tensor(n, (B, h, T, dh), "committed", (-bound, bound))
    O = add_attention(g, "attn", "Q", "K", "V")
    g.outputs = [O]
    return g, O


def attention_wit(B=1, H=4, Hkv=2, T=4, dh=4, seed=0, mult=1.5):
    gen = torch.Generator().manual_seed(seed)
    return {n: (torch.randn((B, h, T, dh), generator=gen) * mult * 65536).round()
            .to(torch.int64) for n, h in (("Q", H), ("K", Hkv), ("V", Hkv))}


@pytest.mark.parametrize("dh", [4, 8])
def test_attention_complete_gqa(gold, dh):
    g, O = attention_graph(dh=dh)
    wit = attention_wit(dh=dh)
    _ok(g, wit, gold)
    want = attention_forward(wit["Q"], wit["K"], wit["V"])
    assert torch.equal(graphlib.forward(g, wit, gold.registry)[O], want)


@pytest.mark.parametrize("which", [
    "attn/softmax/P",
    pytest.param("attn/out", marks=pytest.mark.slow),
    pytest.param("attn/out_r", marks=pytest.mark.slow),
    pytest.param("Q", marks=pytest.mark.slow),
    pytest.param("V", marks=pytest.mark.slow)])
def test_attention_tampered_rejected(gold, which):
    g, _ = attention_graph()
    assert_rejected(g, attention_wit(), gold, {},
                          lambda values: values[which].reshape(-1).__setitem__(
                              5, values[which].reshape(-1)[5] + 1))


def test_scores_outside_exp_domain_is_prover_error(gold):
    g, _ = attention_graph(bound=1 << 30)
    wit = attention_wit(mult=100.0)
    with pytest.raises(ProverError, match="exp table domain"):
        graphlib.prove(g, wit, gold, {})
