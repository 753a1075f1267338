"""Sound defaults at real widths (issue 11): with the default `QuantConfig`, act_bits and
train settings, the bound analysis — every op's `Op.check`/plan at graph-build time and
the graph's static range checks, exactly what prover and verifier run before any
witness exists — passes for the shapes of Llama-2-7B and Llama-3-8B at seq 4096.

Graph construction only: no weight, activation or witness is materialised (the graphs
hold shapes and bounds), so these run in seconds.  An error raised by another op's own
bound analysis is reported as an expected failure naming it (see the module constants)
as long as that op's fix has not landed; an RMSNorm error is always a failure.
"""

from __future__ import annotations

import math

import pytest

from zklora.plugins.models.hf import TARGETS, LlamaArch, LoraSpec
from zklora.plugins.models.llama import ForwardSpec, build_graph
from zklora.plugins.models.llama_train import TrainSpec, build_train_graph
from zklora.plugins.ops.rmsnorm import PRODUCT_LIMIT, add_rmsnorm, plan_of
from zklora.plugins.ops.rmsnorm_backward import add_rmsnorm_backward
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph, static_range_checks
from zklora.zkcore.plugins import registry
from zklora.zkcore.quant import Bound, QuantConfig

SEQ = 4096
#: (hidden, FFN, heads, KV heads, vocab) — the real shapes, and the power-of-two
#: envelope used while a shape is refused as not a power of two (padding not wired)
SHAPES = {
    "llama2-7b": (4096, 11008, 32, 32, 32000),
    "llama3-8b": (4096, 14336, 32, 8, 128256),
    "envelope": (4096, 16384, 32, 8, 131072),
}
#: other ops' bound analyses known to fail at these widths (reported, not fixed here):
#: substrings of their ConfigError messages
#: (none left: the cross-entropy mantissa follows the vocabulary, 6d1f3ca; attention
#: backward rounds Q before dK's GQA group sum, e33b3b2)
KNOWN_ELSEWHERE: tuple[str, ...] = ()


def _spec(shape: str, layers: int = 1, seq: int = SEQ) -> ForwardSpec:
    h, f, heads, kv, vocab = SHAPES[shape]
    arch = LlamaArch(vocab_size=vocab, hidden_size=h, intermediate_size=f, num_layers=layers,
                     num_heads=heads, num_kv_heads=kv, head_dim=h // heads,
                     max_position_embeddings=max(seq, 4096))
    lora = LoraSpec(r=8, alpha=16.0, targets=tuple(TARGETS), use_rslora=False)
    try:
        return ForwardSpec(arch, lora, QuantConfig(), 1, seq)
    except ConfigError as e:
        if "power of two" in str(e):
            pytest.skip(f"{shape}: {e} (the envelope case covers it until padding lands)")
        raise


def _checked(build) -> Graph:
    """Build, then run the checks both sides run before proving: `Graph.check` with
    every op's `Op.check` (parameters, roles, `validate` — the RMSNorm plans) and the
    static range checks."""
    try:
        g = build()
        reg = registry()
        g.check(reg)
        static_range_checks(g, reg)
    except ConfigError as e:
        msg = str(e)
        if "rmsnorm" not in msg and any(k in msg for k in KNOWN_ELSEWHERE):
            pytest.xfail(f"another op's bound analysis: {msg}")
        raise
    return g


def _rmsnorm_worst(g: Graph) -> dict[str, float]:
    """max log2 over the graph's RMSNorm nodes of each rsqrt relation's worst case."""
    out: dict[str, float] = {}
    for n in g.nodes:
        if n.op == "rmsnorm_rsqrt":
            pl = plan_of(n, int(g.tensors[n.inputs[0]].shape[-1]))
            for k, v in pl.worst().items():
                assert v < PRODUCT_LIMIT, (n.name, k)
                out[k] = max(out.get(k, 0.0), math.log2(v))
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
def test_forward_graph_real_width(shape):
    g = _checked(lambda: build_graph(_spec(shape)))
    print(shape, "forward RMSNorm worst log2:", _rmsnorm_worst(g))


@pytest.mark.parametrize("shape", list(SHAPES))
def test_train_graph_real_width(shape):
    """Forward + backward + AdamW, one step."""
    g = _checked(lambda: build_train_graph(TrainSpec(_spec(shape), 1)))
    assert {n.name for n in g.nodes} >= {"s0/final.norm.bwd/c/rescale", "s0/l0.ln2.bwd/c/rescale"}
    print(shape, "train RMSNorm worst log2:", _rmsnorm_worst(g))


def test_forward_graph_32_layers():
    """The residual stream's derived bound grows with depth (|h| ≤ (2i + 1)·2^25 before
    layer i's norm); the automatic pre-shift keeps every norm of a 32-layer 4096-wide
    forward inside the field."""
    g = _checked(lambda: build_graph(_spec("llama2-7b", layers=32)))
    shifts = [plan_of(n, 4096).pre_shift for n in g.nodes if n.op == "rmsnorm_rsqrt"]
    assert len(shifts) == 65 and shifts[0] == 1 and max(shifts) <= 8
    _rmsnorm_worst(g)


@pytest.mark.parametrize("hidden", [4096, 16384])
@pytest.mark.parametrize("x_bits", [26, 32])
def test_rmsnorm_forward_backward_up_to_16384(hidden, x_bits):
    """RMSNorm forward + backward alone at hidden up to 16384, 4096 tokens, |x| < 2^25
    (act_bits 10 at s = 16) and 2^31 (a deep residual), γ < 2^22, dY < 2^25 (the train
    defaults): every plan and every derived bound fits."""
    g = Graph()
    g.tensor("X", (SEQ, hidden), "committed", Bound.bits(x_bits).as_tuple())
    g.tensor("g", (hidden,), "committed", Bound.bits(16 + 7).as_tuple())
    g.tensor("dY", (SEQ, hidden), "committed", Bound.bits(24 + 2).as_tuple())
    y = add_rmsnorm(g, "n", "X", "g", eps=1e-5, scale=16)
    dx, dg = add_rmsnorm_backward(g, "nb", "n", "dY", dgamma=True,
                                  out_bound=Bound.bits(24 + 2))
    g.outputs = [y, dx, dg]
    reg = registry()
    g.check(reg)
    static_range_checks(g, reg)
    _rmsnorm_worst(g)
