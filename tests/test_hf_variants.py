"""LLaMA-family checkpoint variants real models use (issue 11): RoPE scaling of type
``llama3`` and ``linear`` with ``rope_theta`` 500000, an explicit ``head_dim``, tied
embeddings, Mistral without sliding window — each built with transformers,
``save_pretrained`` into a directory, loaded by `hf.load_model` and compared with
transformers' own forward; the public RoPE tables against transformers' rotary module;
one forward proof through the Python API; and every refused variant as a one-line
`ConfigError`."""

from __future__ import annotations

import copy
import json
import math

import attrs
import pytest
import torch

from zklora.plugins.models import hf, llama
from zklora.plugins.models.hf import LlamaArch, load_model, save_model
from zklora.plugins.ops.rope import rope_inv_freq, rope_tables
from zklora.zkcore.errors import ConfigError, VerificationError
from zklora.zkcore.quant import QuantConfig

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

BASE = dict(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            rms_norm_eps=1e-5)
#: Llama-3.1/3.2's own RoPE parameters
LLAMA3 = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
VARIANTS = {
    # Llama-3.2-1B style: llama3 RoPE, θ = 500000, tied embeddings
    "llama3-tied": dict(rope_theta=500000.0, rope_scaling=LLAMA3,
                        max_position_embeddings=131072, tie_word_embeddings=True),
    # a short original context, so that all three llama3 bands move at short positions
    "llama3-short": dict(rope_theta=500000.0, max_position_embeddings=256,
                         rope_scaling=dict(LLAMA3, factor=8.0,
                                           original_max_position_embeddings=64)),
    "linear": dict(rope_scaling={"rope_type": "linear", "factor": 4.0}),
    "head_dim": dict(head_dim=32),  # ≠ hidden / heads = 16
    "mistral": dict(sliding_window=None),
}
SEQ = 16
S = 16  # the activation scale the tables are built at


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("transformers")


def _init(model, seed: int) -> None:
    """Activations of order 1 (transformers' untrained init gives near-constant logits)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if "norm" in name:
                p.copy_(1 + 0.1 * r)
            elif p.dim() == 1:  # a bias (refused checkpoints)
                p.copy_(0.1 * r)
            elif "embed" in name:
                p.copy_(r * 0.5)
            else:
                p.copy_(r * p.shape[1] ** -0.5)


def build(tf, path, variant: str | None = None, seed: int = 1, mistral: bool = False,
          **overrides):
    """A random transformers model of a variant, saved with ``save_pretrained``."""
    # a deep copy: transformers' config writes rope_theta into the dict it is given
    kw = copy.deepcopy({**BASE, **(VARIANTS[variant] if variant else {}), **overrides})
    mistral = mistral or variant == "mistral"
    cfg = (tf.MistralConfig if mistral else tf.LlamaConfig)(**kw)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = (tf.MistralForCausalLM if mistral else tf.LlamaForCausalLM)(cfg).eval()
    _init(model, seed)
    model.save_pretrained(str(path))
    return model


def hf_logits(tf, path, ids):
    m = tf.AutoModelForCausalLM.from_pretrained(str(path), attn_implementation="eager").eval()
    with torch.no_grad():
        return m(input_ids=ids, labels=ids), m


def rel(a, b) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


@pytest.fixture(scope="module")
def saved(tf, tmp_path_factory):
    """variant → (directory, transformers' output, transformers' model)."""
    ids = torch.randint(0, 128, (2, SEQ), generator=torch.Generator().manual_seed(2))
    out = {}
    for name in VARIANTS:
        d = tmp_path_factory.mktemp(name) / "model"
        build(tf, d, name)
        res, m = hf_logits(tf, d, ids)
        out[name] = (d, res, m)
    return ids, out


# -- accepted variants: the float reference and the integer spec against transformers -------


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_loads_and_matches_transformers(saved, variant):
    from zklora.plugins.models import reference
    ids, models = saved
    d, want, m = models[variant]
    ck = load_model(d)
    a = ck.arch
    cfg = json.loads((d / "config.json").read_text())
    # the arch carries what the checkpoint says
    assert a.rope_theta == cfg["rope_parameters"]["rope_theta"]
    assert a.rope_type == cfg["rope_parameters"]["rope_type"]
    if variant == "head_dim":
        assert (a.head_dim, a.q_dim, a.kv_dim) == (32, 128, 64)
        assert ck.linear(0, "q").shape == (128, 64) and ck.linear(0, "o").shape == (64, 128)
    if variant == "llama3-tied":
        assert a.tie_word_embeddings and "lm_head.weight" not in ck.weights
        assert dict(a.rope_scaling) == LLAMA3
    # the float reference (transformers' LlamaForCausalLM built from the arch) is the model
    ref = reference.reference_forward(ck, None, ids)
    r = rel(ref.logits, want.logits)
    assert r < 1e-4, r
    assert ref.loss == pytest.approx(float(want.loss), rel=1e-4)
    # the integer spec: its RoPE variant matters and is the right one
    spec = llama.ForwardSpec(a, None, QuantConfig(), 2, SEQ)
    got = llama.integer_forward(spec, llama.quantize_inputs(spec, ck, None, ids),
                                with_loss=False).logits
    r_int = rel(got, want.logits)
    assert r_int < 1e-3, r_int
    if a.rope_type != "default":
        plain = attrs.evolve(a, rope_scaling="default")
        ref0 = reference.reference_forward(hf.Checkpoint(plain, ck.weights), None, ids)
        ctrl = rel(ref0.logits, want.logits)
        assert ctrl > 10 * 1e-4  # the float check above can fail
        if variant != "llama3-tied":  # (Llama-3's bands barely move at 16 positions)
            assert ctrl > 20 * r_int  # and so can the integer one


@pytest.mark.parametrize("variant", ["llama3-tied", "llama3-short", "linear", "head_dim"])
def test_rope_tables_match_transformers_rotary(saved, variant):
    """cos/sin at the activation scale against the model's own rotary module."""
    _, models = saved
    d, _, m = models[variant]
    a = load_model(d).arch
    rot = m.model.rotary_emb
    # the inverse frequencies: ours (float64) against transformers' (float32)
    inv = torch.tensor(rope_inv_freq(a.head_dim, a.rope_theta, a.rope_scaling),
                       dtype=torch.float64)
    assert float(((inv - rot.inv_freq.double()) / inv).abs().max()) < 1e-6
    seq = 64
    cos_f, sin_f = rot(torch.zeros(1, 1, seq, a.head_dim), torch.arange(seq)[None])
    cos_i, sin_i = rope_tables(seq, a.head_dim, a.rope_theta, S, rope_scaling=a.rope_scaling)
    for got, want in ((cos_i, cos_f[0]), (sin_i, sin_f[0])):
        err = float((got.double() / 2 ** S - want.double()).abs().max())
        assert err <= 2 ** -(S + 1) + 1e-6, err  # half a unit (rounding) + float32 noise
    # and they are not the default tables
    if a.rope_type != "default":
        cos0, _ = rope_tables(seq, a.head_dim, a.rope_theta, S)
        assert not torch.equal(cos0, cos_i)


def test_llama3_bands_exactly_transformers(tf):
    """The three llama3 bands, against `_compute_llama3_parameters` itself."""
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    for params in (LLAMA3, dict(LLAMA3, original_max_position_embeddings=64, factor=8.0),
                   dict(LLAMA3, low_freq_factor=2.0, high_freq_factor=8.0)):
        cfg = tf.LlamaConfig(hidden_size=256, num_attention_heads=2, rope_theta=500000.0,
                             max_position_embeddings=131072, rope_scaling=dict(params))
        want, scaling = ROPE_INIT_FUNCTIONS["llama3"](cfg)
        assert scaling == 1.0
        a = LlamaArch(128, 256, 128, 1, 2, 2, 128, rope_theta=500000.0,
                      rope_scaling=params)
        got = torch.tensor(rope_inv_freq(128, 500000.0, a.rope_scaling), dtype=torch.float64)
        assert float(((got - want.double()) / got).abs().max()) < 1e-6
        ratio = got / torch.tensor(rope_inv_freq(128, 500000.0), dtype=torch.float64)
        # all three bands present: unchanged, interpolated, divided by factor
        f = params["factor"]
        keep, divide = (ratio - 1).abs() < 1e-12, (ratio * f - 1).abs() < 1e-12
        assert bool(keep.any()) and bool(divide.any()) and not bool((keep | divide).all())


def test_tied_checkpoint_with_lm_head_present(saved, tmp_path):
    """A tied checkpoint that also stores lm_head.weight (equal) loads; unequal refuses."""
    from safetensors.torch import load_file, save_file
    _, models = saved
    src = models["llama3-tied"][0]
    w = load_file(str(src / "model.safetensors"))
    assert "lm_head.weight" not in w  # transformers does not save the tied copy
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text((src / "config.json").read_text())
    w["lm_head.weight"] = w["model.embed_tokens.weight"].clone()
    save_file(w, str(d / "model.safetensors"))
    ck = load_model(d)
    assert "lm_head.weight" not in ck.weights
    assert torch.equal(ck.lm_head, w["model.embed_tokens.weight"])
    w["lm_head.weight"][0, 0] += 1
    save_file(w, str(d / "model.safetensors"))
    _refused(lambda: load_model(d), "lm_head.weight differs from model.embed_tokens")


# -- the arch carries the RoPE variant: statement, JSON and save_model round trips ----------


def test_rope_variant_round_trips(saved, tf, tmp_path):
    _, models = saved
    for variant in ("llama3-tied", "linear"):
        ck = load_model(models[variant][0])
        a = ck.arch
        # JSON (the statement's arch) and the forward spec's public form
        assert LlamaArch(**json.loads(json.dumps(attrs.asdict(a)))) == a
        spec = llama.ForwardSpec(a, None, QuantConfig(), 1, 8)
        pub = json.loads(json.dumps(spec.to_public()))
        assert llama.ForwardSpec.from_public(pub) == spec
        # the statement determines the tables: another variant, other public tables
        g1 = llama.build_graph(spec, 0)
        g0 = llama.build_graph(attrs.evolve(spec, arch=attrs.evolve(a, rope_scaling=None)), 0)
        assert not torch.equal(torch.as_tensor(g1.publics["rope.cos"]),
                               torch.as_tensor(g0.publics["rope.cos"]))
        # save_model → transformers reads the same RoPE, and we read it back
        d = tmp_path / variant
        save_model(d, a, ck.weights)
        assert load_model(d).arch == a
        m = tf.LlamaForCausalLM.from_pretrained(str(d))
        assert m.config.rope_parameters["rope_type"] == a.rope_type
        assert m.config.rope_parameters["rope_theta"] == a.rope_theta
        assert torch.allclose(m.model.rotary_emb.inv_freq,
                              models[variant][2].model.rotary_emb.inv_freq)
    # v4-style configs: rope_scaling with "type", rope_theta at the top level
    d = json.loads((models["linear"][0] / "config.json").read_text())
    d.pop("rope_parameters")
    d.update(rope_scaling={"type": "linear", "factor": 4}, rope_theta=10000)
    v4 = LlamaArch.from_hf_config(d)
    assert v4 == load_model(models["linear"][0]).arch
    assert v4.rope_scaling == (("rope_type", "linear"), ("factor", 4.0))


@pytest.mark.parametrize("variant", ["llama3-tied", "head_dim", "mistral"])
def test_forward_proof(saved, tmp_path, variant):
    """``commit-model`` + ``prove --task forward --model DIR`` + ``verify`` through the
    Python API; the statement's loss is transformers' loss."""
    import zklora
    ids, models = saved
    d, want, _ = models[variant]
    data = tmp_path / "batch.jsonl"
    data.write_text("".join(json.dumps({"input_ids": r.tolist()}) + "\n" for r in ids))
    mc = str(tmp_path / "m.commit")
    zklora.commit_model(str(d), task="forward", out=mc)
    res = zklora.prove(task="forward", model=str(d), data=str(data), model_commitment=mc,
                       out=str(tmp_path / "f.zkp"))
    assert zklora.verify(str(tmp_path / "f.zkp"), model_commitment=mc).ok
    assert res.losses[0] == pytest.approx(float(want.loss), rel=1e-3)
    arch = zklora.inspect(str(tmp_path / "f.zkp")).statement["params"]["arch"]
    if variant == "head_dim":
        assert (arch["head_dim"], arch["hidden_size"], arch["num_heads"]) == (32, 64, 4)
    if variant != "llama3-tied":
        return
    assert arch["rope_scaling"][0] == ["rope_type", "llama3"]
    assert arch["rope_theta"] == 500000.0 and arch["tie_word_embeddings"] is True
    # a verifier insisting on default RoPE rejects this proof
    with pytest.raises(VerificationError, match="rope_scaling"):
        zklora.verify(str(tmp_path / "f.zkp"),
                      expect={"params": {"arch": {"rope_scaling": [["rope_type", "default"]]}}})


@pytest.mark.slow  # ~20 s
def test_train_proof_of_llama3_tied_model(tf, tmp_path):
    """One proven LoRA training step (``prove --task train``) on a llama3-RoPE, tied model:
    the training graph builds its RoPE tables (forward and backward) from the arch too."""
    import zklora
    from zklora.plugins.models import reference
    from zklora.plugins.models.tiny import tiny_adapter
    model = build(tf, tmp_path / "m", "llama3-tied")
    with torch.no_grad():  # smaller logits than `_init`'s, for the default gradient ranges
        model.model.embed_tokens.weight.mul_(0.4)
    model.save_pretrained(str(tmp_path / "m"))
    ck = load_model(tmp_path / "m")
    ad = tiny_adapter(ck.arch)
    hf.save_adapter(tmp_path / "ad", ad)
    ids = torch.randint(0, 128, (2, SEQ), generator=torch.Generator().manual_seed(4))
    data = tmp_path / "batch.jsonl"
    data.write_text("".join(json.dumps({"input_ids": r.tolist()}) + "\n" for r in ids))
    res = zklora.prove(task="train", model=str(tmp_path / "m"), adapter=str(tmp_path / "ad"),
                       data=str(data), steps=1, out=str(tmp_path / "t.zkp"))
    assert zklora.verify(str(tmp_path / "t.zkp")).ok
    st = zklora.inspect(str(tmp_path / "t.zkp")).statement
    assert json.dumps(st).count('"llama3"') >= 1
    want = reference.reference_forward(ck, ad, ids).loss
    assert res.losses[0] == pytest.approx(want, rel=1e-3)


#: the shape-relevant keys of published config.json files (transformers 4 layout)
PUBLISHED = {
    "Llama-3.2-1B": dict(
        architectures=["LlamaForCausalLM"], attention_bias=False, head_dim=64,
        hidden_act="silu", hidden_size=2048, intermediate_size=8192,
        max_position_embeddings=131072, mlp_bias=False, model_type="llama",
        num_attention_heads=32, num_hidden_layers=16, num_key_value_heads=8,
        pretraining_tp=1, rms_norm_eps=1e-05, rope_theta=500000.0,
        rope_scaling={"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                      "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        tie_word_embeddings=True, torch_dtype="bfloat16", vocab_size=128256),
    "SmolLM-135M": dict(
        architectures=["LlamaForCausalLM"], attention_bias=False, hidden_act="silu",
        hidden_size=576, intermediate_size=1536, max_position_embeddings=2048,
        model_type="llama", num_attention_heads=9, num_hidden_layers=30,
        num_key_value_heads=3, pretraining_tp=1, rms_norm_eps=1e-05, rope_scaling=None,
        rope_theta=10000.0, tie_word_embeddings=True, vocab_size=49152),
    "Llama-2-7b": dict(
        architectures=["LlamaForCausalLM"], hidden_act="silu", hidden_size=4096,
        intermediate_size=11008, max_position_embeddings=4096, model_type="llama",
        num_attention_heads=32, num_hidden_layers=32, num_key_value_heads=32,
        pretraining_tp=1, rms_norm_eps=1e-05, rope_scaling=None,
        tie_word_embeddings=False, vocab_size=32000),
    "vicuna-16k (linear)": dict(
        architectures=["LlamaForCausalLM"], hidden_act="silu", hidden_size=4096,
        intermediate_size=11008, max_position_embeddings=4096, model_type="llama",
        num_attention_heads=32, num_hidden_layers=32, num_key_value_heads=32,
        rms_norm_eps=1e-05, rope_scaling={"factor": 4.0, "type": "linear"},
        vocab_size=32000),
    "Mistral-7B-v0.3": dict(
        architectures=["MistralForCausalLM"], hidden_act="silu", hidden_size=4096,
        intermediate_size=14336, max_position_embeddings=32768, model_type="mistral",
        num_attention_heads=32, num_hidden_layers=32, num_key_value_heads=8,
        rms_norm_eps=1e-05, rope_theta=1000000.0, sliding_window=None,
        tie_word_embeddings=False, vocab_size=32768),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_configs_read_as_transformers_reads_them(tf, name):
    """Real checkpoints' config.json: our arch and RoPE frequencies against transformers'
    own reading of the same file (no weights needed)."""
    d = copy.deepcopy(PUBLISHED[name])
    a = LlamaArch.from_hf_config(copy.deepcopy(d), f"{name}/config.json")
    cls = tf.MistralConfig if d["architectures"] == ["MistralForCausalLM"] else tf.LlamaConfig
    cfg = cls.from_dict(d)
    assert (a.vocab_size, a.hidden_size, a.intermediate_size, a.num_layers) == \
        (cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers)
    assert (a.num_heads, a.num_kv_heads, a.max_position_embeddings) == \
        (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.max_position_embeddings)
    assert a.head_dim == (getattr(cfg, "head_dim", None)
                          or cfg.hidden_size // cfg.num_attention_heads)
    assert a.tie_word_embeddings == cfg.tie_word_embeddings
    assert a.rope_theta == cfg.rope_parameters["rope_theta"]
    assert a.rope_type == cfg.rope_parameters["rope_type"]
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    want = LlamaRotaryEmbedding(cfg).inv_freq.double()
    got = torch.tensor(rope_inv_freq(a.head_dim, a.rope_theta, a.rope_scaling),
                       dtype=torch.float64)
    assert float(((got - want) / got).abs().max()) < 1e-6
    # and the statement's form of it round-trips
    assert LlamaArch(**json.loads(json.dumps(attrs.asdict(a)))) == a


def test_published_mistral_with_sliding_window_refused():
    d = dict(PUBLISHED["Mistral-7B-v0.3"], rope_theta=10000.0, sliding_window=4096,
             vocab_size=32000)  # Mistral-7B-v0.1
    _refused(lambda: LlamaArch.from_hf_config(d, "Mistral-7B-v0.1/config.json"),
             r"Mistral-7B-v0\.1/config\.json: sliding_window 4096 < max_position_embeddings "
             r"32768")


# -- refused variants: one-line ConfigErrors naming the file and key ---------------------------


def _refused(fn, match: str) -> str:
    with pytest.raises(ConfigError, match=match) as e:
        fn()
    msg = str(e.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


@pytest.mark.parametrize("key", ["attention_bias", "mlp_bias"])
def test_bias_checkpoint_refused(tf, tmp_path, key):
    build(tf, tmp_path / "m", **{key: True})
    msg = _refused(lambda: load_model(tmp_path / "m"), f"{key}=true is unsupported")
    assert "config.json" in msg


def test_mistral_sliding_window(tf, tmp_path):
    # transformers' MistralConfig default: sliding_window 4096 < max_position_embeddings
    build(tf, tmp_path / "sw", mistral=True, max_position_embeddings=131072,
          sliding_window=4096)
    msg = _refused(lambda: load_model(tmp_path / "sw"),
                   "sliding_window 4096 < max_position_embeddings 131072")
    assert "config.json" in msg and "sliding-window attention is unsupported" in msg
    # a window that covers every position is no window
    d = json.loads((tmp_path / "sw" / "config.json").read_text())
    assert LlamaArch.from_hf_config(dict(d, sliding_window=131072)).max_position_embeddings \
        == 131072
    assert LlamaArch.from_hf_config(dict(d, sliding_window=None)).num_kv_heads == 2


def _cfg(saved, variant="linear", **changes):
    _, models = saved
    d = json.loads((models[variant][0] / "config.json").read_text())
    d.update(changes)
    return d


@pytest.mark.parametrize("rope, match", [
    ({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64},
     "RoPE type 'yarn' unsupported"),
    ({"rope_type": "dynamic", "factor": 2.0}, "RoPE type 'dynamic' unsupported"),
    ({"rope_type": "longrope", "short_factor": [1.0]}, "RoPE type 'longrope' unsupported"),
    ({"type": "su"}, "RoPE type 'su' unsupported"),
    ({"rope_type": "llama3", "factor": 8.0}, "llama3' needs 'low_freq_factor'"),
    ({"rope_type": "linear", "factor": 2.0, "beta_fast": 3}, "not 'beta_fast'"),
    ({"rope_type": "linear", "factor": -2.0}, "factor must be ≥ 1"),
    ({"rope_type": "linear", "factor": 0.5}, "factor must be ≥ 1"),
    (dict(LLAMA3, low_freq_factor=0), "low_freq_factor must be positive"),
    (dict(LLAMA3, original_max_position_embeddings=10 ** 400), "must be an integer in"),
    ({"rope_type": ["llama3"]}, "RoPE type \\['llama3'\\] unsupported"),
    ({"rope_type": "linear", "factor": "x"}, "factor must be a finite number"),
    (dict(LLAMA3, high_freq_factor=1.0), "high_freq_factor > low_freq_factor"),
    (dict(LLAMA3, original_max_position_embeddings=1.5), "must be an integer in"),
    ({"rope_type": "default", "partial_rotary_factor": 0.5}, "partial_rotary_factor"),
    ("linear", "rope_scaling must be an object"),
])
def test_rope_refused(saved, rope, match):
    d = _cfg(saved)
    d.pop("rope_parameters")
    msg = _refused(lambda: LlamaArch.from_hf_config(dict(d, rope_scaling=rope),
                                                    "m/config.json"), match)
    assert msg.startswith("m/config.json: ")


def test_other_config_refusals(saved, tmp_path):
    for changes, match in (
            ({"rope_theta": -1.0, "rope_parameters": {"rope_type": "default"}},
             "rope_theta must be a finite number > 1"),
            ({"architectures": ["Qwen2ForCausalLM"]}, "unsupported architecture Qwen2"),
            ({"architectures": ["LlamaForCausalLM", "MistralForCausalLM"]},
             "unsupported architecture"),
            ({"hidden_act": "gelu"}, "hidden_act 'gelu'"),
            ({"partial_rotary_factor": 0.5}, "partial_rotary_factor"),
            ({"rope_parameters": dict(LLAMA3, rope_theta=5e5),
              "original_max_position_embeddings": 4096}, "differs from rope_scaling")):
        _refused(lambda c=changes: LlamaArch.from_hf_config(_cfg(saved, **c)), match)
    # the statement side: a bad rope_scaling in a forward spec's public form
    pub = llama.ForwardSpec(load_model(saved[1]["linear"][0]).arch, None, QuantConfig(),
                            1, 8).to_public()
    pub["arch"]["rope_scaling"] = [["rope_type", "yarn"]]
    _refused(lambda: llama.ForwardSpec.from_public(pub), "RoPE type 'yarn' unsupported")
    pub["arch"]["rope_scaling"] = 3
    _refused(lambda: llama.ForwardSpec.from_public(pub), "rope_scaling must be an object")


def test_transformers_consistency_of_defaults():
    """Defaults the loader assumes when keys are absent (transformers' config defaults)."""
    a = LlamaArch.from_hf_config({
        "architectures": ["MistralForCausalLM"], "vocab_size": 128, "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
        "sliding_window": None})
    assert a.max_position_embeddings == 131072 and a.rope_type == "default"
    assert a.rope_theta == 10000.0 and a.head_dim == 16 and a.num_kv_heads == 4
    assert math.isclose(a.rms_norm_eps, 1e-6)
