"""The training step's witness is computed once: the run that learns the statement's
losses hands its phase-1 witness to the proof's forward pass (`graph.Traced`), which
then equals a fresh forward bit for bit; anything else makes the forward compute."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.data import random_batch
from zklora.plugins.models.hf import save_adapter, save_model
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
from zklora.zkcore import graph as graphlib
from zklora.zkcore import pyapi, scratch
from zklora.zkcore.plugins import registry


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    d = tmp_path_factory.mktemp("once")
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=2,
                     num_heads=2, head_dim=4)
    save_model(d / "model", arch, tiny_weights(arch, seed=0).weights)
    save_adapter(d / "adapter", tiny_adapter(arch, tiny_lora(r=2, alpha=4.0,
                                                             targets=("q", "v")),
                                             init="random"))
    np.save(d / "batch.npy", random_batch(16, 1, 4, 3).numpy())
    return {"model": str(d / "model"), "adapter": str(d / "adapter"),
            "data": str(d / "batch.npy")}


def _same(a, b):
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])), k


def _counting(monkeypatch):
    calls = []
    real = graphlib._forward_node

    def count(graph, reg, node, src, dst):
        calls.append(node.name)
        return real(graph, reg, node, src, dst)

    monkeypatch.setattr(graphlib, "_forward_node", count)
    return calls


def test_handed_over_witness_equals_a_fresh_forward(params, monkeypatch):
    reg = registry()
    with scratch.session():
        m = lt.LlamaTrain()
        public = m.public_params(params)
        w = m.witness(params)
        assert isinstance(w, graphlib.Traced) and w.holds
        g = m.build(public)
        drop = bool(g.node_segments)
        calls = _counting(monkeypatch)
        got = graphlib.forward(g, w, reg, drop=drop)
        assert calls == [] and not w.holds
        fresh = graphlib.forward(g, dict(w), reg, drop=drop)
        assert len(calls) == len(g.nodes)
        _same(got, fresh)
        # handed over once: a second forward computes
        calls.clear()
        _same(graphlib.forward(g, w, reg, drop=drop), fresh)
        assert len(calls) == len(g.nodes)


def test_no_trace_outside_a_session_or_for_another_graph(params, monkeypatch):
    reg = registry()
    m = lt.LlamaTrain()
    public = m.public_params(params)
    assert not isinstance(m.witness(params), graphlib.Traced)   # no scratch session
    with scratch.session():
        m = lt.LlamaTrain()
        m.public_params(params)
        w = m.witness(params)
        g = m.build(public)
        lo, hi = g.tensors["ids"].bound
        g.tensors["ids"] = attrs.evolve(g.tensors["ids"], bound=(lo, hi + 1))
        calls = _counting(monkeypatch)
        graphlib.forward(g, w, reg, drop=bool(g.node_segments))
        assert len(calls) == len(g.nodes)      # another structure: computed afresh
    with scratch.session():
        m = lt.LlamaTrain()
        m.public_params(params)
        w = m.witness(params)
    with scratch.session():                    # another session: its files are gone
        calls.clear()
        graphlib.forward(m.build(public), w, reg, drop=True)
        assert len(calls) == len(g.nodes)


def test_prove_verifies_and_runs_each_node_once_before_phase_2(params, monkeypatch,
                                                               tmp_path):
    calls = _counting(monkeypatch)
    seen = []
    monkeypatch.setattr(graphlib, "_recompute",
                        (lambda real: lambda *a, **k: seen.append(len(calls))
                         or real(*a, **k))(graphlib._recompute))
    res = pyapi.prove(task="train", out=tmp_path / "p.zkp", **params)
    first = seen[0] if seen else len(calls)
    g = lt.LlamaTrain().build(res.statement["params"])
    assert first == len(g.nodes)      # the losses' run only; the forward pass took it
    pyapi.verify(tmp_path / "p.zkp")


def test_spilled_witness_is_stored_narrow_and_read_back_exactly():
    vals = {"limb": torch.randint(0, 1 << 16, (64, 64)),
            "sgn": torch.randint(-100, 100, (64, 64)),
            "wide": torch.randint(-(1 << 40), 1 << 40, (64, 64)),
            "i32": torch.tensor([-(1 << 31), (1 << 31) - 1] * 8)}
    with scratch.session(threshold=0) as store:
        w = graphlib.Witness(dict(vals))
        assert sorted(w.spill(list(vals))) == sorted(vals)
        assert store.bytes_written == 64 * 64 * (2 + 1 + 8) + 16 * 4
        for k, v in vals.items():
            got = w[k]
            assert got.dtype == torch.int64 and torch.equal(got, v), k


def test_forward_model_hands_its_loss_run_over(params, monkeypatch):
    from zklora.plugins.models.llama import Llama

    reg = registry()
    with scratch.session():
        m = Llama()
        public = m.public_params(params)
        w = m.witness(params)
        assert isinstance(w, graphlib.Traced) and w.holds
        g = m.build(public)
        assert not g.node_segments
        calls = _counting(monkeypatch)
        got = graphlib.forward(g, w, reg)
        assert calls == []
        _same(got, graphlib.forward(g, dict(w), reg))
        assert len(calls) == len(g.nodes)
    m = Llama()
    m.public_params(params)
    assert not isinstance(m.witness(params), graphlib.Traced)   # no scratch session
