"""The ``llama-train`` model: T chained LoRA training steps (forward, loss, backward,
optimiser) proven as one graph.  Proof tests use a micro LLaMA (vocab 16, hidden 8,
FFN 16, 1 layer, 2 heads of dim 4, LoRA r = 2 on q, v, batch 1 × seq 4); the tiny model
only in the slow fidelity tests (tests/test_fidelity.py) and the benchmark."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.llama import ForwardSpec
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError
from zklora.zkcore.quant import QuantConfig
from zklora.zkcore.testing.tamper import assert_rejected, bump

from .conftest import backend_for


def micro(steps: int = 1, optimizer: str = "adamw", targets=("q", "v")):
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=1,
                     num_heads=2, head_dim=4)
    ck = tiny_weights(arch)
    ad = tiny_adapter(arch, tiny_lora(r=2, alpha=4.0, targets=targets), init="random")
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 1, 4), steps,
                        lt.OptimSpec(optimizer=optimizer))
    ids = torch.randint(0, 16, (1, 4), generator=torch.Generator().manual_seed(0))
    inputs = lt.train_inputs(spec, ck, ad, [ids])
    g, res = lt.integer_train(spec, inputs)
    public = spec.to_public()
    public["losses"] = res.losses
    return spec, g, inputs, res, {"model": "llama-train", "params": public}


@pytest.fixture(scope="module")
def be(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


@pytest.fixture(scope="module")
def one():
    return micro(1)


@pytest.fixture(scope="module")
def two():
    return micro(2)


@pytest.fixture(scope="module")
def two_proof(two, be):
    spec, g, inputs, res, st = two
    return graphlib.prove(g, inputs, be, st)


# -- completeness ------------------------------------------------------------------------


def test_two_step_chain_proves_and_verifies(two, two_proof, be):
    spec, g, inputs, res, st = two
    stream, sections = two_proof
    graphlib.verify(g, stream, be, st, sections)
    names = lt.statement_tensors(st["params"])
    # the chain: step 1's forward reads step 0's optimiser output
    assert g.producer("s1/fwd/l0.q.A/Y").inputs == ("s0/opt/l0.q.A/theta",)
    assert set(names["adapters_out"]) | set(names["state_out"]) <= set(g.outputs)
    assert all(n in g.outputs for n in names["losses"])
    assert not any(o.startswith("s0/opt") for o in g.outputs)
    for n in names["frozen"] + names["data"] + names["adapters_in"]:
        assert g.tensors[n].kind == "committed" and g.producer(n) is None


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_other_optimisers_prove(optimizer, be):
    spec, g, inputs, res, st = micro(1, optimizer)
    stream, sections = graphlib.prove(g, inputs, be, st)
    graphlib.verify(g, stream, be, st, sections)


def test_paper_field_micro_step(reg):
    bls = backend_for(reg, "bls12-381-fr", "plain", "logup-gkr")
    spec, g, inputs, res, st = micro(1, targets=("v",))
    stream, sections = graphlib.prove(g, inputs, bls, st)
    graphlib.verify(g, stream, bls, st, sections)


def test_lora_grads_never_materialise_dxd(one):
    spec, g, *_ = one
    a = spec.fwd.arch
    dd = {(o, n) for t in ("q", "v") for o, n in [a.linear_shape(t)]}
    for t in g.tensors.values():
        if "bwd" in t.name and ("/dA" in t.name or "/dB" in t.name or "/G" in t.name):
            assert tuple(t.shape) not in dd, t.name


# -- soundness: each gradient class, each optimiser output, the chain --------------------


@pytest.mark.parametrize("tensor", [
    "s0/loss.bwd/dZ",                 # dlogits
    "s0/l0.q.bwd/dA/Y",               # a LoRA dA
    "s0/l0.v.bwd/dB/Y",               # a LoRA dB
    "s0/l0.q.bwd/G/Y",                # dY·B of a LoRA linear
    "s0/final.norm.bwd/dX",           # an activation gradient (RMSNorm backward)
    "s0/l0.mlp.bwd/dG",               # SwiGLU backward
    "s0/l0.attn.bwd/dQ",              # attention backward
    "s0/l0.q.bwd/rope/Y",             # RoPE backward
    "s0/l0.ln2.bwd/dX",               # RMSNorm backward inside the layer
    "s0/l0.o.bwd/dX/Y",               # o-projection input gradient
    "s0/opt/l0.q.A/theta",            # optimiser outputs
    "s0/opt/l0.v.B/m",
    "s0/opt/l0.q.B/v",
    "s0/fwd/l0.v.A/Y",                # adapter at the forward's scale
])
def test_tampered_tensor_rejected(one, be, tensor):
    spec, g, inputs, res, st = one
    assert tensor in g.tensors
    if g.tensors[tensor].kind == "virtual":
        # a rescale's Y defined by its committed limbs (`ops/rescale.py` limb_outputs):
        # the prover recomputes virtual tensors, its committed advice is the low limb
        assert g.producer(tensor).params.get("limbs")
        tensor = f"{tensor}/L0"
    msg = assert_rejected(g, inputs, be, st, bump(tensor, 1))
    assert msg


def test_tampered_chain_link_rejected(two, be):
    """Step 0's updated adapter and state, consumed by step 1."""
    spec, g, inputs, res, st = two
    for t in ("s0/opt/l0.q.A/theta", "s0/opt/l0.q.A/v"):
        assert_rejected(g, inputs, be, st, bump(t, 0))


def test_swapped_losses_rejected(two, two_proof, be):
    """A proof whose step-0 loss is presented as step 1's (and vice versa)."""
    spec, g, inputs, res, st = two
    stream, sections = two_proof
    assert res.losses[0] != res.losses[1]
    swapped = dict(st["params"], losses=res.losses[::-1])
    g2 = lt.build_train_graph(spec, swapped["losses"])
    with pytest.raises(VerificationError):
        graphlib.verify(g2, stream, be, {"model": "llama-train", "params": swapped}, sections)
    # the statement alone (same graph) is bound by the transcript too
    with pytest.raises(VerificationError):
        graphlib.verify(g, stream, be, {"model": "llama-train", "params": swapped}, sections)


def test_step_count_and_hyper_parameters_bound(two, two_proof, be):
    spec, g, inputs, res, st = two
    stream, sections = two_proof
    one_step = micro(1)
    with pytest.raises((VerificationError, ProofFormatError)):
        graphlib.verify(one_step[1], stream, be, one_step[4], sections)
    import attrs
    other = attrs.evolve(spec, optim=lt.OptimSpec(lr=2e-3))
    pub = dict(other.to_public(), losses=res.losses)
    with pytest.raises(VerificationError):
        graphlib.verify(lt.build_train_graph(other, res.losses), stream, be,
                        {"model": "llama-train", "params": pub}, sections)


def test_flipped_proof_byte_rejected(two, two_proof, be):
    spec, g, inputs, res, st = two
    stream, sections = two_proof
    for pos in (len(stream) // 3, len(stream) - 5):
        bad = bytearray(stream)
        bad[pos] ^= 1
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), be, st, sections)


# -- the integer run -----------------------------------------------------------------------


def test_losses_decrease_and_adapter_moves(two):
    spec, g, inputs, res, st = two
    init = lt.adapter_from_values(spec, inputs,
                                  lt.statement_tensors(st["params"])["adapters_in"])
    fin = lt.adapter_from_values(spec, res.values)
    d = {k: (fin.flat()[k] - v).abs().max().item() for k, v in init.flat().items()}
    # AdamW moves every element by about lr per step
    assert all(1e-4 < x < 3e-3 for x in d.values()), d
    assert res.losses[1] < res.losses[0]


def test_per_step_batches():
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=1,
                     num_heads=2, head_dim=4)
    ck = tiny_weights(arch)
    ad = tiny_adapter(arch, tiny_lora(r=2, alpha=4.0), init="random")
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 1, 4), 2, batches=2)
    b = [torch.tensor([[1, 2, 3, 4]]), torch.tensor([[5, 6, 7, 8]])]
    inputs = lt.train_inputs(spec, ck, ad, b)
    assert torch.equal(inputs["s1/ids"], b[1].reshape(-1))
    g, res = lt.integer_train(spec, inputs)
    assert g.nodes[[n.name for n in g.nodes].index("s1/embed/lookup")].inputs[0] == "s1/ids"
    assert "s0/ids" in lt.statement_tensors(dict(spec.to_public(), losses=res.losses))["data"]


# -- the model plugin ----------------------------------------------------------------------


def test_model_plugin_registered(reg):
    m = reg.model("llama-train")
    assert isinstance(m, lt.LlamaTrain)


def test_public_params_roundtrip_and_frozen():
    spec, g, inputs, res, st = micro(1)
    m = lt.LlamaTrain()
    pub = st["params"]
    assert m.public_params(pub) == pub
    assert pub["optim"] == {"optimizer": "adamw", "lr": 1e-3, "betas": [0.9, 0.999],
                            "eps": 1e-8, "weight_decay": 1e-2}
    frozen = m.frozen_tensors(pub)
    assert "embed" in frozen and "l0.q.W" in frozen and "norm" in frozen
    assert not any(n.endswith((".A", ".B")) or n == "ids" for n in frozen)
    g2 = m.build(pub)
    assert g2.describe() == g.describe()


@pytest.mark.parametrize("bad, match", [
    ({"steps": 0}, "steps"), ({"steps": 1.5}, "steps"),
    ({"optimizer": "lion"}, "optimizer"), ({"lr": -1.0}, "lr"),
    ({"betas": [0.9]}, "betas"), ({"betas": [0.9, 1.0]}, "betas"), ({"eps": 0.0}, "eps"),
    ({"weight_decay": -0.1}, "weight_decay"), ({"lr": float("nan")}, "lr"),
])
def test_bad_hyper_parameters(bad, match):
    with pytest.raises(ConfigError, match=match):
        lt.load_private({"model": "tiny", **bad})


def test_bad_public_params():
    spec, g, inputs, res, st = micro(1)
    m = lt.LlamaTrain()
    with pytest.raises(ConfigError, match="losses"):
        m.public_params(dict(st["params"], losses=[1, 2]))
    with pytest.raises(ConfigError, match="unknown"):
        m.public_params(dict(st["params"], extra=1))
    with pytest.raises(ConfigError, match="optimizer"):
        m.public_params(dict(st["params"], optim={"optimizer": "lion"}))


def test_bad_data(tmp_path):
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    with pytest.raises(ConfigError, match="no input_ids"):
        lt.load_private({"model": "tiny", "data": str(empty)})
    bad = tmp_path / "b.jsonl"
    bad.write_text("{\"ids\": [1]}\n")
    with pytest.raises(ConfigError, match="input_ids"):
        lt.load_private({"model": "tiny", "data": str(bad)})
    np.save(tmp_path / "x.npy", np.zeros((0, 4), dtype=np.int64))
    with pytest.raises(ConfigError):
        lt.load_private({"model": "tiny", "data": str(tmp_path / "x.npy")})


def test_mismatched_adapter(tmp_path):
    from zklora.plugins.models.hf import save_adapter
    other = tiny_arch(2, hidden_size=32, intermediate_size=64, num_heads=2, head_dim=16)
    save_adapter(tmp_path / "ad", tiny_adapter(other))
    with pytest.raises(ConfigError):
        lt.load_private({"model": "tiny", "adapter": str(tmp_path / "ad")})


def test_dropout_adapter_refused(tmp_path):
    import json

    from zklora.plugins.models.hf import save_adapter
    save_adapter(tmp_path / "ad", tiny_adapter())
    cfg = tmp_path / "ad" / "adapter_config.json"
    d = json.loads(cfg.read_text())
    d["lora_dropout"] = 0.1
    cfg.write_text(json.dumps(d))
    with pytest.raises(ConfigError, match="dropout"):
        lt.load_private({"model": "tiny", "adapter": str(tmp_path / "ad")})


def test_trained_adapter_tiny():
    """The plugin's prover path on the built-in tiny model (integer run only)."""
    m = lt.LlamaTrain()
    params = {"model": "tiny", "steps": 1, "batch": 1, "seq": 8}
    pub = m.public_params(params)
    assert pub["steps"] == 1 and len(pub["losses"]) == 1
    ad, losses = m.trained_adapter(params)
    ref = tiny_adapter(tiny_arch(), init="random")
    assert set(ad.flat()) == set(ref.flat())
    for k, v in ad.flat().items():
        assert v.shape == ref.flat()[k].shape and v.dtype == torch.float32
        assert 0 < (v - ref.flat()[k]).abs().max() < 3e-3
    assert abs(losses[0] - pub["losses"][0] / 2 ** 16) < 1e-12
    g = m.build(pub)
    produced = {o for n in g.nodes for o in n.outputs}
    assert set(m.witness(params)) == {n for n, s in g.tensors.items()
                                      if s.kind == "committed" and n not in produced}
