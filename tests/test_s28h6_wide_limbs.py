"""Fewer, wider limbs where the tables exist anyway (issue 13, `range._wide_limbs`):
a check of B > 32 bits with 16-bit limbs (three or more) uses ⌈B/20⌉ limbs of
(20, …, 20, B − 20·(K − 1)) bits when the entries saved exceed the rows of the tables
the wide widths add.  The interval proven is the same (docs/soundness.md §2.1, "wide
limbs"): completeness at the top of the range, the first value outside rejected, and the
carry (L0 + 2^20, L1 − 1) — the next decomposition of the same value, which the
recomposition accepts — rejected by the 20-bit limb's own lookup.  Also for a rescale
whose Y is defined by wide limbs (`rescale.limb_outputs`)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.rescale import limb_outputs
from zklora.zkcore import graph as graphlib
from zklora.zkcore import range as rangelib
from zklora.zkcore.build import add_rescale, find_node
from zklora.zkcore.graph import Graph
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

from .conftest import backend_for

B40 = (1 << 40) - 1


@pytest.fixture
def gold(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


class _Ctx:
    def __init__(self, specs, F):
        self.F, self.specs = F, specs

    def spec(self, name):
        return self.specs[name]


def _specs(**sizes):
    g = Graph()
    for name, n in sizes.items():
        g.tensor(name, (n,), "committed")
    return g.tensors


def _narrow(rc) -> bool:
    """16-bit limbs (a top limb possibly split by `range._split_tops`), none wider."""
    return rc.limb_bits == 16 and max(rc.widths or (16,)) == 16


def test_wide_limbs_by_cost(gold):
    F = gold.field
    # a direct 20-bit check (N·3 > 2^21: the range20 table is there) and a direct
    # 17-bit one (range17)
    d20 = RangeCheck("D", 0, (1 << 20) - 1, "d", 16)
    d17 = RangeCheck("E", 0, (1 << 17) - 1, "e", 17)
    specs = _specs(W=8, D=1 << 20, E=1 << 17, V=1 << 19)
    ctx = _Ctx(specs, F)
    w40 = RangeCheck("W", 0, B40, "w")
    w40b, d = rangelib._by_cost(ctx, [w40, d20])
    assert d.limb_bits == 20 and w40b.widths == (20, 20) and w40b.limb_bits == 20
    assert rangelib._plan(F, 0, B40, w40b.limb_bits, w40b.widths)[1] == [20, 20]
    # without range20 in the proof, 8 entries do not pay for a 2^20-row table
    (alone,) = rangelib._by_cost(ctx, [w40])
    assert _narrow(alone)
    # 37 bits: (20, 17) with range17 there too; without it, 8 entries do not pay for it
    w37 = RangeCheck("W", 0, (1 << 37) - 1, "w37")
    assert rangelib._by_cost(ctx, [w37, d20, d17])[0].widths == (20, 17)
    assert _narrow(rangelib._by_cost(ctx, [w37, d20])[0])
    # 38 bits over 2^19 entries: the new range18 table (2^18 rows) pays
    v38 = RangeCheck("V", 0, (1 << 38) - 1, "v38")
    assert rangelib._by_cost(ctx, [v38, d20])[0].widths == (20, 18)
    # 32 bits: two limbs either way; 51 bits over 2^19 entries: (20, 20, 11), three
    # limbs instead of four (the range11 table pays)
    assert rangelib._by_cost(ctx, [RangeCheck("W", 0, (1 << 32) - 1, "w"), d20])[0].widths \
        == ()
    w51 = rangelib._by_cost(ctx, [RangeCheck("V", 0, (1 << 51) - 1, "v"), d20])[0]
    assert w51.widths == (20, 20, 11)
    # two-sided: the widths cover B, both sides use them
    two = rangelib._by_cost(ctx, [RangeCheck("W", -5, B40 - 10, "w2"), d20])[0]
    assert two.widths == (20, 20)
    assert len(rangelib._plan(F, two.lo, two.hi, two.limb_bits, two.widths)[2]) == 2
    # an explicit limb width other than 16 is left alone
    assert rangelib._by_cost(ctx, [RangeCheck("W", 0, B40, "w", 15), d20])[0].limb_bits == 15


@pytest.fixture
def with_range20(monkeypatch):
    """Every range table up to range20 counted as present (at the 25M shape the direct
    20-bit rescale remainders put range20 there, other checks the narrower ones), so that
    a small test graph takes the wide path."""
    orig = rangelib._tables_of
    monkeypatch.setattr(rangelib, "_tables_of",
                        lambda ctx, checks: orig(ctx, checks) | set(range(1, 21)))


def _with_w(monkeypatch, lo=0, hi=B40):
    orig = graphlib.static_range_checks

    def with_w(graph, registry, error=None):
        out = orig(graph, registry) if error is None else orig(graph, registry, error)
        return out + [RangeCheck("W", lo, hi, "W/top")]

    monkeypatch.setattr(graphlib, "static_range_checks", with_w)


def _w_graph():
    g = Graph()
    g.tensor("W", (8,), "committed")      # bounded by the check added below only
    g.outputs = ["W"]
    return g


def _w_values():
    x = torch.arange(8) * 123_456_789 + (1 << 33)
    x[2] = B40                       # both limbs at their maximum
    x[5] = (1 << 20) + 77            # limb1 = 1, limb0 = 77
    x[6] = (1 << 20) - 1             # limb0 = 2^20 − 1 (a 16-bit limb could not hold it)
    return x


def test_wide_limbs_complete_and_next_value_rejected(gold, monkeypatch, with_range20):
    _with_w(monkeypatch)
    g, x = _w_graph(), _w_values()
    (rc,) = [c for c in rangelib._by_cost(_Ctx(g.tensors, gold.field),
                                          graphlib.static_range_checks(g, gold.registry))
             if c.tensor == "W"]
    assert rc.widths == (20, 20)
    prove_and_verify(g, {"W": x}, gold)
    bad = x.clone()
    bad[2] = 1 << 40
    msg = assert_rejected(g, {"W": bad}, gold, {}, lambda v: None)
    assert "range" in msg or "LogUp" in msg or "recompose" in msg, msg


@pytest.mark.parametrize("step", [1, -1])
def test_wide_limbs_carry_rejected(gold, monkeypatch, with_range20, step):
    """(L0 + step·2^20, L1 − step) recomposes to W (the identity at the random point
    holds); only L0's range20 lookup rejects it."""
    from zklora.zkcore.op import ProverContext

    _with_w(monkeypatch)
    g, x = _w_graph(), _w_values()
    orig = ProverContext.commit_advice
    seen = []

    def commit_advice(self, name, values, bound=None):
        if name in ("W/top/lo/limb0", "W/top/lo/limb1"):
            values = values.clone()
            # index 5: L1 = 1, L0 + 2^20; index 2: L0 = 2^20 − 1 and L1 = 2^20 − 1: L0 − 2^20
            # is negative, L1 + 1 = 2^20 — both outside range20
            i = 5 if step == 1 else 2
            values.reshape(-1)[i] += (step << 20) if name.endswith("limb0") else -step
            seen.append(name)
        return orig(self, name, values, bound)

    monkeypatch.setattr(ProverContext, "commit_advice", commit_advice)
    msg = assert_rejected(g, {"W": x}, gold, {}, lambda v: None)
    assert sorted(seen) == ["W/top/lo/limb0", "W/top/lo/limb1"]
    assert "range20" in msg or msg.startswith("lookups: LogUp sums differ"), msg


# -- a rescale whose Y is defined by wide limbs ----------------------------------------------

S = 4
Y_LO, Y_HI = -(1 << 33), (1 << 33) - 1          # 34 bits: limbs 20 + 14 (16 + 16 + 2)
X_MAX = (Y_HI << S) - 1


def limb_graph():
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-X_MAX, X_MAX))
    g.prove_bound("X")
    g.tensor("W", (4, 4), "committed", (-2, 2))
    g.prove_bound("W")
    add_rescale(g, "rs", "X", S, (Y_LO, Y_HI), y="Y", r="R")
    g.tensor("T", (4, 4), "virtual")
    g.op("matmul", "mm", ["Y", "W"], ["T"])
    add_rescale(g, "rz", "T", 2, (-(1 << 35), (1 << 35) - 1), y="Z", r="RZ")
    g.outputs = ["Z"]
    assert limb_outputs(g) == ["Y"]
    return g


def wit():
    gen = torch.Generator().manual_seed(7)
    x = torch.randint(-X_MAX, X_MAX + 1, (4, 4), generator=gen)
    x.reshape(-1)[3] = X_MAX          # Y = Y_HI: both limbs at their maximum
    x.reshape(-1)[6] = -X_MAX         # Y = Y_LO: both limbs 0
    return {"X": x, "W": torch.randint(-2, 3, (4, 4), generator=gen)}


def _relimb(v, idx):
    d = int(v["Y"].reshape(-1)[idx]) - Y_LO
    v["Y/L0"].reshape(-1)[idx] = d & ((1 << 20) - 1)
    v["Y/L1"].reshape(-1)[idx] = d >> 20          # 2^14 at the top: outside range14
    from zklora.zkcore.quant import rescale

    v["T"] = v["Y"] @ v["W"]
    v["Z"], v["RZ"] = rescale(v["T"], 2)


def test_wide_rescale_limbs_complete(gold, with_range20):
    g = limb_graph()
    node = find_node(g, "rs")
    assert node.params["limbs"] == [20, 14] and node.outputs[2:] == ("Y/L0", "Y/L1")
    assert g.tensors["Y/L0"].bound == (0, (1 << 20) - 1)
    lookups = graphlib.static_lookups(g, gold.registry)
    assert [(r.table.name, r.columns) for r in lookups if r.columns[0].startswith("Y/")] \
        == [("range20", ("Y/L0",)), ("range14", ("Y/L1",))]
    prove_and_verify(g, wit(), gold)
    v = graphlib.forward(g, wit(), gold.registry)
    assert torch.equal(v["Y/L0"] + (v["Y/L1"] << 20), v["Y"] - Y_LO)


@pytest.mark.parametrize("idx,dy", [(3, 1), (6, -1), (9, 1)])
def test_wide_rescale_next_value_rejected(gold, with_range20, idx, dy):
    """(Y + dy, R − dy·2^s) with the limbs recomputed: X unchanged, the limbs define Y;
    R's range rejects, at index 3 / 6 (top / bottom of the box) also the limbs'."""
    g = limb_graph()

    def tamper(v):
        v["Y"].reshape(-1)[idx] += dy
        v["R"].reshape(-1)[idx] -= dy << S
        _relimb(v, idx)

    msg = assert_rejected(g, wit(), gold, {}, tamper)
    assert "range" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


def test_wide_rescale_limb_carry_rejected(gold, with_range20):
    """(L0 + 2^20, L1 − 1) defines the same Y (L1 ≥ 1 at index 3): only L0's range20
    lookup rejects."""
    g = limb_graph()

    def tamper(v):
        v["Y/L0"].reshape(-1)[3] += 1 << 20
        v["Y/L1"].reshape(-1)[3] -= 1

    msg = assert_rejected(g, wit(), gold, {}, tamper)
    assert "range20" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


def test_train_graph_wide_limbs():
    """At the 25M shape the three-limb checks of 34, 37 and 40 bits (SwiGLU's Y, the
    RMSNorm backward's nc and w) have two limbs, the 26-bit ones keep (16, 10)."""
    from tests.bench.work_counts import graph_of

    g = graph_of((512, 1024, 8, 4096, 16), 1, 64)
    got = {n.name: n.params.get("limbs") for n in g.nodes if n.op == "rescale"}
    assert got["s0/l0.mlp/Y/rescale"] == [20, 14]
    assert got["s0/l1.ln1.bwd/nc/rescale"] == [20, 17]
    assert got["s0/l1.ln1.bwd/w/rescale"] == [20, 20]
    assert got["s0/l0.down/out"] == [16, 10]
