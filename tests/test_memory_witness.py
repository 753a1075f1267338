"""The integer witness in scratch maps (issue 14, acceptance 3): a segmented proof's
phase 1 moves the witness it made to copy-on-write scratch maps (`graph.spill`), read
back a segment at a time and given back after it; the range-checked virtual tensors
phase 1 kept are recomputed by their segments; the heap is trimmed between phases.
Same proof bytes, scratch directory removed however the proof ends."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch
from zklora.zkcore.errors import ProverError
from zklora.zkcore.graph import Graph

from .conftest import backend_for


def _rss_file_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[2]) * 4096 / 2**20


def test_spill_released_then_reloaded_gives_the_same_tables(reg):
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    g = torch.Generator().manual_seed(1)
    ref = {f"t{k}": torch.randint(-2**40, 2**40, (5, 7 + k), generator=g) for k in range(4)}
    ref["i32"] = torch.arange(6, dtype=torch.int32)     # not int64: stays
    ref["empty"] = torch.zeros(0, dtype=torch.int64)    # nothing to spill: stays
    values = {k: v.clone() for k, v in ref.items()}
    with scratch.session(threshold=0) as store:
        done = set()
        moved = graphlib.spill(values, list(values), done)
        assert sorted(moved) == [f"t{k}" for k in range(4)] and done == set(moved)
        assert graphlib.spill(values, list(values), done) == []   # once
        files = os.listdir(store.path)
        assert len(files) == 1 and files[0].startswith("witness-")
        tables = {k: F.from_ints(values[k].reshape(-1)) for k in moved}
        for k in moved:
            assert torch.equal(values[k], ref[k]) and values[k].shape == ref[k].shape
            assert np.array_equal(tables[k], F.from_ints(ref[k].reshape(-1)))
        # an in-place write stays private (the file keeps the witness) and the release
        # discards it: what is read back afterwards is the committed witness again
        values["t1"][0, 0] += 5
        assert not torch.equal(values["t1"], ref["t1"])
        scratch.release(trim_heap=True)
        for k in moved:
            assert torch.equal(values[k], ref[k])
            assert np.array_equal(F.from_ints(values[k].reshape(-1)), tables[k])
    assert not os.path.exists(store.path)


def test_spill_needs_a_session_and_a_large_enough_batch():
    values = {"a": torch.arange(8)}
    assert graphlib.spill(values, ["a"]) == []            # no scratch session
    with scratch.session(threshold=1 << 30):
        assert graphlib.spill(values, ["a"]) == []        # a batch far below the threshold
    assert isinstance(values["a"], torch.Tensor) and list(values["a"]) == list(range(8))


def test_released_witness_leaves_the_resident_set():
    n = 1 << 24   # 128 MiB of int64
    values = {"w": torch.arange(n, dtype=torch.int64)}
    with scratch.session(threshold=0):
        graphlib.spill(values, ["w"])
        scratch.release()
        base = _rss_file_mib()
        assert int(values["w"].sum()) == n * (n - 1) // 2
        assert _rss_file_mib() > base + 100
        scratch.release()
        assert _rss_file_mib() < base + 50


def test_trim_is_harmless():
    scratch.trim()
    scratch.release(trim_heap=True)   # outside a session too


def _segmented_with_virtual() -> Graph:
    """Segment a: y = x + c (virtual, its bound proven), z = y + c (committed: crosses);
    segment b: w = z + c."""
    g = Graph()
    g.tensor("x", (8,), "committed", bound=(0, 100))
    g.tensor("c", (8,), "public", value=torch.arange(8))
    g.tensor("y", (8,), "virtual", bound=(0, 200))
    g.tensor("z", (8,), "committed")
    g.tensor("w", (8,), "committed")
    with g.segment("a"):
        g.op("add", "f", ["x", "c"], ["y"])
        g.op("add", "h", ["y", "c"], ["z"])
    with g.segment("b"):
        g.op("add", "k", ["z", "c"], ["w"])
    g.prove_bound("y")
    g.outputs.append("w")
    return g


def test_range_checked_virtual_recomputed_by_its_segment(reg, monkeypatch):
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    g = _segmented_with_virtual()
    assert graphlib._phase1_virtuals(g, reg) == {"y"}
    x = {"x": torch.arange(8) * 3}
    kept = graphlib.forward(g, x, reg, drop=True)
    assert "y" in kept                      # phase 1 reads it (its limbs, its point)
    seen = []
    real = graphlib.prove_segment

    def spy(prover, ctx, *a, **k):
        if prover:
            seen.append(("y" in ctx.values, "y" in ctx._tables))
        return real(prover, ctx, *a, **k)

    monkeypatch.setattr(graphlib, "prove_segment", spy)
    stream, sections = graphlib.prove(g, x, be, {"t": 1})
    assert seen == [(False, False), (False, False)]   # dropped after phase 1
    graphlib.verify(g, stream, be, {"t": 1}, sections)
    # the same proof as one made with y kept for the whole proof
    monkeypatch.setattr(graphlib, "_phase1_virtuals", lambda graph, registry: set())
    monkeypatch.setattr(graphlib, "forward",
                        lambda graph, inputs, registry, progress=None, drop=False:
                        real_forward(graph, inputs, registry, progress))
    assert graphlib.prove(g, x, be, {"t": 1}) == (stream, sections)


real_forward = graphlib.forward


@pytest.fixture(scope="module")
def micro_step():
    from .test_llama_train import micro

    return micro(1)


def test_segmented_step_with_spilled_witness_is_the_same(reg, micro_step, monkeypatch):
    """The micro training step proven with every witness batch spilled (threshold 0)
    gives the in-RAM proof's bytes and verifies; the witness maps were made and the
    scratch directory is gone afterwards."""
    spec, g, inputs, res, st = micro_step
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    ref = graphlib.prove(g, inputs, be, st)
    tags = []
    real = scratch.Store.build

    def build(self, *a, **k):
        tags.append(k.get("tag"))
        return real(self, *a, **k)

    monkeypatch.setattr(scratch.Store, "build", build)
    with scratch.session(threshold=0) as store:
        vals = graphlib.forward(g, inputs, reg, drop=True)
        made = {t for n in g.nodes for t in n.outputs}
        committed = {t for t in vals if t in made and g.tensors[t].kind == "committed"}
        assert committed and committed <= vals.spilled
        out = graphlib.prove(g, inputs, be, st, values=vals)
    assert tags.count("witness") >= len(g.segments())
    assert out == ref
    assert not os.path.exists(store.path)
    graphlib.verify(g, *out[:1], be, st, out[1])


def test_failing_proof_with_spilled_witness_removes_scratch(reg, micro_step, monkeypatch):
    spec, g, inputs, res, st = micro_step
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")

    def boom(*a, **k):
        raise ProverError("boom")

    monkeypatch.setattr(graphlib, "_run_lookups", boom)
    with pytest.raises(ProverError, match="boom"):
        with scratch.session(threshold=0) as store:
            graphlib.prove(g, inputs, be, st)
    assert store.path and not os.path.exists(store.path)
