"""RoPE op: tables and integer forward against transformers' LLaMA RoPE in float,
completeness (forward and transpose) on both fields, and soundness."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.rope import rope_output_bound, rope_tables, rotate_half
from zklora.zkcore.errors import ProverError, VerificationError, ZkLoraError
from zklora.zkcore.graph import Graph, forward, prove, verify
from zklora.zkcore.quant import Bound, from_fixed, to_fixed

from .test_elementwise_ops import (
    FIELDS,
    STATEMENT,
    assert_tamper_rejected,
    backend,
    prove_verify,
    rand,
)


@pytest.fixture(scope="module")
def llama_rope():
    """transformers' rotary embedding class and apply_rotary_pos_emb (slow import, once)."""
    ml = pytest.importorskip("transformers.models.llama.modeling_llama")
    from transformers import LlamaConfig
    return ml, LlamaConfig


def rope_graph(xshape, theta=10000.0, scale=16, transpose=False, xkind="committed") -> Graph:
    seq, d = xshape[-2:]
    cos, sin = rope_tables(seq, d, theta, scale)
    g = Graph()
    g.tensor("X", xshape, xkind)
    g.tensor("cos", (seq, d), "public", value=cos)
    g.tensor("sin", (seq, d), "public", value=sin)
    g.tensor("Y", xshape, "committed")
    g.op("rope", "rope", ["X", "cos", "sin"], ["Y"], transpose=transpose)
    g.outputs = ["Y"]
    return g


def test_rotate_half_convention():
    x = torch.arange(8).reshape(1, 8)
    assert rotate_half(x).tolist() == [[-4, -5, -6, -7, 0, 1, 2, 3]]


def test_tables_and_forward_match_transformers(llama_rope):
    ml, LlamaConfig = llama_rope
    b, h, seq, d, s = 2, 4, 32, 16, 16
    cfg = LlamaConfig(hidden_size=h * d, num_attention_heads=h, rope_theta=10000.0,
                      max_position_embeddings=64)
    emb = ml.LlamaRotaryEmbedding(cfg)
    xf = torch.randn(b, h, seq, d, generator=torch.Generator().manual_seed(0))
    pos = torch.arange(seq)[None]
    cos_f, sin_f = emb(xf, pos)
    cos_i, sin_i = rope_tables(seq, d, 10000.0, s)
    # the tables agree with transformers' float32 tables to the fixed-point resolution
    assert float((from_fixed(cos_i, s) - cos_f[0].double()).abs().max()) < 2 ** -s
    assert float((from_fixed(sin_i, s) - sin_f[0].double()).abs().max()) < 2 ** -s
    want, _ = ml.apply_rotary_pos_emb(xf, xf, cos_f, sin_f)
    g = rope_graph((b, h, seq, d), scale=s)
    x = to_fixed(xf, s)
    y = forward(g, {"X": x}, backend("goldilocks").registry)["Y"]
    err = float((from_fixed(y, 2 * s) - want.double()).abs().max())
    assert err < 4 * 2 ** -s, err
    # the transpose is the backward: <rope(x), g> = <x, ropeᵀ(g)> exactly in integers
    gt = rope_graph((b, h, seq, d), scale=s, transpose=True)
    gy = rand((b, h, seq, d), seed=5)
    xt = forward(gt, {"X": gy}, backend("goldilocks").registry)["Y"]
    assert int((y * gy).sum()) == int((x * xt).sum())


@pytest.mark.parametrize("fname", FIELDS)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("xshape", [(2, 2, 4, 8), (4, 2), (1, 2, 8, 4)], ids=str)
def test_rope_complete(fname, transpose, xshape):
    if fname != "goldilocks" and len(xshape) == 4 and xshape[0] == 2:
        xshape = (2, 1, 2, 4)  # keep the Python-int field fast
    g = rope_graph(xshape, transpose=transpose)
    prove_verify(g, {"X": to_fixed(torch.randn(xshape), 16)}, backend(fname))


def test_rope_complete_larger():
    g = rope_graph((4, 4, 32, 16))
    prove_verify(g, {"X": to_fixed(torch.randn(4, 4, 32, 16), 16)}, backend("goldilocks"))


@pytest.mark.parametrize("fname", FIELDS)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("tensor", ["X", "Y"])
def test_rope_tamper_witness(fname, transpose, tensor):
    g = rope_graph((2, 1, 4, 4), transpose=transpose)
    inputs = {"X": rand((2, 1, 4, 4), seed=3)}
    for index in (0, 7, 30):  # includes both halves of the last axis
        assert_tamper_rejected(g, inputs, backend(fname), tensor, index)


def test_rope_tamper_proof_statement_and_tables():
    g = rope_graph((2, 2, 8, 8))
    inputs = {"X": rand((2, 2, 8, 8), seed=3)}
    be = backend("goldilocks")
    proof, sec = prove_verify(g, inputs, be)
    start, end = next((s, e) for name, s, e in sec if name.startswith("op:rope"))
    for pos in range(start, end, max(1, (end - start) // 9)):
        bad = bytearray(proof)
        bad[pos] ^= 0x10
        with pytest.raises(ZkLoraError):
            verify(g, bytes(bad), be, STATEMENT, sec)
    with pytest.raises(VerificationError):
        verify(g, proof, be, {"test": "other"}, sec)
    # a verifier with other tables (another θ) rejects
    with pytest.raises(VerificationError):
        verify(rope_graph((2, 2, 8, 8), theta=500000.0), proof, be, STATEMENT, sec)
    # a wrong forward (the transpose used where the forward is claimed) is rejected
    values = forward(rope_graph((2, 2, 8, 8), transpose=True), inputs, be.registry)
    from .test_elementwise_ops import lenient_prover
    with lenient_prover(be):
        proof, sec = prove(g, inputs, be, STATEMENT, values=values)
    with pytest.raises(VerificationError):
        verify(g, proof, be, STATEMENT, sec)


def test_rope_bad_layout_and_bounds():
    g = Graph()
    cos, sin = rope_tables(4, 8, 10000.0, 16)
    g.tensor("X", (2, 8, 4), "committed")
    g.tensor("cos", (4, 8), "public", value=cos)
    g.tensor("sin", (4, 8), "public", value=sin)
    g.tensor("Y", (2, 8, 4), "committed")
    g.op("rope", "r", ["X", "cos", "sin"], ["Y"])
    g.outputs = ["Y"]
    with pytest.raises(ZkLoraError):
        prove(g, {"X": rand((2, 8, 4))}, backend("goldilocks"), STATEMENT)
    with pytest.raises(ValueError, match="even"):
        rope_tables(4, 3, 10000.0, 16)
    b = rope_output_bound(Bound.symmetric(1 << 20), 16)
    assert b.hi == 1 << 37
    big = torch.full((1, 4, 8), 1 << 50)
    with pytest.raises(ProverError, match="safe range"):
        forward(rope_graph((1, 4, 8)), {"X": big}, backend("goldilocks").registry)
