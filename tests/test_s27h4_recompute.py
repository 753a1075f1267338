"""A segment's recompute (`graph._recompute`) reads each spilled input once: an input
several of its nodes read is held from its first read to its last (s27h4); the values
are those of the plain loop (every read from the witness)."""

from __future__ import annotations

from collections import ChainMap

import numpy as np
import pytest
import torch

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.data import random_batch
from zklora.plugins.models.hf import save_adapter, save_model
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch
from zklora.zkcore.op import OpNode
from zklora.zkcore.plugins import registry


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    d = tmp_path_factory.mktemp("rc")
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=2,
                     num_heads=2, head_dim=4)
    save_model(d / "model", arch, tiny_weights(arch, seed=0).weights)
    save_adapter(d / "adapter", tiny_adapter(arch, tiny_lora(r=2, alpha=4.0,
                                                             targets=("q", "v")),
                                             init="random"))
    np.save(d / "batch.npy", random_batch(16, 1, 4, 3).numpy())
    return {"model": str(d / "model"), "adapter": str(d / "adapter"),
            "data": str(d / "batch.npy")}


def _plain(graph, reg, seg, values):
    """The recompute before s27h4: every input read from ``values`` per node."""
    local = {}
    view = ChainMap(local, values)
    for node in graph.nodes[seg.start:seg.stop]:
        if all(t in values for t in node.outputs):
            continue
        out = {}
        graphlib._forward_node(graph, reg, node, view, out)
        for t, v in out.items():
            if t not in values:
                local[t] = v
    return local


def test_recompute_reads_each_spilled_input_once(params, monkeypatch):
    reg = registry()
    reads = []
    real = graphlib.Witness.__getitem__

    def count(self, name):
        if not self.in_ram(name):
            reads.append(name)
        return real(self, name)

    with scratch.session(threshold=0):
        m = lt.LlamaTrain()
        public = m.public_params(params)
        g = m.build(public)
        assert g.node_segments
        w = graphlib.forward(g, dict(m.witness(params)), reg, drop=True)
        assert isinstance(w, graphlib.Witness) and w.spilled
        monkeypatch.setattr(graphlib.Witness, "__getitem__", count)
        repeated = 0
        for seg in g.segments():
            reads.clear()
            ref = _plain(g, reg, seg, w)
            plain_reads = list(reads)
            reads.clear()
            got = graphlib._recompute(g, reg, seg, w)
            assert set(got) == set(ref)
            for k in ref:
                assert torch.equal(got[k], ref[k]), k
            assert len(reads) == len(set(reads))            # each spilled input once
            assert set(reads) == set(plain_reads)
            repeated += len(plain_reads) - len(reads)
        assert repeated > 0        # the tiny graph has inputs read by several nodes


def _node(name, inputs, outputs):
    return OpNode("add", name, tuple(inputs), tuple(outputs))


class _W(dict):
    def __init__(self, data, ram):
        super().__init__(data)
        self.ram = set(ram)

    def in_ram(self, name):
        return name in self.ram


def test_spilled_reads_counts_reads_of_spilled_inputs_not_made_here():
    nodes = [_node("a", ["x", "w"], ["y"]), _node("b", ["y", "x", "x"], ["z"]),
             _node("c", ["z", "w", "r"], ["x2"]), _node("d", ["x2", "x"], ["o"])]
    vals = _W({"x": 1, "w": 2, "r": 3, "y": 4}, ram=["r"])
    # y is in values but made by node a first: not counted; r is in RAM
    assert graphlib._spilled_reads(nodes, vals) == {"x": 4, "w": 2}
    assert graphlib._spilled_reads(nodes, {"x": 1}) == {}     # no in_ram: nothing held
