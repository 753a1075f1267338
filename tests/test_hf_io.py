"""Checkpoint I/O (HF LLaMA dir, peft adapter dir), the tiny built-in model and the
float reference (transformers + peft)."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from zklora.plugins.models import hf
from zklora.plugins.models.hf import (
    LlamaArch,
    LoraSpec,
    load_adapter,
    load_model,
    save_adapter,
    save_model,
)
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
from zklora.zkcore.errors import ConfigError


@pytest.fixture(scope="module")
def hfmods():
    """transformers + peft (slow import, once per module)."""
    transformers = pytest.importorskip("transformers")
    peft = pytest.importorskip("peft")
    from zklora.plugins.models import reference
    return transformers, peft, reference


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, hfmods):
    from zklora.plugins.models.tiny import write_tiny_model
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("adapter") / "adapter"
    save_adapter(d, tiny_adapter())
    return d


def _same(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


# -- models ------------------------------------------------------------------------------


def test_tiny_is_seeded_and_matches_spec():
    a = tiny_arch()
    assert (a.vocab_size, a.hidden_size, a.intermediate_size, a.num_layers, a.num_heads) == \
        (256, 64, 128, 2, 4)
    assert _same(tiny_weights(seed=3).weights, tiny_weights(seed=3).weights)
    assert not _same(tiny_weights(seed=3).weights, tiny_weights(seed=4).weights)
    ad = tiny_adapter()
    assert ad.spec == LoraSpec(r=4, alpha=8.0, targets=("q", "v"))
    assert set(ad.pairs) == {(0, "q"), (0, "v"), (1, "q"), (1, "v")}
    assert float(tiny_adapter(init="peft").pairs[(0, "q")].B.abs().sum()) == 0.0
    gqa = tiny_arch(num_kv_heads=2)
    assert gqa.linear_shape("k") == (32, 64)
    assert tiny_adapter(gqa).pairs[(1, "v")].B.shape == (32, 4)


def test_transformers_dir_round_trip(tiny_dir):
    ck = load_model(tiny_dir)
    assert ck.arch == tiny_arch()
    assert _same(ck.weights, tiny_weights().weights)


def test_save_model_round_trip_gqa_and_transformers_reads_it(tmp_path, hfmods):
    transformers, _, reference = hfmods
    ck = tiny_weights(tiny_arch(num_kv_heads=2), seed=5)
    save_model(tmp_path / "m", ck.arch, ck.weights)
    back = load_model(tmp_path / "m")
    assert back.arch == ck.arch and _same(back.weights, ck.weights)
    m = transformers.LlamaForCausalLM.from_pretrained(str(tmp_path / "m"))
    assert m.config.num_key_value_heads == 2
    assert torch.equal(m.model.layers[1].self_attn.k_proj.weight.detach(),
                       ck.weights["model.layers.1.self_attn.k_proj.weight"])


def test_adapter_round_trip_and_peft_loads_it(tiny_dir, adapter_dir, hfmods):
    _, peft, reference = hfmods
    ck = load_model(tiny_dir)
    ad = load_adapter(adapter_dir, ck.arch)
    assert _same(ad.flat(), tiny_adapter().flat())
    base = reference.hf_model(ck)
    pm = peft.PeftModel.from_pretrained(base, str(adapter_dir))
    got = {k: v.detach() for k, v in peft.get_peft_model_state_dict(pm).items()}
    assert _same(got, ad.flat())
    assert pm.base_model.model.model.layers[0].self_attn.q_proj.scaling["default"] == 8 / 4
    # and it computes what our own reference wrapper computes
    ids = torch.randint(0, 256, (2, 8), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = pm(input_ids=ids).logits
    ref = reference.reference_forward(ck, ad, ids)
    assert torch.allclose(ref.logits, want, atol=1e-5)


def test_rslora_scaling(tmp_path, hfmods):
    _, peft, reference = hfmods
    spec = tiny_lora(r=4, alpha=8, use_rslora=True)
    assert spec.scaling == pytest.approx(8 / math.sqrt(4))
    assert tiny_lora(r=4, alpha=8).scaling == pytest.approx(2.0)
    ad = tiny_adapter(spec=spec)
    save_adapter(tmp_path / "rs", ad)
    back = load_adapter(tmp_path / "rs", tiny_arch())
    assert back.spec.use_rslora
    pm = peft.PeftModel.from_pretrained(reference.hf_model(tiny_weights()), str(tmp_path / "rs"))
    assert pm.base_model.model.model.layers[0].self_attn.v_proj.scaling["default"] == \
        pytest.approx(4.0)


# -- bad inputs ------------------------------------------------------------------------------


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_unsupported_architecture(tiny_dir, tmp_path):
    d = _copy(tiny_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["architectures"] = ["GPT2LMHeadModel"]
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="GPT2LMHeadModel.*only LlamaForCausalLM"):
        load_model(d)
    cfg["architectures"] = ["LlamaForCausalLM"]
    cfg["rope_parameters"] = {"rope_type": "llama3", "rope_theta": 1e4}  # lacks its keys
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="RoPE type 'llama3' needs 'factor'"):
        load_model(d)
    cfg["rope_parameters"] = {"rope_type": "yarn", "factor": 2.0, "rope_theta": 1e4}
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="RoPE type 'yarn' unsupported"):
        load_model(d)
    with pytest.raises(ConfigError, match="not found"):
        load_model(tmp_path / "nope")


def test_shape_mismatch_names_tensor(tmp_path):
    ck = tiny_weights()
    save_model(tmp_path / "m", ck.arch, ck.weights)
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["intermediate_size"] = 256
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match=r"model\.layers\.0\.mlp\.gate_proj\.weight"):
        load_model(tmp_path / "m")
    w = dict(ck.weights)
    del w["model.norm.weight"]
    with pytest.raises(ConfigError, match=r"model\.norm\.weight missing"):
        save_model(tmp_path / "m2", ck.arch, w)


def test_adapter_errors(adapter_dir, tmp_path):
    d = _copy(adapter_dir, tmp_path / "a")
    cfg = json.loads((d / "adapter_config.json").read_text())
    bad = dict(cfg, lora_dropout=0.05)
    (d / "adapter_config.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="random mask the prover chooses is not a proof"):
        load_adapter(d)
    (d / "adapter_config.json").write_text(json.dumps(dict(cfg, use_dora=True)))
    with pytest.raises(ConfigError, match="use_dora"):
        load_adapter(d)
    (d / "adapter_config.json").write_text(json.dumps(dict(cfg, target_modules=["qkv_proj"])))
    with pytest.raises(ConfigError, match="qkv_proj"):
        load_adapter(d)
    (d / "adapter_config.json").write_text(json.dumps(cfg))
    # an adapter for 4 KV heads does not fit a GQA model with 2
    with pytest.raises(ConfigError, match=r"v_proj\.lora_B\.weight has shape \(64, 4\)"):
        load_adapter(d, tiny_arch(num_kv_heads=2))
    with pytest.raises(ConfigError, match="missing"):
        load_adapter(d, tiny_arch(num_layers=3))
    (d / "adapter_config.json").write_text(json.dumps(dict(cfg, target_modules=["q_proj"])))
    with pytest.raises(ConfigError, match="not in target_modules"):
        load_adapter(d)
    with pytest.raises(ConfigError, match="dropout"):
        LoraSpec(dropout=0.1)
    with pytest.raises(ConfigError, match="not a multiple"):
        LlamaArch(256, 64, 128, 2, 4, 3, 16)


# -- float reference ---------------------------------------------------------------------------


def test_reference_forward_loss_is_shifted_mean(hfmods):
    _, _, reference = hfmods
    ck, ad = tiny_weights(), tiny_adapter()
    ids = torch.randint(0, 256, (2, 16), generator=torch.Generator().manual_seed(1))
    out = reference.reference_forward(ck, ad, ids)
    assert out.logits.shape == (2, 16, 256)
    manual = torch.nn.functional.cross_entropy(out.logits[:, :-1].reshape(-1, 256),
                                               ids[:, 1:].reshape(-1))
    assert out.loss == pytest.approx(float(manual), rel=1e-5)
    # the adapter matters (B ≠ 0) and GQA runs
    base = reference.reference_forward(ck, None, ids)
    assert not torch.allclose(base.logits, out.logits)
    g = tiny_arch(num_kv_heads=2)
    assert reference.reference_forward(tiny_weights(g), tiny_adapter(g), ids).logits.shape == \
        (2, 16, 256)


def test_reference_train_steps(hfmods):
    _, _, reference = hfmods
    ck, ad = tiny_weights(), tiny_adapter(init="peft")
    ids = torch.randint(0, 256, (2, 16), generator=torch.Generator().manual_seed(2))
    before = {k: v.clone() for k, v in ad.flat().items()}
    res = reference.reference_train(ck, ad, ids, steps=3, lr=1e-3)
    assert _same(ad.flat(), before)  # the input adapter is untouched
    assert len(res.losses) == 3 and res.losses[2] < res.losses[0]
    d1 = res.delta(1)
    b_keys = [k for k in d1 if "lora_B" in k]
    # Adam's first step moves every parameter with a gradient by ≈ lr (+ decay lr·wd·θ)
    assert all(float(d1[k].abs().max()) <= 1e-3 * 1.001 for k in b_keys)
    assert float(d1[b_keys[0]].abs().max()) > 0.9e-3
    assert reference.relative_frobenius(res.delta(), res.delta()) == 0.0
    assert reference.relative_frobenius(res.delta(1), res.delta()) > 0.1
    assert hf.Adapter is type(res.adapters[0])
