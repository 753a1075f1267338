"""The prover's memory paths at real checkpoint shapes (issue 11, acceptance 1): a
stacked table with one claim is opened without a reduction sumcheck, checkpoints are
read tensor by tensor (`hf.load_model(lazy=True)`) and quantised a block of rows at a
time straight into their padded layout (`llama._fixed_padded`) — same values, same
relations, far less memory (docs/forward.md § 7b)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch

from zklora.plugins.models import hf, llama, tiny
from zklora.plugins.models.padding import Padding
from zklora.zkcore import mle, selfcheck, stack
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProverError, VerificationError
from zklora.zkcore.op import ProverContext, TensorSpec, VerifierContext
from zklora.zkcore.quant import to_fixed
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .conftest import backend_for


def _claims(E, lay, tables, counts, rng):
    out = []
    for i, t in enumerate(tables):
        for _ in range(counts[i]):
            r = E.random(rng, lay.block(i).num_vars)
            out.append(lay.claim(E, i, r, mle.evaluate(E, t, r, base=True)))
    return out


def test_single_claim_needs_no_sumcheck(gold):
    """One claim on a table: returned as it is, at its full point, and nothing is sent;
    next to a table with several claims (same size, one batched sumcheck) both sides
    agree and every returned claim is true of its table."""
    F = gold.field
    E = F.ext
    rng = np.random.default_rng(5)
    lays = [stack.StackLayout([64, 32, 32]), stack.StackLayout([128])]
    tabs = [[F.from_ints(rng.integers(-50, 50, s)) for s in lay.sizes] for lay in lays]
    S = [lay.stack(F, t) for lay, t in zip(lays, tabs)]
    one = _claims(E, lays[0], tabs[0], [0, 1, 0], rng)
    many = _claims(E, lays[1], tabs[1], [3], rng)

    def run(items):
        pch = ProverChannel(Transcript(b"t"))
        got = stack.reduce_many(ProverContext(F, pch, {}, {}, {}, None),
                                [(lay.num_vars, cl, s) for lay, cl, s in items], label="x")
        vch = VerifierChannel(Transcript(b"t"), pch.proof_bytes())
        back = stack.reduce_many(VerifierContext(F, vch, {}, {}, None),
                                 [(lay.num_vars, cl, None) for lay, cl, _ in items],
                                 label="x")
        vch.finish()
        return got, back, pch.proof_bytes()

    (got,), (back,), data = run([(lays[0], one, S[0])])
    assert data == b""
    assert E.equal(got[0], stack._full_point(E, lays[0].num_vars, one[0]))
    assert E.equal(got[1], one[0].value) and E.equal(back[0], got[0])
    # a duplicate of the single claim is still one claim
    (got2,), _, data = run([(lays[0], one + one, S[0])])
    assert data == b"" and E.equal(got2[0], got[0])
    got, back, data = run([(lays[0], one, S[0]), (lays[1], many, S[1])])
    assert data != b""
    for (r, v), (r2, v2), s in zip(got, back, S):
        assert E.equal(r, r2) and E.equal(v, v2)
        assert E.equal(mle.evaluate(E, s, r, base=True), v)


@pytest.mark.parametrize("commitment", ["plain", "ligero"])
def test_single_claim_opened_directly(reg, commitment):
    """A stacked tensor with one claim: the opening alone checks it; a false value is
    refused by the prover's self-check of the opening or by the verifier."""
    be = backend_for(reg, "goldilocks", commitment)
    F, E = be.field, be.field.ext
    rng = np.random.default_rng(2)
    spec = TensorSpec("t", (1 << 10,), "committed")
    table = F.from_ints(rng.integers(-1000, 1000, spec.size))
    r = E.random(rng, 10)
    v = mle.evaluate(E, table, r, base=True)

    def run(value):
        from zklora.zkcore.claims import Claim

        pch = ProverChannel(Transcript(b"t"))
        pc = Committer(be.scheme, True)
        pc.commit(pch, spec, table)
        pc.flush(pch)
        pc.open(ProverContext(F, pch, {"t": spec}, {}, {}, pc), {"t": [Claim("t", r, value)]})
        vch = VerifierChannel(Transcript(b"t"), pch.proof_bytes())
        vc = Committer(be.scheme, False)
        vc.commit(vch, spec)
        vc.flush(vch)
        vc.open(VerifierContext(F, vch, {"t": spec}, {}, vc), {"t": [Claim("t", r, value)]})
        vch.finish()

    run(v)
    bad = E.add(v, E.scalar(1))
    with selfcheck.disabled(), pytest.raises((VerificationError, ProverError)):
        run(bad)


def _odd_arch():
    """vocab 100, hidden 96, FFN 80, 3 KV heads with G = 3: every axis padded, the query
    heads moved."""
    return tiny.tiny_arch(num_kv_heads=3, vocab_size=100, hidden_size=96,
                          intermediate_size=80, num_heads=9, head_dim=16, num_layers=1)


def test_fixed_padded_equals_pad_of_to_fixed(monkeypatch):
    """The block-wise conversion gives exactly pad(to_fixed(x)), padded query heads
    moved as `Padding.pad` moves them, in every block size."""
    pad = Padding(_odd_arch())
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(9 * 16, 96, generator=g), ("q", "hidden")),
             (torch.randn(96, 9 * 16, generator=g), ("hidden", "q")),
             (torch.randn(100, 96, generator=g), ("vocab", "hidden")),
             (torch.randn(96, generator=g), ("hidden",))]
    for chunk in (1, 7, 96 * 5, 1 << 22):
        monkeypatch.setattr(llama, "QUANT_CHUNK", chunk)
        for x, kinds in cases:
            want = pad.pad(to_fixed(x, 16), kinds)
            got = llama._fixed_padded(pad, x, 16, kinds, "w")
            assert got.dtype == torch.int64 and torch.equal(got, want), (chunk, kinds)
    with pytest.raises(Exception, match="not"):
        llama._fixed_padded(pad, torch.zeros(3, 96), 16, ("q", "hidden"), "w")
    x = torch.randn(100, 96, generator=g)
    x[50, 3] = float("nan")
    monkeypatch.setattr(llama, "QUANT_CHUNK", 96)
    with pytest.raises(ProverError, match="emb: non-finite"):
        llama._fixed_padded(pad, x, 16, ("vocab", "hidden"), "emb")


@pytest.mark.parametrize("tied", [False, True])
def test_lazy_checkpoint_same_witness(tmp_path, monkeypatch, tied):
    """A lazily read checkpoint has the eager one's tensors and shapes checks, and the
    block-wise quantisation the same witness."""
    arch = attrs.evolve(_odd_arch(), tie_word_embeddings=tied)
    ck = tiny.tiny_weights(arch, seed=1)
    hf.save_model(tmp_path / "m", arch, ck.weights)
    eager = hf.load_model(tmp_path / "m")
    lazy = hf.load_model(tmp_path / "m", lazy=True)
    assert isinstance(lazy.weights, hf.LazyWeights)
    assert sorted(lazy.weights) == sorted(eager.weights)
    for k, v in eager.weights.items():
        assert torch.equal(lazy.weights[k], v)
    assert torch.equal(lazy.lm_head, eager.lm_head)
    spec = llama.ForwardSpec(arch, None, llama.QuantConfig(), 1, 8)
    ids = llama.random_batch(arch.vocab_size, 1, 8, seed=3)
    monkeypatch.setattr(llama, "QUANT_CHUNK", 200)
    a = llama.quantize_inputs(spec, lazy, None, ids)
    monkeypatch.setattr(llama, "QUANT_CHUNK", 1 << 22)
    b = llama.quantize_inputs(spec, eager, None, ids)
    assert sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a)


def test_lazy_checkpoint_refuses_like_eager(tmp_path):
    """Shape and tying errors of a lazy load are the eager load's."""
    from safetensors.torch import save_file

    arch = attrs.evolve(_odd_arch(), tie_word_embeddings=True)
    ck = tiny.tiny_weights(arch, seed=1)
    hf.save_model(tmp_path / "m", arch, ck.weights)
    w = dict(hf.load_model(tmp_path / "m").weights)
    w["lm_head.weight"] = w["model.embed_tokens.weight"] + 1
    save_file({k: v.contiguous() for k, v in w.items()}, str(tmp_path / "m" / "model.safetensors"))
    for lazy in (False, True):
        with pytest.raises(Exception, match="lm_head.weight differs"):
            hf.load_model(tmp_path / "m", lazy=lazy)
    del w["lm_head.weight"]
    w["model.norm.weight"] = torch.ones(5)
    save_file({k: v.contiguous() for k, v in w.items()}, str(tmp_path / "m" / "model.safetensors"))
    for lazy in (False, True):
        with pytest.raises(Exception, match="model.norm.weight has shape"):
            hf.load_model(tmp_path / "m", lazy=lazy)


@pytest.mark.parametrize("tied", [False, True])
def test_work_estimate_counts_a_tied_head_once(tied):
    """The statement's work estimate bounds the built graph (within 2.5×) with a tied LM
    head counted once: the Llama-3.2-1B shape is not charged for a second 2^28 table."""
    import math

    arch = attrs.evolve(_odd_arch(), tie_word_embeddings=tied)
    spec = llama.ForwardSpec(arch, None, llama.QuantConfig(), 1, 8)
    g = llama.build_graph(spec, 0)
    actual = sum(math.prod(s.shape) for s in g.tensors.values())
    est = llama.work_estimate(spec)
    assert actual <= est <= 2.5 * actual, (actual, est)
