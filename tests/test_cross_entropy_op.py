"""Cross-entropy op: completeness, accuracy, tamper rejection, bad labels."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zklora.plugins.ops.cross_entropy import ROLES, add_cross_entropy, cross_entropy_value
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected
from zklora.zkcore.testing.tamper import prove_and_verify as _ok

from .conftest import backend_for

# small parameters (small tables keep the tests fast; the defaults are s=16, 16-bit limbs)
P = dict(scale=8, exp_scale=10, digit_bits=8, mantissa_bits=6, limb_bits=8)
T, V = 8, 16


def wit(seed=0, T=T, V=V, scale=P["scale"]):
    gen = torch.Generator().manual_seed(seed)
    z = (torch.randn(T, V, generator=gen) * 2 * (1 << scale)).round().to(torch.int64)
    lab = torch.randint(0, V, (T,), generator=gen)
    lab[-1] = -100
    lab[2] = -100
    return {"Z": z, "lab": lab}


def ce_graph(w, loss_delta=0, tokens_delta=0, **kw):
    params = dict(P, **kw)
    loss, n = cross_entropy_value(w["Z"], w["lab"], **params)
    g = Graph()
    g.tensor("Z", tuple(w["Z"].shape), "committed", (-(1 << 20), 1 << 20))
    g.tensor("lab", tuple(w["lab"].shape), "committed")
    out = add_cross_entropy(g, "ce", "Z", "lab", loss=loss + loss_delta,
                            num_tokens=n + tokens_delta, **params)
    return g, out




@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_cross_entropy_complete(reg, field):
    be = backend_for(reg, field, "plain", "logup-gkr")
    w = wit()
    g, _ = ce_graph(w)
    _ok(g, w, be)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "loss"] + ["lab"])
def test_cross_entropy_tampered_rejected(gold, role):
    w = wit()
    g, _ = ce_graph(w)
    name = role if role == "lab" else f"ce/{role}"
    idx = 0 if role in ("rL", "gL") else 3

    def tamper(values):
        values[name].reshape(-1)[idx] += 1

    assert_rejected(g, w, gold, {}, tamper)


def test_wrong_declared_loss_rejected(gold):
    w = wit()
    g, _ = ce_graph(w, loss_delta=1)
    with pytest.raises(ProverError, match="declares loss"):
        graphlib.prove(g, w, gold, {})
    assert_rejected(g, w, gold, {}, lambda values: None)


def test_wrong_token_count_rejected(gold):
    w = wit()
    g, _ = ce_graph(w, tokens_delta=-1)
    with pytest.raises(ProverError, match="counted tokens"):
        graphlib.prove(g, w, gold, {})
    assert assert_rejected(g, w, gold, {}, lambda values: None) != \
        "prover could not produce a proof"


def test_dropping_a_counted_token_rejected(gold):
    """Zero a counted row of Y and m (so it leaves the loss): (1 − m)(label + 100) = 0
    catches it even with the token count and loss adjusted to match."""
    w = wit()
    w2 = {"Z": w["Z"], "lab": w["lab"].clone()}
    w2["lab"][3] = -100
    g, _ = ce_graph(w2)         # statement for the loss without token 3

    def tamper(values):
        values["lab"][3] = w["lab"][3]   # the committed label is the real one

    assert_rejected(g, w2, gold, {}, tamper)


def test_cross_entropy_proof_bytes_tampered(gold):
    w = wit()
    g, _ = ce_graph(w)
    stream, sections = _ok(g, w, gold)
    for pos in range(0, len(stream), max(1, len(stream) // 15)):
        bad = bytearray(stream)
        bad[pos] ^= 0x08
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), gold, {}, sections)


def test_label_outside_vocab_is_prover_error():
    w = wit()
    w["lab"][0] = V
    with pytest.raises(ProverError, match="label"):
        cross_entropy_value(w["Z"], w["lab"], **P)


@pytest.mark.parametrize("std", [1.0, 3.0])
def test_cross_entropy_accuracy(std):
    """Integer loss (default parameters) vs F.cross_entropy with shifted labels, at the
    tiny model's scale: batch 4 × seq 32, vocab 256."""
    gen = torch.Generator().manual_seed(7)
    logits = torch.randn(4, 32, 256, generator=gen, dtype=torch.float64) * std
    ids = torch.randint(0, 256, (4, 32), generator=gen)
    ids[0, :5] = -100
    lab = torch.cat([ids[:, 1:], torch.full((4, 1), -100)], 1)   # transformers' shift
    z = torch.floor(logits * 65536 + 0.5).to(torch.int64)
    loss, n = cross_entropy_value(z, lab)
    ref = F.cross_entropy((z.double() / 65536)[:, :-1].reshape(-1, 256),
                          ids[:, 1:].reshape(-1), ignore_index=-100)
    err = abs(loss / 65536 - float(ref))
    print(f"cross-entropy std={std}: loss {loss / 65536:.6f} ref {float(ref):.6f} "
          f"abs err {err:.2e} rel {err / float(ref):.2e} tokens {n}")
    assert n == int((lab != -100).sum())
    assert err / float(ref) < 1e-3
