"""Cross-entropy backward op: completeness, exact integer definition, accuracy against
torch autograd, tamper rejection, bound checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zklora.plugins.ops.cross_entropy import add_cross_entropy, cross_entropy_value
from zklora.plugins.ops.cross_entropy_backward import (
    add_cross_entropy_backward,
    check_ce_backward_bounds,
    cross_entropy_backward_forward,
    cross_entropy_saved,
)
from zklora.plugins.ops.softmax import softmax_forward
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected
from zklora.zkcore.testing.tamper import prove_and_verify as _ok

from .conftest import backend_for

# small forward parameters (as tests/test_cross_entropy_op.py); gradients at sg = 24
P = dict(scale=8, exp_scale=10, digit_bits=8, mantissa_bits=6, limb_bits=8)
T, V = 8, 16


def logits(seed=0, T=T, V=V, scale=P["scale"], std=2.0, ignored=(2, -1)):
    gen = torch.Generator().manual_seed(seed)
    z = (torch.randn(T, V, generator=gen) * std * (1 << scale)).round().to(torch.int64)
    lab = torch.randint(0, V, (T,), generator=gen)
    for i in ignored:
        lab[i] = -100
    return z, lab


def standalone(seed=0, ignored=(2, -1), grad_scale=24):
    """P, Y, m as committed inputs (the forward's relations are tested elsewhere)."""
    z, lab = logits(seed, ignored=ignored)
    w = P["exp_scale"] - P["scale"]
    sm = softmax_forward(z, None, scale=P["scale"], shift=w, kappa=1 << w,
                         digit_bits=P["digit_bits"], exp_scale=P["exp_scale"])
    m = (lab != -100).to(torch.int64)
    y = torch.zeros(T, V, dtype=torch.int64)
    y[m > 0, lab[m > 0]] = 1
    g = Graph()
    g.tensor("P", (T, V), "committed", (0, 1 << P["scale"]))
    g.tensor("Y", (T, V), "committed", (0, 1))
    g.tensor("m", (T,), "committed", (0, 1))
    dz = add_cross_entropy_backward(g, "ceb", "P", "Y", "m", num_tokens=int(m.sum()),
                                    scale=P["scale"], grad_scale=grad_scale, limb_bits=8)
    g.outputs = [dz]
    return g, {"P": sm["P"], "Y": y, "m": m}


def with_forward(seed=0):
    z, lab = logits(seed)
    loss, n = cross_entropy_value(z, lab, **P)
    g = Graph()
    g.tensor("Z", (T, V), "committed", (-(1 << 20), 1 << 20))
    g.tensor("lab", (T,), "committed")
    out = add_cross_entropy(g, "ce", "Z", "lab", loss=loss, num_tokens=n, **P)
    dz = add_cross_entropy_backward(g, "ceb", *cross_entropy_saved("ce"), scale=P["scale"],
                                    limb_bits=8)
    g.outputs = [out, dz]
    return g, {"Z": z, "lab": lab}




@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_ce_backward_complete(reg, field):
    be = backend_for(reg, field, "plain", "logup-gkr")
    g, w = standalone()
    _ok(g, w, be)


@pytest.mark.parametrize("ignored", [(2, -1), (1, 2, 3, 4)])
def test_ce_backward_complete_token_counts(gold, ignored):
    """N = 6 (not a power of two: two-sided remainder check) and N = 4 (a power of two)."""
    g, w = standalone(ignored=ignored)
    _ok(g, w, gold)


def test_ce_backward_with_forward(gold):
    """The backward consuming the forward's committed P, Y, m (N from the forward node)."""
    g, w = with_forward()
    _ok(g, w, gold)
    vals = graphlib.forward(g, w, gold.registry)
    want, _ = cross_entropy_backward_forward(vals["ce/softmax/P"], vals["ce/Y"],
                                             vals["ce/m"], num_tokens=6, scale=8)
    assert torch.equal(vals["ceb/dZ"], want)


def test_integer_definition():
    """dZ = round half up of M·A/D with A = m·P − 2^s·Y; 0 on ignored rows."""
    gen = torch.Generator().manual_seed(3)
    p = torch.randint(0, 257, (6, 8), generator=gen)
    y = torch.zeros(6, 8, dtype=torch.int64)
    y[torch.arange(5), torch.randint(0, 8, (5,), generator=gen)] = 1
    m = torch.tensor([1, 1, 1, 1, 1, 0])
    for N, s, sg in ((5, 8, 24), (4, 8, 24), (3, 16, 8)):
        dz, r = cross_entropy_backward_forward(p, y, m, num_tokens=N, scale=s, grad_scale=sg)
        a = (m[:, None] * p - (y << s)).double() * 2.0 ** (sg - s) / N
        assert torch.equal(dz, torch.floor(a + 0.5).to(torch.int64))
        D = N << max(0, s - sg)
        assert int(r.min()) >= 0 and int(r.max()) < D
        assert int(dz[5].abs().max()) == 0


@pytest.mark.parametrize("which", ["dZ", "R", "dZ+R"])
def test_ce_backward_tampered_rejected(gold, which):
    """dZ off by one, R off by one, or (dZ + 1, R − N): the relation still holds but R
    leaves [0, N) — the verifier rejects each."""
    g, w = standalone()
    N = int(w["m"].sum())

    def tamper(values):
        if which in ("dZ", "dZ+R"):
            values["ceb/dZ"].reshape(-1)[3] += 1
        if which == "R":
            values["ceb/R"].reshape(-1)[3] += 1
        if which == "dZ+R":
            values["ceb/R"].reshape(-1)[3] -= N

    assert_rejected(g, w, gold, {}, tamper)


@pytest.mark.parametrize("which", ["P", "Y", "m"])
def test_ce_backward_tampered_input_rejected(gold, which):
    """An input changed after the honest dZ was computed (the committed P, Y or m no
    longer matches dZ) ⇒ reject."""
    g, w = standalone()
    idx = 1 if which == "m" else 3 * V + 5

    def tamper(values):
        values[which].reshape(-1)[idx] += 1

    assert_rejected(g, w, gold, {}, tamper)


def test_ce_backward_proof_bytes_tampered(gold):
    g, w = standalone()
    stream, sections = _ok(g, w, gold)
    for pos in range(0, len(stream), max(1, len(stream) // 15)):
        bad = bytearray(stream)
        bad[pos] ^= 0x10
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), gold, {}, sections)


def test_ce_backward_statement_token_count(gold):
    """A proof for N = 6 does not verify against the graph of N = 5."""
    g, w = standalone()
    stream, sections = _ok(g, w, gold)
    g2 = Graph()
    for n, spec in g.tensors.items():
        if not n.startswith("ceb/"):
            g2.tensor(n, spec.shape, spec.kind, spec.bound)
    dz = add_cross_entropy_backward(g2, "ceb", "P", "Y", "m", num_tokens=5, scale=8,
                                    limb_bits=8)
    g2.outputs = [dz]
    with pytest.raises((VerificationError, ProofFormatError)):
        graphlib.verify(g2, stream, gold, {}, sections)


def test_ce_backward_config_errors():
    g, _ = with_forward()
    with pytest.raises(ConfigError, match="differ"):
        add_cross_entropy_backward(g, "x", *cross_entropy_saved("ce"), num_tokens=3,
                                   scale=8)
    with pytest.raises(ConfigError, match="ceb2"):
        check_ce_backward_bounds("ceb2", num_tokens=1, scale=16, grad_scale=48, dz=1 << 63)


@pytest.mark.parametrize("std", [1.0, 3.0])
def test_ce_backward_accuracy(std):
    """Integer dlogits (default scales s = 16, sg = 24) vs torch autograd of
    F.cross_entropy in float64 on the same quantised logits, tiny-model batch
    (4 × 32 tokens, V = 256, transformers' shift, some ignored labels)."""
    gen = torch.Generator().manual_seed(11)
    lf = torch.randn(4, 32, 256, generator=gen, dtype=torch.float64) * std
    ids = torch.randint(0, 256, (4, 32), generator=gen)
    ids[0, :5] = -100
    lab = torch.cat([ids[:, 1:], torch.full((4, 1), -100)], 1).reshape(-1)
    z = torch.floor(lf * 65536 + 0.5).to(torch.int64).reshape(-1, 256)
    sm = softmax_forward(z, None, scale=16, shift=2, kappa=4, digit_bits=14, exp_scale=18)
    m = (lab != -100).to(torch.int64)
    y = torch.zeros_like(z)
    y[m > 0, lab[m > 0]] = 1
    dz, _ = cross_entropy_backward_forward(sm["P"], y, m, num_tokens=int(m.sum()))
    zf = (z.double() / 65536).requires_grad_(True)
    F.cross_entropy(zf, lab, ignore_index=-100).backward()
    ref = zf.grad
    got = dz.double() / (1 << 24)
    abs_err = float((got - ref).abs().max())
    rel = float((got - ref).norm() / ref.norm())
    print(f"ce backward std={std}: N={int(m.sum())} max abs err {abs_err:.2e} "
          f"(max |grad| {float(ref.abs().max()):.2e}), relative (Frobenius) {rel:.2e}")
    assert rel < 1e-2
