"""The llama builder's own pieces: LoRA linear, head transposes, RoPE + rescale, residual
structure, label shifting; and the model plugin's parameter handling and bad inputs.

The whole-model proof needs the RMSNorm / SwiGLU / attention / cross-entropy ops; its
tests are in tests/test_accuracy.py and tests/bench/test_bench_forward.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zklora.plugins.models import llama
from zklora.plugins.models.hf import LlamaArch, LoraSpec
from zklora.plugins.models.tiny import tiny_adapter, tiny_weights
from zklora.plugins.ops.layout import add_shift_labels
from zklora.zkcore import graph as graphlib
from zklora.zkcore.build import builder
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.quant import Bound, QuantConfig, from_fixed, to_fixed
from zklora.zkcore.testing.tamper import assert_rejected, bump

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

S = 16



# -- LoRA linear ---------------------------------------------------------------------------

N, DIN, DOUT, R = 8, 16, 8, 4


def lora_graph(scaling):
    g = Graph()
    g.tensor("X", (N, DIN), "committed")
    g.tensor("W", (DIN, DOUT), "committed")
    g.tensor("A", (DIN, R), "committed")
    g.tensor("B", (R, DOUT), "committed")
    y = llama.add_lora_linear(g, "lin", "X", "W", "A", "B", scaling=scaling, weight_scale=S,
                              bound=Bound.bits(S + 8), stored_out_in=False)
    g.outputs = [y]
    return g, y


def lora_float(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"X": torch.randn(N, DIN, generator=gen, dtype=torch.float64),
            "W": torch.randn(DIN, DOUT, generator=gen, dtype=torch.float64) / 4,
            "A": torch.randn(DIN, R, generator=gen, dtype=torch.float64) / 4,
            "B": torch.randn(R, DOUT, generator=gen, dtype=torch.float64) / 4}


def lora_wit(seed=0):
    return {k: to_fixed(v, S) for k, v in lora_float(seed).items()}


@pytest.mark.parametrize("scaling", [2.0, 0.75, 8 / math.sqrt(3)])
def test_lora_linear_accuracy(reg, scaling):
    g, y = lora_graph(scaling)
    vals = graphlib.forward(g, lora_wit(), reg)
    f = lora_float()
    ref = f["X"] @ f["W"] + scaling * (f["X"] @ f["A"]) @ f["B"]
    got = from_fixed(vals[y], S)
    err = float((got - ref).abs().max())
    assert err < 1e-3, err
    assert llama.scaling_fixed(2.0) == (2, 0) and llama.scaling_fixed(0.75) == (3, 2)


def test_lora_linear_never_materialises_dxd():
    g, _ = lora_graph(2.0)
    sizes = [s.size for s in g.tensors.values()]
    assert max(sizes) <= max(N * DIN, DIN * DOUT)
    assert not any(s.shape == (DIN, DOUT) and s.kind == "virtual" for s in g.tensors.values())


def test_lora_linear_complete(be):
    g, _ = lora_graph(0.75)
    stream, sections = graphlib.prove(g, lora_wit(), be, {})
    graphlib.verify(g, stream, be, {}, sections)


@pytest.mark.parametrize("name", ["lin/xa_s/Y", "lin/xa_s/R", "lin/out/Y", "lin/out/R", "A", "B"])
def test_lora_linear_tampered(be, name):
    g, _ = lora_graph(0.75)
    msg = assert_rejected(g, lora_wit(), be, {}, bump(name, 3))
    assert msg != "prover could not produce a proof", msg


def test_lora_linear_without_adapter(reg):
    g = Graph()
    g.tensor("X", (N, DIN), "committed")
    g.tensor("W", (DIN, DOUT), "committed")
    y = llama.add_lora_linear(g, "lin", "X", "W", weight_scale=S, bound=Bound.bits(S + 8),
                              stored_out_in=False)
    w = lora_wit()
    vals = graphlib.forward(g, {"X": w["X"], "W": w["W"]}, reg)
    assert [n.op for n in g.nodes] == ["matmul", "rescale"]
    f = lora_float()
    assert float((from_fixed(vals[y], S) - f["X"] @ f["W"]).abs().max()) < 1e-3


# -- attention inputs: embedding → q/k/v projections → heads → RoPE; o-proj + residual ----

SMALL = LlamaArch(vocab_size=16, hidden_size=16, intermediate_size=32, num_layers=1,
                  num_heads=2, num_kv_heads=1, head_dim=8, max_position_embeddings=64)


def small_spec(lora=True):
    return llama.ForwardSpec(SMALL, LoraSpec(r=2, alpha=4.0, targets=("q", "v", "o"))
                             if lora else None, QuantConfig(), batch=2, seq=4)


def attn_path_graph(spec):
    """Everything of a layer but norms/attention/MLP: o = concat-heads(rope(q)) plays the
    attention output, so the residual structure and both transposes are exercised."""
    b = llama._Builder(spec)
    b.inputs()
    h = builder("embedding")(b.g, "embed/lookup", "ids", "embed", bound=b.act.as_tuple())
    q, k, v = b.attention_inputs(0, h)
    o = b.linear("l0.o", b.merge_heads("l0.attn/merge", q), 0, "o")
    res = b.residual("l0.res1", h, o)
    out = b.g.tensor("out", b.g.tensors[res].shape, "committed")
    b.g.op("scale", "out", [res], [out], c=1)
    b.g.outputs = [out, k, "l0.v/out/Y"]
    b.g.discard(v)  # v's head split is unused here (the graph check refuses unreached ops)
    used = {t for n in b.g.nodes for t in n.inputs}
    for name in [n for n in b.g.tensors if n not in used and b.g.producer(n) is None]:
        del b.g.tensors[name]
        b.g.publics.pop(name, None)
    return b.g, q, k


def small_inputs(spec, seed=0):
    ck = tiny_weights(SMALL, seed=seed)
    ad = tiny_adapter(SMALL, spec.lora, seed=seed + 1) if spec.lora else None
    ids = llama.random_batch(SMALL.vocab_size, spec.batch, spec.seq, seed)
    return ck, ad, ids, llama.quantize_inputs(spec, ck, ad, ids)


def float_attn_path(spec, ck, ad, ids):
    """The same path in float64, transformers' conventions (apply_rotary_pos_emb)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    a = spec.arch
    h = ck.weights["model.embed_tokens.weight"].double()[ids]           # (B, T, d)

    def lin(x, t):
        y = x @ ck.linear(0, t).double().T
        if spec.lora and t in spec.lora.targets:
            p = ad.pairs[(0, t)]
            y = y + spec.lora.scaling * (x @ p.A.double().T) @ p.B.double().T
        return y

    B, T = ids.shape
    q = lin(h, "q").view(B, T, a.num_heads, a.head_dim).transpose(1, 2)
    k = lin(h, "k").view(B, T, a.num_kv_heads, a.head_dim).transpose(1, 2)
    inv = 1.0 / (a.rope_theta ** (torch.arange(0, a.head_dim, 2, dtype=torch.float64)
                                  / a.head_dim))
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat((ang, ang), -1)
    q, k = apply_rotary_pos_emb(q, k, emb.cos()[None], emb.sin()[None])
    o = lin(q.transpose(1, 2).reshape(B, T, -1), "o")
    return q, k, h + o


def test_attention_path_accuracy(reg):
    spec = small_spec()
    ck, ad, ids, inputs = small_inputs(spec)
    g, q, k = attn_path_graph(spec)
    vals = graphlib.forward(g, {n: v for n, v in inputs.items() if n in g.tensors}, reg)
    fq, fk, fres = float_attn_path(spec, ck, ad, ids)
    for got, ref in ((vals[q], fq), (vals[k], fk), (vals["out"], fres.reshape(-1, 16))):
        got = from_fixed(got, S).reshape(ref.shape)
        rel = float((got - ref).norm() / ref.norm())
        assert rel < 1e-4, rel


def test_attention_path_complete_and_tampered(be):
    spec = small_spec()
    _, _, _, inputs = small_inputs(spec)
    g, q, k = attn_path_graph(spec)
    w = {n: v for n, v in inputs.items() if n in g.tensors}
    stream, sections = graphlib.prove(g, w, be, {})
    graphlib.verify(g, stream, be, {}, sections)
    bad = bytearray(stream)
    bad[len(bad) // 3] ^= 1
    with pytest.raises((VerificationError, ProofFormatError)):
        graphlib.verify(g, bytes(bad), be, {}, sections)
    if be.field.name != "goldilocks":
        return  # the tamper loop once is enough (slow under BLS); completeness ran above
    for name in (q, "l0.q/out/Y", "l0.o/out/R", "l0.v/xa_s/Y", "embed/lookup/onehot"):
        msg = assert_rejected(g, w, be, {}, bump(name, 5))
        assert msg != "prover could not produce a proof", (name, msg)


# -- label shifting ---------------------------------------------------------------------------


def shift_graph():
    g = Graph()
    g.tensor("ids", (8,), "committed", (0, 15))
    add_shift_labels(g, "lab", "ids", 4)
    g.outputs = ["lab/labels"]
    return g


def test_shift_labels_forward(reg):
    ids = torch.arange(8) + 3
    vals = graphlib.forward(shift_graph(), {"ids": ids}, reg)
    assert vals["lab/labels"].tolist() == [4, 5, 6, -100, 8, 9, 10, -100]


@pytest.mark.parametrize("name,idx", [("lab/labels", 1), ("lab/labels", 3), ("ids", 2)])
def test_shift_labels_tampered(be, name, idx):
    ids = torch.arange(8) + 3
    g = shift_graph()
    stream, sections = graphlib.prove(g, {"ids": ids}, be, {})
    graphlib.verify(g, stream, be, {}, sections)
    msg = assert_rejected(g, {"ids": ids}, be, {}, bump(name, idx))
    assert msg != "prover could not produce a proof", msg


# -- the model plugin: parameters and bad inputs ----------------------------------------------


def test_spec_roundtrip_and_validation():
    spec = small_spec()
    pub = spec.to_public()
    assert llama.ForwardSpec.from_public(pub) == spec
    # vocab 100 is padded (tests/test_padding.py); head_dim 12 and seq 3 are refused
    llama.ForwardSpec(LlamaArch(vocab_size=100, hidden_size=16, intermediate_size=32,
                                num_layers=1, num_heads=2, num_kv_heads=1, head_dim=8),
                      None, QuantConfig(), 2, 4)
    with pytest.raises(ConfigError, match="head_dim 12 is not a power of two"):
        llama.ForwardSpec(LlamaArch(vocab_size=100, hidden_size=24, intermediate_size=32,
                                    num_layers=1, num_heads=2, num_kv_heads=1, head_dim=12),
                          None, QuantConfig(), 2, 4)
    with pytest.raises(ConfigError, match="seq = 3 must be a power of two"):
        llama.ForwardSpec(LlamaArch(vocab_size=100, hidden_size=16, intermediate_size=32,
                                    num_layers=1, num_heads=2, num_kv_heads=1, head_dim=8),
                          None, QuantConfig(), 2, 3)
    bad = dict(pub, arch=dict(pub["arch"], extra=1))
    with pytest.raises(ConfigError, match="arch"):
        llama.ForwardSpec.from_public(bad)


def test_bad_inputs(tmp_path):
    spec = small_spec()
    ck, ad, ids, _ = small_inputs(spec)
    ids2 = ids.clone()
    ids2[1, 2] = SMALL.vocab_size
    with pytest.raises(ConfigError, match=r"token id 16 at \(row 1, position 2\)"):
        llama.quantize_inputs(spec, ck, ad, ids2)
    with pytest.raises(ConfigError, match="batch has shape"):
        llama.quantize_inputs(spec, ck, ad, ids[:1])
    (tmp_path / "bad.jsonl").write_text('{"input_ids": [1, 2]}\n{"input_ids": [1, 2, 3]}\n')
    ragged = llama.load_batch(tmp_path / "bad.jsonl")   # right-padded (tests/test_data.py)
    assert ragged.shape == (2, 4) and ragged.labels[0].tolist() == [1, 2, -100, -100]
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ConfigError, match="no input_ids"):
        llama.load_batch(tmp_path / "empty.jsonl")
    np.save(tmp_path / "f.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(ConfigError, match="integer array"):
        llama.load_batch(tmp_path / "f.npy")
    np.save(tmp_path / "ok.npy", np.ones((2, 4), np.int32))
    assert llama.load_batch(tmp_path / "ok.npy").shape == (2, 4)


def test_unsupported_architecture_and_shapes(tmp_path):
    import json

    from zklora.plugins.models.hf import save_model
    ck = tiny_weights(SMALL)
    save_model(tmp_path / "m", SMALL, ck.weights)
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["architectures"] = ["GPT2LMHeadModel"]  # (Mistral without sliding window is a LLaMA)
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="unsupported architecture GPT2LMHeadModel"):
        llama.Llama().public_params({"model": str(tmp_path / "m")})
    cfg["architectures"] = ["LlamaForCausalLM"]
    cfg["hidden_size"] = 32
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="has shape"):
        llama.Llama().public_params({"model": str(tmp_path / "m")})
    with pytest.raises(ConfigError, match="unknown key"):
        llama.Llama().public_params({"modle": "tiny"})


# -- whole model, end to end (slow: the full tiny model) --------------------------------------


@pytest.mark.slow
def test_cli_forward_prove_verify(tmp_path):
    """`zklora prove --task forward` / `zklora verify` on the tiny model, small batch,
    debug profile; a changed public loss in the statement is rejected."""
    from click.testing import CliRunner

    from zklora.zkcore.cli import main
    cfg = tmp_path / "f.toml"
    cfg.write_text('profile = "debug"\n[task]\nmodel = "llama"\n[model]\nbatch = 1\nseq = 8\n')
    data = tmp_path / "d.jsonl"
    data.write_text('{"input_ids": [1, 2, 3, 4, 5, 6, 7, 8]}\n')
    out = tmp_path / "f.zkp"
    run = CliRunner().invoke
    r = run(main, ["prove", "--task", "forward", "--config", str(cfg), "--data", str(data),
                   "--out", str(out), "--quiet"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "loss = " in r.output
    r = run(main, ["verify", str(out)], catch_exceptions=False)
    assert r.exit_code == 0 and "OK" in r.output, r.output
    raw = out.read_bytes()
    import re
    m = re.search(rb'"loss":(\d+)', raw)
    bad = raw.replace(m.group(0), b'"loss":' + str(int(m.group(1)) + 1).encode())
    (tmp_path / "bad.zkp").write_bytes(bad)
    r = run(main, ["verify", str(tmp_path / "bad.zkp")], catch_exceptions=False)
    assert r.exit_code != 0 and "REJECTED" in r.output
    bad_ids = tmp_path / "bad.jsonl"
    bad_ids.write_text('{"input_ids": [1, 2, 3, 4, 5, 6, 7, 300]}\n')
    r = run(main, ["prove", "--task", "forward", "--config", str(cfg), "--data", str(bad_ids),
                   "--out", str(tmp_path / "x.zkp"), "--quiet"], catch_exceptions=False)
    assert r.exit_code != 0 and "token id 300" in r.output
    assert not (tmp_path / "x.zkp").exists()
