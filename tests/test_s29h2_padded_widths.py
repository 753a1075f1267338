"""Limb widths by padded cost (issue 13, `range.choose_widths`, `rescale._padded_widths`).

All uses of a table share one looked-up column, padded to a power of two, and the lookup
argument groups the padded columns into at most three power-of-two trees
(`logup_gkr.lookup_groups`).  `rescale.limb_outputs` re-chooses the widths of the limbs
that define virtual Ys / Rs (any widths of at most 20 bits adding up to the box's B) so
that the padded totals drop.  The box proven is the same (docs/soundness.md §2.1, "wide
limbs"): completeness at the box's ends, the first value outside rejected, and the carry
(L0 + 2^w0, L1 − 1) — the next decomposition of the same Y — rejected by L0's own lookup
(and accepted once that lookup is removed: the test can fail)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.lookups.logup_gkr import MAX_LOOKUP_TREES, lookup_groups
from zklora.plugins.ops import rescale as rescalelib
from zklora.plugins.ops.rescale import limb_outputs
from zklora.zkcore import graph as graphlib
from zklora.zkcore import range as rangelib
from zklora.zkcore.build import add_rescale, find_node
from zklora.zkcore.graph import Graph
from zklora.zkcore.stack import StackLayout
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

from .conftest import backend_for


@pytest.fixture
def gold(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


# -- the cost rule -------------------------------------------------------------------------

def test_padded_and_tree_leaves_match_the_argument():
    assert [rangelib.padded(n) for n in (0, 1, 2, 3, 5, 1 << 20, (1 << 20) + 1)] == \
        [0, 1, 2, 4, 8, 1 << 20, 1 << 21]
    assert rangelib.LOOKUP_TREES == MAX_LOOKUP_TREES
    for sizes in ([1 << 26, 1 << 21, 1 << 19, 1 << 19], [1 << 25, 1 << 24, 1 << 23, 1 << 10],
                  [1 << 25, 1 << 24, 1 << 23, 1 << 22, 1 << 2], [8], [4, 4, 2, 1, 1, 1],
                  [1 << 25] * 3 + [1 << 20] * 5):
        groups = lookup_groups(sizes, MAX_LOOKUP_TREES)
        real = sum(StackLayout([sizes[i] for i in grp]).size for grp in groups)
        assert rangelib.tree_leaves(sum(sizes)) == real, sizes
    assert rangelib.tree_leaves(0) == 0


def test_choose_widths_empties_a_half_filled_column():
    # range10 holds 2^20 + 2^16 rows (padded 2^21): moving 2^17 entries of (16, 10) to
    # (17, 9) halves it, range17 and range9 have room
    rows = {"range16": 3 << 20, "range10": (1 << 20) + (1 << 16), "range17": 1 << 18,
            "range9": 1 << 16}
    sizes = {f"range{w}": 1 << w for w in (16, 10, 17, 9)}
    items = [(1 << 17, (16, 10))] + [(1 << 10, (16, 10))] * 4
    fixed = {t: n - sum(e for e, _ in items) if t in ("range16", "range10") else n
             for t, n in rows.items()}
    before = rangelib.lookup_cost(rows, sizes)
    got = rangelib.choose_widths(items, fixed, sizes, min_share=0, most=3)
    # the saving (2^20 of ~2^23) is under `MIN_SHARE` of the modelled cost: kept as is
    assert rangelib.choose_widths(items, fixed, sizes, most=3) == [w for _, w in items]
    assert all(sum(w) == 26 and max(w) <= rangelib.DIRECT_MAX_BITS for w in got)
    assert got[0] != (16, 10)
    after = dict(fixed)
    for (n, _), w in zip(items, got):
        for x in w:
            after[f"range{x}"] = after.get(f"range{x}", 0) + n
            sizes.setdefault(f"range{x}", 1 << x)
    assert rangelib.padded(after["range10"]) <= 1 << 20
    assert rangelib.lookup_cost(after, sizes) <= before - rangelib.MIN_GAIN
    # nothing to gain (columns full or gains below MIN_GAIN): the widths stay
    full = {"range16": (1 << 20) - 16, "range10": (1 << 20) - 16}
    assert rangelib.choose_widths([(16, (16, 10))], full,
                                  {"range16": 1 << 16, "range10": 1 << 10}) == [(16, 10)]
    # ... but a table only these limbs use is dropped where that pays: 2^16 table rows
    # and multiplicities against range13's 2^13
    assert rangelib.choose_widths([(16, (16, 10))], {"range16": 0, "range10": 0},
                                  {"range16": 1 << 16, "range10": 1 << 10}) == [(13, 13)]
    assert rangelib.choose_widths(items, fixed, sizes, min_gain=1 << 40, min_share=0) == \
        [w for _, w in items]


def test_options_cover_the_box():
    for B, w in ((26, (16, 10)), (34, (16, 16, 2)), (51, (16, 16, 16, 3)), (20, (16, 4))):
        opts = rangelib._options(B, w)
        assert opts[0] == w and len(set(opts)) == len(opts)
        assert all(sum(o) == B and max(o) <= 20 and min(o) >= 1 and len(o) <= len(w)
                   for o in opts)
        assert all(list(o) == sorted(o, reverse=True) for o in opts[1:])
    assert (20, 14) in rangelib._options(34, (16, 16, 2))
    assert (17, 17, 17) in rangelib._options(51, (16, 16, 16, 3))


# -- a rescale whose Y is defined by limbs of the chosen widths -------------------------------

S = 4
Y_LO, Y_HI = -(1 << 33), (1 << 33) - 1          # 34 bits (16 + 16 + 2 by the range check)
X_MAX = (Y_HI << S) - 1


def limb_graph(monkeypatch, widths):
    """``widths`` forced for the 34-bit Y (as `choose_widths` would at a large shape)."""
    def forced(items, rows, sizes, **kw):
        return [tuple(widths) if sum(w) == 34 else tuple(w) for _, w in items]

    monkeypatch.setattr(rangelib, "choose_widths", forced)
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
    x.reshape(-1)[3] = X_MAX          # Y = Y_HI: every limb at its maximum
    x.reshape(-1)[6] = -X_MAX         # Y = Y_LO: every limb 0
    return {"X": x, "W": torch.randint(-2, 3, (4, 4), generator=gen)}


def _relimb(v, idx, widths):
    d, o = int(v["Y"].reshape(-1)[idx]) - Y_LO, 0
    for j, w in enumerate(widths):
        # the top limb keeps the carry: 2^w at the top is outside range(w)
        v[f"Y/L{j}"].reshape(-1)[idx] = (d >> o) if j == len(widths) - 1 else \
            (d >> o) & ((1 << w) - 1)
        o += w
    from zklora.zkcore.quant import rescale

    v["T"] = v["Y"] @ v["W"]
    v["Z"], v["RZ"] = rescale(v["T"], 2)


WIDTHS = [(20, 14), (17, 17), (18, 16), (12, 12, 10)]


@pytest.mark.parametrize("widths", WIDTHS)
def test_rescale_limbs_complete(gold, monkeypatch, widths):
    g = limb_graph(monkeypatch, widths)
    node = find_node(g, "rs")
    names = tuple(f"Y/L{j}" for j in range(len(widths)))
    assert tuple(node.params["limbs"]) == widths and node.outputs[2:] == names
    assert [g.tensors[n].bound for n in names] == [(0, (1 << w) - 1) for w in widths]
    # the limbs keep their place among the tensors, the old names are gone
    order = list(g.tensors)
    assert order[order.index("Y/L0"):order.index("Y/L0") + len(widths)] == list(names)
    assert not any(n.startswith("Y/L") and n not in names for n in g.tensors)
    lookups = graphlib.static_lookups(g, gold.registry)
    assert [(r.table.name, r.columns) for r in lookups if r.columns[0].startswith("Y/")] \
        == [(f"range{w}", (n,)) for w, n in zip(widths, names)]
    prove_and_verify(g, wit(), gold)
    v = graphlib.forward(g, wit(), gold.registry)
    o, acc = 0, torch.zeros_like(v["Y"])
    for j, w in enumerate(widths):
        assert int(v[f"Y/L{j}"].min()) >= 0 and int(v[f"Y/L{j}"].max()) < 1 << w
        acc += v[f"Y/L{j}"] << o
        o += w
    assert torch.equal(acc, v["Y"] - Y_LO)


@pytest.mark.parametrize("widths", WIDTHS[:2])
@pytest.mark.parametrize("idx,dy", [(3, 1), (6, -1), (9, 1)])
def test_rescale_next_value_rejected(gold, monkeypatch, widths, idx, dy):
    """(Y + dy, R − dy·2^s) with the limbs recomputed: X unchanged, the limbs define Y;
    R's range rejects, at index 3 / 6 (top / bottom of the box) also the limbs'."""
    g = limb_graph(monkeypatch, widths)

    def tamper(v):
        v["Y"].reshape(-1)[idx] += dy
        v["R"].reshape(-1)[idx] -= dy << S
        _relimb(v, idx, widths)

    msg = assert_rejected(g, wit(), gold, {}, tamper)
    assert "range" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


def _carry(v, widths):
    """(L0 + 2^w0, L1 − 1) at index 3 (L1 at its maximum ≥ 1): the same Y."""
    v["Y/L0"].reshape(-1)[3] += 1 << widths[0]
    v["Y/L1"].reshape(-1)[3] -= 1


@pytest.mark.parametrize("widths", WIDTHS)
def test_rescale_limb_carry_rejected(gold, monkeypatch, widths):
    """The carry defines the same Y: only L0's range(w0) lookup rejects it."""
    g = limb_graph(monkeypatch, widths)
    msg = assert_rejected(g, wit(), gold, {}, lambda v: _carry(v, widths))
    assert f"range{widths[0]}" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


def test_carry_accepted_without_the_limb_lookup(gold, monkeypatch):
    """Mutation check: with L0's lookup dropped the carried limbs verify, so the carry
    test above is what rejects it."""
    widths = (20, 14)
    g = limb_graph(monkeypatch, widths)
    orig = rescalelib.Rescale.lookups

    def lookups(self, node, p, specs):
        return [r for r in orig(self, node, p, specs) if r.columns != ("Y/L0",)]

    monkeypatch.setattr(rescalelib.Rescale, "lookups", lookups)
    with pytest.raises(AssertionError):
        assert_rejected(g, wit(), gold, {}, lambda v: _carry(v, widths))


# -- the training graphs -------------------------------------------------------------------

def _cost(g, reg):
    shapes = rescalelib._Shapes(g.tensors)
    rows, sizes = {}, {}
    for rc in rangelib._by_cost(shapes, graphlib.static_range_checks(g, reg)):
        B, widths, sides = rangelib._plan(shapes.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
        for side, _ in sides:
            ts = [rangelib._table_for(side, rc.lo, rc.hi, B)] \
                if rangelib._direct(shapes, rc.tensor, B, rc.limb_bits) else \
                [rangelib.range_table(w) for w in widths]
            for t in ts:
                rows[t.name] = rows.get(t.name, 0) + g.tensors[rc.tensor].size
                sizes[t.name] = t.size
    for r in graphlib.static_lookups(g, reg):
        rows[r.table.name] = rows.get(r.table.name, 0) + g.tensors[r.columns[0]].size
        sizes[r.table.name] = r.table.size
    limbs = sum(g.tensors[t].size for n in g.nodes if n.op == "rescale"
                for t in n.outputs[2:])
    return rangelib.lookup_cost(rows, sizes), rows, limbs


SHAPES = {"tiny": (None, 1, 16), "25m": ((512, 1024, 8, 4096, 16), 1, 64),
          "84m": ((1024, 4096, 4, 8192, 32), 1, 32)}


@pytest.mark.parametrize("size", ["tiny", "84m"])
def test_train_graph_padded_cost_drops(reg, monkeypatch, size):
    """The tiny step and the 84M shape: fewer lookup leaves than with the range checks'
    own widths (`choose_widths` switched off), no more looked-up rows."""
    from tests.bench.work_counts import graph_of

    new = _cost(graph_of(*SHAPES[size]), reg)
    monkeypatch.setattr(rangelib, "choose_widths", lambda items, *a, **k: [w for _, w in items])
    old = _cost(graph_of(*SHAPES[size]), reg)
    assert new[0] <= old[0] - rangelib.MIN_GAIN
    assert sum(new[1].values()) <= sum(old[1].values())
    if size == "84m":   # range16's column halved (2^25 -> 2^24 rows)
        assert rangelib.padded(old[1]["range16"]) == 1 << 25
        assert rangelib.padded(new[1]["range16"]) == 1 << 24


def test_25m_widths_unchanged(reg, monkeypatch):
    """At the 25M shape the best the search finds saves < `MIN_SHARE` of the modelled
    cost (range10's column halved, range20's doubled: slower in the whole prove), so the
    graph keeps the range checks' widths; with no share required it moves."""
    from tests.bench.work_counts import graph_of

    def widths(g):
        return {n.name: (tuple(n.params.get("limbs", ())), tuple(n.params.get("r_limbs", ())))
                for n in g.nodes if n.op == "rescale"}

    got = widths(graph_of(*SHAPES["25m"]))
    orig = rangelib.choose_widths
    monkeypatch.setattr(rangelib, "choose_widths", lambda items, *a, **k: [w for _, w in items])
    assert got == widths(graph_of(*SHAPES["25m"]))
    monkeypatch.setattr(rangelib, "choose_widths",
                        lambda *a, **k: orig(*a, **{**k, "min_share": 0}))
    moved = widths(graph_of(*SHAPES["25m"]))
    # (three lookup trees: 20 + 14; four: 18 + 16)
    assert moved != got and moved["s0/l0.mlp/Y/rescale"][0] in ((20, 14), (18, 16))
