"""Attention backward (softmax backward, GQA group sums): completeness, agreement with
the integer specification, accuracy against torch autograd, tamper rejection."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.attention_backward import (
    ROLES,
    add_attention_backward,
    add_softmax_backward,
    attention_backward_forward,
    check_softmax_backward_bounds,
    softmax_backward_forward,
)
from zklora.plugins.ops.softmax import (
    add_attention,
    causal_mask,
    score_scaling,
    softmax_forward,
)
from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected
from zklora.zkcore.testing.tamper import prove_and_verify as _ok

from .conftest import backend_for

S = 16
QB, GB = 1 << 20, 1 << 26       # declared bounds of Q/K/V (scale 16) and dO (scale 24)


def inputs(B=1, H=4, Hkv=2, T=4, dh=4, seed=0, mult=1.5, gmult=0.5):
    gen = torch.Generator().manual_seed(seed)
    w = {n: (torch.randn((B, h, T, dh), generator=gen) * mult * (1 << S)).round()
         .to(torch.int64) for n, h in (("Q", H), ("K", Hkv), ("V", Hkv))}
    w["dO"] = (torch.randn((B, H, T, dh), generator=gen) * gmult * (1 << 24)).round() \
        .to(torch.int64)
    return w


def declare(g, B, H, Hkv, T, dh, gb=GB):
    for n, h in (("Q", H), ("K", Hkv), ("V", Hkv)):
        g.tensor(n, (B, h, T, dh), "committed", (-QB, QB))
    g.tensor("dO", (B, H, T, dh), "committed", (-gb, gb))


def full_graph(B=1, H=4, Hkv=2, T=4, dh=4):
    """Forward attention (its P) and the backward: the way the model composes them."""
    g = Graph()
    declare(g, B, H, Hkv, T, dh)
    O = add_attention(g, "attn", "Q", "K", "V")
    grads = add_attention_backward(g, "ab", "Q", "K", "V", "attn/softmax/P", "dO")
    g.outputs = [O, *grads]
    return g


def standalone(B=1, H=4, Hkv=2, T=4, dh=4, seed=0):
    """P as a committed input (the forward softmax's proof is tested elsewhere): the
    cheap graph of the tamper tests."""
    g = Graph()
    declare(g, B, H, Hkv, T, dh)
    g.tensor("P", (B, H, T, T), "committed", (0, 1 << S))
    g.outputs = list(add_attention_backward(g, "ab", "Q", "K", "V", "P", "dO"))
    w = inputs(B, H, Hkv, T, dh, seed)
    w["P"] = forward_p(w["Q"], w["K"])
    return g, w


def forward_p(q, k, scale=S):
    kappa, shift, u = score_scaling(q.shape[-1], scale)
    G = q.shape[1] // k.shape[1]
    z = torch.matmul(q, k.repeat_interleave(G, 1).transpose(-1, -2))
    return softmax_forward(z, causal_mask(q.shape[2]), scale=scale, shift=shift,
                           kappa=kappa, digit_bits=14, exp_scale=u)["P"]




@pytest.mark.parametrize("dh", [4, 8])
def test_attention_backward_complete_gqa(gold, dh):
    """GQA (4 Q heads, 2 K/V heads) with the forward; dh = 8 has κ ≠ 1.  The proven
    graph computes exactly `attention_backward_forward`."""
    g = full_graph(dh=dh)
    w = inputs(dh=dh)
    _ok(g, w, gold)
    vals = graphlib.forward(g, w, gold.registry)
    ref = attention_backward_forward(w["Q"], w["K"], w["V"], vals["attn/softmax/P"], w["dO"])
    for k in ("dQ", "dK", "dV", "dP", "dZ", "ubar"):
        assert torch.equal(vals[f"ab/{k}"], ref[k]), k


def test_attention_backward_complete_bls(reg):
    be = backend_for(reg, "bls12-381-fr", "plain", "logup-gkr")
    g, w = standalone(H=2, Hkv=1, seed=3)
    _ok(g, w, be)


def test_attention_backward_complete_mha(gold):
    """H = Hkv (no group views) and a batch of 2."""
    g, w = standalone(B=2, H=2, Hkv=2, seed=1)
    _ok(g, w, gold)


TAMPERED = [(4, f"ab/{r}") for r in ROLES] + [(8, "ab/W"), (8, "ab/W_r")] + \
    [(4, f"ab/{t}{x}") for t in ("dP", "dQ", "dK", "dV") for x in ("", "_r")]


@pytest.mark.parametrize("dh, which", TAMPERED)
def test_attention_backward_tampered_rejected(gold, dh, which):
    """One element of each advice/output tensor off by one ⇒ the verifier rejects
    (dh = 8: κ ≠ 1, the intermediate W and its remainder)."""
    g, w = standalone(dh=dh)
    assert_rejected(g, w, gold, {}, lambda v: v[which].reshape(-1).__setitem__(
        7, v[which].reshape(-1)[7] + 1))


def sb_graph(dh, dp_bits=34, fused=None):
    """The softmax_backward node alone: P and dP committed inputs, dZ the output (dP
    declared within ±2^dp_bits: at 34 bits a κ ≠ 1 node cannot fuse, so it has W)."""
    kappa, shift, _ = score_scaling(dh, S)
    g = Graph()
    g.tensor("P", (1, 2, 4, 4), "committed", (0, 1 << S))
    g.tensor("dP", (1, 2, 4, 4), "committed", (-(1 << dp_bits), 1 << dp_bits))
    names = add_softmax_backward(g, "sb", "P", "dP", scale=S, kappa=kappa, shift=shift,
                                 fused=fused)
    g.outputs = [names["dZ"]]
    w = inputs(H=2, Hkv=1, dh=dh)
    gen = torch.Generator().manual_seed(9)
    lim = 1 << min(30, dp_bits)
    wit = {"P": forward_p(w["Q"], w["K"]),
           "dP": torch.randint(-lim, lim, (1, 2, 4, 4), generator=gen)}
    return g, wit, kappa, shift


@pytest.mark.parametrize("dh, q", [(4, "dZ"), (4, "ubar"), (8, "dZ"), (8, "ubar"), (8, "W")])
def test_quotient_remainder_shift_rejected(gold, dh, q):
    """(q + 1, r − 2^k) at one entry, everything downstream recomputed from it: every
    relation holds, only the remainder's range check can reject — and it does."""
    g, wit, kappa, shift = sb_graph(dh)
    k = {"dZ": shift if kappa == 1 else shift - S, "ubar": S, "W": S}[q]

    def tamper(v):
        v[f"sb/{q}"].reshape(-1)[5] += 1
        v[f"sb/{q}_r"].reshape(-1)[5] -= 1 << k
        p, dp, ub = v["P"], v["dP"], v["sb/ubar"]
        if q == "ubar":   # recompute W / dZ from the forged ū
            x = p * (dp - ub[..., None])
            if kappa == 1:
                v["sb/dZ"], v["sb/dZ_r"] = quant.rescale(x, shift)
            else:
                v["sb/W"], v["sb/W_r"] = quant.rescale(x, S)
        if q in ("ubar", "W") and kappa != 1:
            v["sb/dZ"], v["sb/dZ_r"] = quant.rescale(kappa * v["sb/W"], shift - S)

    msg = assert_rejected(g, wit, gold, {}, tamper)
    assert f"sb/{q}_r" in msg or "lookup" in msg, msg


def test_softmax_backward_alone_complete(gold):
    for dh in (4, 8):
        g, wit, _, _ = sb_graph(dh)
        assert ("sb/W" in g.tensors) == (dh == 8)
        _ok(g, wit, gold)


def test_softmax_backward_fused_complete_and_exact(gold):
    """κ ≠ 1 with a dP bound for which κ·P·(dP − ū) fits: one rounding (ZF), R_z given
    by its two 16-bit limbs, no W; the graph computes `softmax_backward_forward(fused)`."""
    g, wit, kappa, shift = sb_graph(8, dp_bits=26)
    assert "sb/W" not in g.tensors and "sb/dZ_r" not in g.tensors
    assert "sb/dZ_r1" in g.tensors and kappa != 1
    _ok(g, wit, gold)
    vals = graphlib.forward(g, wit, gold.registry)
    ref = softmax_backward_forward(wit["P"], wit["dP"], scale=S, kappa=kappa, shift=shift,
                                   fused=True)
    for r in ("dZ", "ubar", "ubar_r", "dZ_r0", "dZ_r1"):
        assert torch.equal(vals[f"sb/{r}"], ref[r]), r
    x = kappa * wit["P"] * (wit["dP"] - ref["ubar"][..., None])
    assert torch.equal(x + (1 << (shift - 1)), (ref["dZ"] << shift) + ref["dZ_r"])
    with pytest.raises(ConfigError, match="fused"):
        sb_graph(4, fused=True)


def test_softmax_backward_fused_remainder_shift_rejected(gold):
    """(dZ + 1, R_z − 2^shift) at one entry keeps (ZF); only R_z's top limb's range
    check can reject, and it does."""
    g, wit, kappa, shift = sb_graph(8, dp_bits=26)

    def tamper(v):
        v["sb/dZ"].reshape(-1)[5] += 1
        v["sb/dZ_r1"].reshape(-1)[5] -= 1 << (shift - 16)

    msg = assert_rejected(g, wit, gold, {}, tamper)
    assert "sb/dZ_r1" in msg or "lookup" in msg, msg


@pytest.mark.parametrize("which", ["P", "dO", "K"])
def test_attention_backward_tampered_input_rejected(gold, which):
    g, w = standalone()
    assert_rejected(g, w, gold, {}, lambda v: v[which].reshape(-1).__setitem__(
        6, v[which].reshape(-1)[6] + 1))


def test_attention_backward_proof_bytes_tampered(gold):
    g, w = standalone()
    stream, sections = _ok(g, w, gold)
    for pos in range(0, len(stream), max(1, len(stream) // 15)):
        bad = bytearray(stream)
        bad[pos] ^= 0x20
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), gold, {}, sections)


def test_softmax_backward_integer_definition():
    """ū = round(Σ_j P·dP / 2^s); κ = 1: dZ = round(V/2^shift); κ ≠ 1: W = round(V/2^s),
    dZ = round(κ·W / 2^(shift − s)), V = P·(dP − ū); remainders in range."""
    gen = torch.Generator().manual_seed(5)
    p = torch.randint(0, 1 << 16, (2, 8, 8), generator=gen)
    dp = torch.randint(-(1 << 30), 1 << 30, (2, 8, 8), generator=gen)

    def rounded(x, k):
        return torch.floor(x.double() / 2 ** k + 0.5).to(torch.int64)

    for kappa, shift in ((1, 18), (3, 20)):
        out = softmax_backward_forward(p, dp, scale=16, kappa=kappa, shift=shift)
        u = (p * dp).sum(-1)
        assert torch.equal(u + (1 << 15), (out["ubar"] << 16) + out["ubar_r"])
        v = p * (dp - out["ubar"][..., None])
        if kappa == 1:
            assert torch.equal(v + (1 << 17), (out["dZ"] << 18) + out["dZ_r"])
            assert int(out["dZ_r"].max()) < 1 << 18
        else:
            assert torch.equal(v + (1 << 15), (out["W"] << 16) + out["W_r"])
            assert torch.equal(3 * out["W"] + (1 << 3), (out["dZ"] << 4) + out["dZ_r"])
            assert int(out["dZ_r"].max()) < 1 << 4
        assert int(out["dZ_r"].min()) >= 0
        assert int((out["dZ"] - rounded(kappa * v, shift)).abs().max()) <= 1


def test_attention_backward_config_errors():
    g = Graph()
    declare(g, 1, 4, 2, 4, 4, gb=1 << 50)      # |dO| up to 2^26 in real units
    g.tensor("P", (1, 4, 4, 4), "committed", (0, 1 << S))
    with pytest.raises(ConfigError, match="ab/"):
        add_attention_backward(g, "ab", "Q", "K", "V", "P", "dO")
    with pytest.raises(ConfigError, match="sbx"):
        check_softmax_backward_bounds("sbx", scale=16, kappa=1, shift=18, row_len=32,
                                      dp=1 << 45, ubar=1 << 45, dz=1 << 40)
    g2 = Graph()
    declare(g2, 1, 4, 2, 4, 4)
    g2.tensor("P", (1, 4, 4, 8), "committed", (0, 1 << S))
    with pytest.raises(ConfigError, match="do not agree"):
        add_attention_backward(g2, "ab", "Q", "K", "V", "P", "dO")


def _autograd(qi, ki, vi, doi, dh, scale=S):
    """Float64 autograd on the same quantised inputs and the forward's exact score
    constant c = κ·2^(s − shift)."""
    kappa, shift, _ = score_scaling(dh, scale)
    c = kappa * 2.0 ** (scale - shift)
    q, k, v = (t.double().div(1 << scale).requires_grad_(True) for t in (qi, ki, vi))
    G = q.shape[1] // k.shape[1]
    T = q.shape[2]
    sc = c * q @ k.repeat_interleave(G, 1).transpose(-1, -2)
    sc = sc.masked_fill(causal_mask(T) == 0, float("-inf"))
    o = torch.softmax(sc, -1) @ v.repeat_interleave(G, 1)
    o.backward(doi.double() / (1 << 24))
    return q.grad, k.grad, v.grad


@pytest.mark.parametrize("dh, gmult", [(16, 1e-1), (16, 1e-3), (8, 1e-1), (8, 1e-3)])
def test_attention_backward_accuracy(dh, gmult):
    """Integer backward (s = 16, sg = 24) vs torch autograd in float64, tiny-model
    attention: batch 2, 4 Q heads / 2 K/V heads, T = 32."""
    w = inputs(B=2, H=4, Hkv=2, T=32, dh=dh, seed=dh, mult=1.5, gmult=gmult)
    p = forward_p(w["Q"], w["K"])
    got = attention_backward_forward(w["Q"], w["K"], w["V"], p, w["dO"])
    ref = _autograd(w["Q"], w["K"], w["V"], w["dO"], dh)
    if dh == 8:   # κ ≠ 1: the fused rounding (one instead of two) is as accurate
        fz = attention_backward_forward(w["Q"], w["K"], w["V"], p, w["dO"], fused=True)
        for name, r in zip(("dQ", "dK", "dV"), ref):
            x = fz[name].double() / (1 << 24)
            assert float((x - r).norm() / r.norm()) < 1e-2, name
        assert int((fz["dZ"] - got["dZ"]).abs().max()) <= 1
    for name, r in zip(("dQ", "dK", "dV"), ref):
        x = got[name].double() / (1 << 24)
        abs_err = float((x - r).abs().max())
        rel = float((x - r).norm() / r.norm())
        print(f"attention backward dh={dh} |dO|~{gmult:g}: {name} max abs err {abs_err:.2e} "
              f"(max |grad| {float(r.abs().max()):.2e}), relative (Frobenius) {rel:.2e}")
        assert rel < 1e-2


def test_dk_group_sum_rounds_q_when_it_would_overflow(gold):
    """With a Q bound so wide that Σ_group dZᵀ·Q could pass p/2 (as at T = 4096 with
    GQA), Q is first rounded to k fewer bits by a proven rescale: the graph equals
    `attention_backward_forward(q_shift_bits=k)`, proves, and a tampered rounded Q is
    rejected."""
    g = Graph()
    g.tensor("Q", (1, 4, 4, 4), "committed", (-(1 << 34), 1 << 34))
    for n in ("K", "V"):
        g.tensor(n, (1, 2, 4, 4), "committed", (-QB, QB))
    g.tensor("dO", (1, 4, 4, 4), "committed", (-GB, GB))
    g.tensor("P", (1, 4, 4, 4), "committed", (0, 1 << S))
    g.outputs = list(add_attention_backward(g, "ab", "Q", "K", "V", "P", "dO"))
    node = g.producer("ab/Qs")
    assert node is not None and node.op == "rescale"
    k = int(node.params["shift"])
    assert k > 0
    w = inputs()
    w["P"] = forward_p(w["Q"], w["K"])
    _ok(g, w, gold)
    vals = graphlib.forward(g, w, gold.registry)
    ref = attention_backward_forward(w["Q"], w["K"], w["V"], w["P"], w["dO"], q_shift_bits=k)
    assert torch.equal(vals["ab/dK"], ref["dK"])
    assert_rejected(g, w, gold, {}, lambda v: v["ab/Qs"].reshape(-1).__setitem__(
        3, v["ab/Qs"].reshape(-1)[3] + 1))
