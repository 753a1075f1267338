"""s37h3: phase 1 keeps the virtual outputs of a segment's costly nodes
(`graph.KEEP_MIN_SECONDS_PER_MIB`, in their narrow types, `Witness.keep`) while their
total fits `graph.KEEP_VIRTUAL_BYTES`; the segment's phase 2 takes them
(`Witness.take_kept`) instead of running those nodes again (`graph._recompute`).  The
proof is the same with any budget (0: every segment recomputes), the budget bounds what
is kept, a node over it or under the cost rate recomputes, and nothing stays kept once
the segments are proven."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch

from .conftest import backend_for
from .test_memory_witness import _segmented_with_virtual


@pytest.fixture(scope="module")
def micro_step():
    from .test_llama_train import micro

    return micro(1)


@pytest.fixture(scope="module")
def be(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


def _node_bytes(g, reg, inputs):
    """Per node with virtual outputs phase 1 drops or range-checks, in graph order:
    (name, the bytes `_keep_nodes` counts: narrow for dropped, 8 an entry for
    range-checked), from a whole forward."""
    full = graphlib.forward(g, inputs, reg)
    p1 = graphlib._phase1_virtuals(g, reg)
    out = []
    for node in g.nodes:
        n, any_ = 0, False
        for t in node.outputs:
            if g.tensors[t].kind != "virtual":
                continue
            any_ = True
            v = full[t]
            if t in p1:
                n += 8 * v.numel()
            elif v.numel():
                n += v.numel() * graphlib._narrow_of(int(v.min()), int(v.max())).itemsize
        if any_:
            out.append((node.name, n))
    return out


def _greedy(sizes, budget):
    """The nodes kept in order while they fit ``budget`` (no cost rate)."""
    kept, left = set(), budget
    for name, n in sizes:
        if n <= left:
            kept.add(name)
            left -= n
    return kept


def _prove_counting(monkeypatch, g, inputs, be, st, budget, values=None, rate=0.0):
    """Prove with ``budget`` and cost ``rate``; returns (proof, sections), the nodes
    phase 2 ran, the kept bytes after phase 1."""
    monkeypatch.setattr(graphlib, "KEEP_VIRTUAL_BYTES", budget)
    monkeypatch.setattr(graphlib, "KEEP_MIN_SECONDS_PER_MIB", rate)
    ran = []
    kept = []
    real_rec = graphlib._recompute_seg
    real_node = graphlib._forward_node
    in_rec = [False]

    def rec(*a, **k):
        in_rec[0] = True
        try:
            return real_rec(*a, **k)
        finally:
            in_rec[0] = False

    def node(graph, registry, n, *a, **k):
        if in_rec[0]:
            ran.append(n.name)
        return real_node(graph, registry, n, *a, **k)

    real_fwd = graphlib.forward

    def fwd(*a, **k):
        w = real_fwd(*a, **k)
        kept.append(w.kept_bytes)
        return w

    monkeypatch.setattr(graphlib, "_recompute_seg", rec)
    monkeypatch.setattr(graphlib, "_forward_node", node)
    monkeypatch.setattr(graphlib, "forward", fwd)
    try:
        out = graphlib.prove(g, inputs, be, st, values=values)
    finally:
        monkeypatch.undo()
    return out, ran, kept


def test_kept_and_recomputed_give_the_same_proof(reg, be, micro_step, monkeypatch):
    spec, g, inputs, res, st = micro_step
    assert len(g.segments()) > 1
    ref, ran0, kept0 = _prove_counting(monkeypatch, g, inputs, be, st, 0)
    assert kept0 == [0] and ran0                     # budget 0: every segment recomputes
    out, ran, kept = _prove_counting(monkeypatch, g, inputs, be, st, 1 << 30)
    assert out == ref
    assert ran == [] and kept[0] > 0                 # nothing recomputed
    graphlib.verify(g, out[0], be, st, out[1])


def test_budget_bounds_what_is_kept(reg, be, micro_step, monkeypatch):
    spec, g, inputs, res, st = micro_step
    sizes = _node_bytes(g, reg, inputs)
    total = sum(n for _, n in sizes)
    ref, ran0, _ = _prove_counting(monkeypatch, g, inputs, be, st, 0)
    assert sorted(ran0) == sorted(name for name, _ in sizes)   # p1 nodes too
    for budget in (total // 3, total // 2, sizes[0][1] - 1, total):
        want = _greedy(sizes, budget)
        out, ran, kept = _prove_counting(monkeypatch, g, inputs, be, st, budget)
        assert out == ref
        assert kept[0] <= budget
        assert sorted(ran) == sorted(n for n in ran0 if n not in want), budget
        if budget == total:
            assert ran == []
        else:
            assert 0 < len(want) < len(sizes) and ran


def test_cost_rate_picks_the_nodes(reg, be, micro_step, monkeypatch):
    """Every node costs phase 1 one (fake) CPU second: with a rate of R s/MiB the nodes
    whose outputs take at most 1/R MiB are kept, the others recomputed."""
    spec, g, inputs, res, st = micro_step
    sizes = _node_bytes(g, reg, inputs)
    ref, ran0, _ = _prove_counting(monkeypatch, g, inputs, be, st, 0)
    cut = sorted(n for _, n in sizes)[len(sizes) // 2]
    want = {name for name, n in sizes if n <= cut}
    assert 0 < len(want) < len(sizes)

    class Clock:
        t = 0.0

        def process_time(self):
            self.t += 0.5
            return self.t

        def __getattr__(self, name):
            import time
            return getattr(time, name)

    monkeypatch.setattr(graphlib, "time", Clock())
    # the clock advances twice a node: a node "costs" 0.5 s (its outputs' keep is
    # timed outside): keep while 0.5 s >= rate * bytes / 2**20
    rate = 0.5 * 2**20 / cut
    out, ran, kept = _prove_counting(monkeypatch, g, inputs, be, st, 1 << 30, rate=rate)
    assert out == ref
    assert sorted(ran) == sorted(n for n in ran0 if n not in want)


def test_spilled_witness_with_kept_virtuals_same_proof(reg, be, micro_step, monkeypatch):
    """Every witness batch spilled (threshold 0) and the virtual tensors kept: the same
    proof; the caller's witness holds nothing kept afterwards."""
    spec, g, inputs, res, st = micro_step
    ref, _, _ = _prove_counting(monkeypatch, g, inputs, be, st, 0)
    monkeypatch.setattr(graphlib, "KEEP_VIRTUAL_BYTES", 1 << 30)
    monkeypatch.setattr(graphlib, "KEEP_MIN_SECONDS_PER_MIB", 0.0)
    with scratch.session(threshold=0):
        vals = graphlib.forward(g, inputs, reg, drop=True)
        assert vals.kept_bytes > 0 and vals.spilled
        out = graphlib.prove(g, inputs, be, st, values=vals)
        assert vals.kept_bytes == 0 and not vals._kept_later
    assert out == ref


def test_range_checked_virtual_kept_for_its_segment(reg, monkeypatch):
    """A range-checked virtual tensor stays in the witness through the bounds phase,
    then is kept (not recomputed) for its segment; the same proof as budget 0."""
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    g = _segmented_with_virtual()
    x = {"x": torch.arange(8) * 3}
    st = {"t": 1}
    ref, ran0, _ = _prove_counting(monkeypatch, g, x, be, st, 0)
    assert "f" in ran0
    monkeypatch.setattr(graphlib, "KEEP_VIRTUAL_BYTES", 1 << 20)
    monkeypatch.setattr(graphlib, "KEEP_MIN_SECONDS_PER_MIB", 0.0)
    w = graphlib.forward(g, x, reg, drop=True)
    assert "y" in w and w._kept_later == {"y"}       # phase 1 reads it
    seen = []
    real = graphlib.prove_segment

    def spy(prover, ctx, *a, **k):
        if prover:
            seen.append(("y" in ctx.values, "y" in ctx.values._kept))
        return real(prover, ctx, *a, **k)

    monkeypatch.setattr(graphlib, "prove_segment", spy)
    out, ran, _ = _prove_counting(monkeypatch, g, x, be, st, 1 << 20, values=w)
    assert seen == [(False, True), (False, False)]   # y kept for segment a only
    assert out == ref and "f" not in ran
    graphlib.verify(g, out[0], be, st, out[1])


def test_keep_narrows_and_take_widens():
    w = graphlib.Witness()
    vals = {"u8": torch.arange(200), "i16": torch.arange(-300, 300),
            "wide": torch.tensor([-2**40, 2**40, 3]), "scalar": torch.tensor(-5)}
    for k, v in vals.items():
        w[k] = v
    w.note_range("i16", vals["i16"], -300, 299)
    nb = {k: w.keep(k, v) for k, v in vals.items()}
    assert nb == {"u8": 200, "i16": 1200, "wide": 24, "scalar": 8}
    assert w._kept["u8"].dtype == np.uint8 and w._kept["i16"].dtype == np.int16
    assert w.kept_bytes == sum(nb.values())
    c = w.copy()
    got = c.take_kept(["u8", "i16", "wide", "scalar", "absent"])
    assert set(got) == set(vals)
    for k, v in vals.items():
        assert got[k].dtype == torch.int64 and torch.equal(got[k], v), k
    assert w.kept_bytes == 0                           # the copy shares the store
    w.keep("u8", vals["u8"])
    w._kept_later.add("x")
    w.drop_kept()
    assert w.kept_bytes == 0 and not w._kept_later


def test_executor_that_recomputes_leaves_nothing_kept(reg, be, micro_step, monkeypatch):
    """An executor whose segments take nothing kept (a remote worker recomputes): the
    same proof, and the kept tensors go once the segments are proven."""
    from zklora.zkcore import executors

    spec, g, inputs, res, st = micro_step
    ref, _, _ = _prove_counting(monkeypatch, g, inputs, be, st, 0)
    monkeypatch.setattr(graphlib, "KEEP_VIRTUAL_BYTES", 1 << 30)
    monkeypatch.setattr(graphlib, "KEEP_MIN_SECONDS_PER_MIB", 0.0)
    vals = graphlib.forward(g, inputs, reg, drop=True)
    assert vals.kept_bytes > 0
    left = []

    class Remote(executors.LocalExecutor):
        def prove_segments(self, ctx, *a, **k):
            with monkeypatch.context() as m:
                m.setattr(graphlib.Witness, "take_kept", lambda self, names: {})
                out = super().prove_segments(ctx, *a, **k)
            left.append(ctx.values.kept_bytes)
            return out

    out = graphlib.prove(g, inputs, be, st, values=vals, executor=Remote())
    assert out == ref
    assert left[0] > 0 and vals.kept_bytes == 0
