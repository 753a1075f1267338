"""s33h5: the proof's training graph is the graph `_prepare`'s forward ran (placeholder
losses, `llama_train.with_losses`), not built a second time — and it is the graph
`build_train_graph` builds with the losses (structure, publics), so the proof is the same."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import torch

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.llama import ForwardSpec
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora
from zklora.zkcore.graph import canonical_json
from zklora.zkcore.quant import QuantConfig


def prove_bench_tiny():
    """One training step of `zklora bench`'s tiny shape, ZK off (its checkpoint written to
    a temporary directory)."""
    from zklora.zkcore import bench, pyapi

    batch, seq = bench.batch_seq("tiny")
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), bench.SIZES["tiny"])
        return pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                           zero_knowledge=False,
                           config={"task": {"model": "llama-train"},
                                   "model": {"batch": batch, "seq": seq}})


def _same_graph(a, b) -> None:
    assert canonical_json(a.describe()) == canonical_json(b.describe())
    assert list(a.publics) == list(b.publics)
    for k, v in a.publics.items():
        w = b.publics[k]
        if not isinstance(v, torch.Tensor):   # a Structured rule
            assert type(v) is type(w), k
            v, w = v.materialise(), w.materialise()
        assert v.dtype == w.dtype and torch.equal(v, w), k
    assert a.outputs == b.outputs
    assert a.node_segments == b.node_segments


def test_with_losses_is_the_built_graph():
    arch = tiny_arch()
    ad = tiny_adapter(arch, tiny_lora(targets=("q", "v")), init="random")
    for steps in (1, 2):
        spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 1, 4), steps)
        nt = [3]
        losses = [12345, -7][:steps]
        g0 = lt.build_train_graph(spec, None, nt)
        g = lt.with_losses(g0, losses)
        _same_graph(g, lt.build_train_graph(spec, losses, nt))
        # and it can fail: other losses give another graph
        other = lt.build_train_graph(spec, [x + 1 for x in losses], nt)
        assert not torch.equal(g.publics["s0/loss/loss"], other.publics["s0/loss/loss"])


def test_prove_builds_the_graph_once_same_graph(monkeypatch):

    calls = []
    built = lt.build_train_graph

    def counted(spec, losses=None, num_tokens=None):
        calls.append(losses)
        return built(spec, losses, num_tokens)

    monkeypatch.setattr(lt, "build_train_graph", counted)
    orig = lt.LlamaTrain.build
    checked = []

    def build(self, public):
        g = orig(self, public)
        spec = lt.TrainSpec.from_public(public)
        _same_graph(g, built(spec, [int(x) for x in public["losses"]],
                             lt._train_num_tokens(public, spec)))
        checked.append(g)
        return g

    monkeypatch.setattr(lt.LlamaTrain, "build", build)
    res = prove_bench_tiny()
    assert checked
    assert calls == [None], calls   # only the placeholder graph is built
    assert len(hashlib.sha256(res.data).hexdigest()) == 64
