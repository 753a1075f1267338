"""The integer witness in scratch files (issue 14, acceptance 3): a segmented proof's
phase 1 moves the witness it made to disk (`graph.Witness.spill`), read back (copied)
by the segment that needs it; the range-checked virtual tensors phase 1 kept are
recomputed by their segments; the heap is trimmed between phases.  Same proof bytes,
scratch directory removed however the proof ends."""

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


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_spilled_witness_reloaded_gives_the_same_tables(reg):
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    g = torch.Generator().manual_seed(1)
    ref = {f"t{k}": torch.randint(-2**40, 2**40, (5, 7 + k), generator=g) for k in range(4)}
    ref["i32"] = torch.arange(6, dtype=torch.int32)     # not int64: stays
    ref["empty"] = torch.zeros(0, dtype=torch.int64)    # nothing to spill: stays
    ref["scalar"] = torch.tensor(7)                     # no dimension: stays
    w = graphlib.Witness({k: v.clone() for k, v in ref.items()})
    with scratch.session(threshold=0) as store:
        moved = w.spill(list(w))
        assert sorted(moved) == [f"t{k}" for k in range(4)] and w.spilled == set(moved)
        assert w.spill(list(w)) == []                   # once
        files = os.listdir(store.path)
        assert len(files) == 1 and files[0].startswith("witness-")
        assert sorted(w) == sorted(ref) and len(w) == len(ref)
        assert all(k in w for k in ref) and "nope" not in w
        tables = {k: F.from_ints(w[k].reshape(-1)) for k in moved}
        for k in moved:
            assert torch.equal(w[k], ref[k]) and w[k].shape == ref[k].shape
            assert np.array_equal(tables[k], F.from_ints(ref[k].reshape(-1)))
        # a read is a copy: writing into it does not change the witness
        x = w["t1"]
        x[0, 0] += 5
        assert torch.equal(w["t1"], ref["t1"])
        # a copy shares the files; setting an entry keeps the new value in RAM
        c = w.copy()
        c["t2"] = ref["t2"] + 1
        assert torch.equal(c["t2"], ref["t2"] + 1) and torch.equal(w["t2"], ref["t2"])
        assert "t2" not in c.spilled and "t2" in w.spilled
        del c["t3"]
        assert "t3" not in c and "t3" in w
        scratch.release(trim_heap=True)
        for k in moved:
            assert np.array_equal(F.from_ints(w[k].reshape(-1)), tables[k])
    assert not os.path.exists(store.path)


def test_spill_needs_a_session_and_a_large_enough_batch():
    w = graphlib.Witness({"a": torch.arange(8)})
    assert w.spill(["a"]) == []                         # no scratch session
    with scratch.session(threshold=1 << 30):
        assert w.spill(["a"]) == []                     # a batch far below the threshold
        assert w.spill(["a"], force=True) == ["a"]      # unless forced
        assert list(w["a"]) == list(range(8))


def test_autospill_moves_batches_as_they_are_set():
    with scratch.session(threshold=64 * 8 * 100):     # batches of 100 int64 entries
        w = graphlib.Witness()
        w.autospill = True
        for k in range(5):
            w[f"x{k}"] = torch.arange(60) + k
        # every second tensor completes a batch of 120 entries: the batch moves
        assert w.spilled == {"x0", "x1", "x2", "x3"} and w.in_ram("x4")
        w.autospill = False
        w["y"] = torch.arange(1000)
        assert w.in_ram("y")
        assert all(torch.equal(w[f"x{k}"], torch.arange(60) + k) for k in range(5))


def test_spilled_witness_is_not_resident(monkeypatch):
    # the spill's residency, not the heap's: a prove's session lets the heap keep freed
    # arrays up to its `scratch.HEAP_KEEP` (the read's 128 MiB copy), here glibc's own
    monkeypatch.setattr(scratch, "HEAP_MMAP", 0)
    monkeypatch.setattr(scratch, "HEAP_KEEP", 0)
    n = 1 << 24   # 128 MiB of int64
    with scratch.session(threshold=0):
        w = graphlib.Witness({"w": torch.arange(n, dtype=torch.int64)})
        w.spill(["w"])
        base = _rss_mib()
        assert int(w["w"].sum()) == n * (n - 1) // 2      # read, summed, dropped
        assert _rss_mib() < base + 50


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

    real_save = scratch.Store.save

    def save(self, arrays, tag="a"):
        tags.append(tag)
        return real_save(self, arrays, tag)

    monkeypatch.setattr(scratch.Store, "build", build)
    monkeypatch.setattr(scratch.Store, "save", save)
    with scratch.session(threshold=0) as store:
        vals = graphlib.forward(g, inputs, reg, drop=True)
        made = {t for n in g.nodes for t in n.outputs}
        committed = {t for t in vals if t in made and g.tensors[t].kind == "committed"}
        assert committed and committed <= vals.spilled
        full = graphlib.forward(g, inputs, reg)
        assert all(torch.equal(vals[t], full[t]) for t in vals)
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


def test_small_tables_staged_in_batches(reg):
    """Tables too small to be staged alone are staged together once they reach that
    size: views of one scratch file (the owner's copy replaced too), the same stack
    commitment as in RAM, the file removed once every table of it is stacked."""
    from zklora.zkcore.committer import STAGE, Committer
    from zklora.zkcore.op import TensorSpec
    from zklora.zkcore.transcript import ProverChannel, Transcript

    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    specs = [TensorSpec(f"t{k}", (16,), "committed", None) for k in range(7)]
    tabs = [F.from_ints(torch.arange(16) * (k + 1)) for k in range(7)]

    def run():
        c = Committer(be.scheme, True)
        got = {}
        c.on_stacked = got.__setitem__
        ch = ProverChannel(Transcript(b"t", "blake3"))
        for sp, t in zip(specs, tabs):
            c.commit(ch, sp, t.copy())
        return c, ch, got

    ref_c, ref_ch, _ = run()
    ref_c.flush(ref_ch)
    # 16 entries (128 B) are below 1/STAGE of the threshold; three of them reach it
    with scratch.session(threshold=STAGE * 3 * 128) as store:
        c, ch, got = run()
        staged = [t for _, t in c._pending]
        assert [scratch.is_mapped(t) for t in staged] == [True] * 6 + [False]
        assert staged[0].base is staged[2].base and staged[3].base is not staged[0].base
        assert all(got[f"t{k}"] is staged[k] for k in range(6))
        assert all(np.array_equal(t, r) for t, r in zip(staged, tabs))
        assert len(os.listdir(store.path)) == 2
        c.flush(ch)
        assert [f for f in os.listdir(store.path) if f.startswith("stage")] == []
        assert c._staged == {} and c._refs == {}
    assert ch.proof_bytes() == ref_ch.proof_bytes()


def test_step_with_batched_staging_is_the_same(reg, micro_step):
    spec, g, inputs, res, st = micro_step
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    ref = graphlib.prove(g, inputs, be, st)
    with scratch.session(threshold=64 * 8 * 64) as store:   # tables < 64 entries batched
        out = graphlib.prove(g, inputs, be, st)
    assert out == ref and not os.path.exists(store.path)


def test_releasing_gives_pages_back_while_the_block_runs():
    import time

    m = 1 << 24   # 128 MiB of uint64
    with scratch.session(threshold=0) as store:
        mm = store.build((m,), np.uint64, [(0, np.arange(m, dtype=np.uint64))])
        scratch.release()
        base = _rss_file_mib()
        with scratch.releasing(interval=0.05):
            assert int(mm[: m // 2].sum(dtype=np.uint64)) == (m // 2) * (m // 2 - 1) // 2
            deadline = time.monotonic() + 5
            while _rss_file_mib() > base + 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _rss_file_mib() < base + 20          # given back while running
            assert int(mm[m - 1]) == m - 1               # and read again on demand
        assert not [t for t in __import__("threading").enumerate()
                    if t.name == "zklora-scratch-release"]
    with scratch.releasing():   # outside a session: nothing
        pass


def _rss_file_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[2]) * 4096 / 2**20


def test_python_integer_tables_are_never_staged(reg):
    """A field of Python-integer elements (bls12-381-fr, dtype object) keeps its tables
    and stacks in RAM: pointers cannot live in a file (staging them crashed)."""
    from zklora.zkcore.committer import Committer
    from zklora.zkcore.op import TensorSpec
    from zklora.zkcore.transcript import ProverChannel, Transcript

    be = backend_for(reg, "bls12-381-fr", "plain")
    F = be.field
    specs = [TensorSpec(f"t{k}", (16,), "committed", None) for k in range(5)]

    def run():
        c = Committer(be.scheme, True)
        ch = ProverChannel(Transcript(b"t", "blake3"))
        for k, sp in enumerate(specs):
            c.commit(ch, sp, F.from_ints(torch.arange(16) * (k + 1)))
        return c, ch

    ref_c, ref_ch = run()
    ref_c.flush(ref_ch)
    with scratch.session(threshold=0) as store:
        c, ch = run()
        assert not any(scratch.is_mapped(t) for _, t in c._pending)
        c.flush(ch)
        assert not scratch.is_mapped(c.stacks[0].table) and os.listdir(store.path) == []
    assert ch.proof_bytes() == ref_ch.proof_bytes()


def test_claims_do_not_keep_the_tables_they_were_sliced_from():
    """A claim's point and value are copied when they are views (the finals of a
    sumcheck are slices of its folded tables): a claim kept until the opening does not
    keep a table alive."""
    import gc
    import weakref

    from zklora.zkcore.claims import Claim

    big = np.arange(1 << 16, dtype=np.uint64).reshape(-1, 2)
    ref = weakref.ref(big)
    c = Claim("t", big[3:6], big[7])
    assert np.array_equal(c.point, np.arange(6, 12, dtype=np.uint64).reshape(3, 2))
    assert list(c.value) == [14, 15]
    del big
    gc.collect()
    assert ref() is None
    own = np.zeros(2, np.uint64)
    assert Claim("t", own, own).value is own      # an array owning its data: kept as is
