"""Range checks' limb widths by padded cost at prove time (issue 13, `range.padded_checks`).

With `range.PADDED_CHECKS` on, the commitment phase (`graph._schedule`) hands
`range.padded_checks` the column totals of every static op lookup, so the static range
checks' limbs get widths (up to
`range.DIRECT_MAX_BITS` bits, at least two limbs) by the same padded rule as the limbs of
virtual Ys (`range.choose_widths`).  Both sides derive the widths from the graph.  The box
proven is the same (docs/soundness.md §2.1, "wide limbs"): completeness at the box's
ends, the first value outside rejected, and the carry (L0 + 2^w0, L1 − 1) — the next
decomposition of the same value — rejected by L0's own lookup (and accepted once that
lookup is removed: the test can fail)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.rescale import _Shapes
from zklora.zkcore import graph as graphlib
from zklora.zkcore import range as rangelib
from zklora.zkcore.graph import Graph
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

from .conftest import backend_for


@pytest.fixture
def gold(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


def _w_graph(n: int):
    g = Graph()
    g.tensor("W", (n,), "committed")      # bounded by the check added below only
    g.outputs = ["W"]
    return g


# -- the choice ----------------------------------------------------------------------------

def _columns(ctx, checks, lookups):
    rows = {t: n for t, (n, _) in lookups.items()}
    for rc in rangelib._by_cost(ctx, checks):
        B, limbs, sides = rangelib._plan(ctx.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
        for side, _ in sides:
            names = [rangelib._table_for(side, rc.lo, rc.hi, B).name] \
                if rangelib._direct(ctx, rc.tensor, B, rc.limb_bits) else \
                [f"range{w}" for w in limbs]
            for t in names:
                rows[t] = rows.get(t, 0) + ctx.spec(rc.tensor).size
    return rows


def test_padded_checks_empty_a_half_filled_column():
    """range10 holds 2^20 + 2^16 rows with W's 2^17 top limbs (padded 2^21): W's widths
    move so that its column is halved (into range13, which has room: the tables stay the
    same); the widths prove the same 26 bits in ≥ 2 limbs of
    at most 20; the lookup cost drops by at least `MIN_GAIN`."""
    g = _w_graph(1 << 17)
    ctx = _Shapes(g.tensors)
    checks = [RangeCheck("W", 0, (1 << 26) - 1, "w")]
    lookups = {"range16": (3 << 20, 1 << 16), "range10": ((1 << 20) - (1 << 16), 1 << 10),
               "range13": (1 << 18, 1 << 13)}
    (rc,) = rangelib.padded_checks(ctx, checks, lookups)
    assert rc.widths and sum(rc.widths) == 26 and len(rc.widths) >= 2
    assert max(rc.widths) <= min(rangelib.DIRECT_MAX_BITS, rc.limb_bits)
    assert rangelib._plan(ctx.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)[1] == list(rc.widths)
    before, after = _columns(ctx, checks, lookups), _columns(ctx, [rc], lookups)
    assert rangelib.padded(before["range10"]) == 1 << 21
    assert rangelib.padded(after.get("range10", 0)) <= 1 << 20
    sizes = {t: 1 << int(t[5:]) if t[5:].isdigit() else 0 for t in {*before, *after}}
    assert rangelib.lookup_cost(after, sizes) + (1 << 17) * len(rc.widths) <= \
        rangelib.lookup_cost(before, sizes) + (1 << 17) * 2 - rangelib.MIN_GAIN
    # padded_checks lays the checks out as `_by_cost` (direct where that pays) first
    assert rangelib._by_cost(ctx, [rc]) == [rc]


def test_padded_checks_keep_small_and_direct_checks():
    """Nothing to gain (8 elements: below `MIN_GAIN`), a direct check, no limbed check:
    the checks as `_by_cost` lays them out."""
    g = _w_graph(8)
    g.tensor("E", (1 << 17,), "committed")
    ctx = _Shapes(g.tensors)
    checks = [RangeCheck("W", 0, (1 << 31) - 1, "w"), RangeCheck("E", 0, (1 << 17) - 1, "e")]
    others = {"range10": (5 << 18, 1 << 10), "range16": ((1 << 20) - 64, 1 << 16)}
    assert rangelib.padded_checks(ctx, checks, others) == rangelib._by_cost(ctx, checks)
    # no table is dropped or added: with range16 only W's, W keeps 16 + 8 + 7
    assert rangelib.padded_checks(ctx, checks, {"range10": (5 << 18, 1 << 10)}) == \
        rangelib._by_cost(ctx, checks)
    assert rangelib.padded_checks(ctx, checks[1:], {}) == rangelib._by_cost(ctx, checks[1:])
    assert rangelib._by_cost(ctx, checks[1:])[0].limb_bits == 17      # direct


def test_options_with_min_limbs():
    assert (20,) in rangelib._options(20, (16, 4))
    opts = rangelib._options(20, (16, 4), min_limbs=2)
    assert (20,) not in opts and (10, 10) in opts and opts[0] == (16, 4)
    assert all(len(o) >= 2 and sum(o) == 20 for o in opts)


# -- a range check whose limbs have the chosen widths -----------------------------------------

B31 = (1 << 31) - 1


def _forced(monkeypatch, widths, lo=0, hi=B31):
    """W ∈ [lo, hi] checked with limbs ``widths`` (as `padded_checks` chooses them at a
    large shape)."""
    orig = graphlib.static_range_checks

    def with_w(graph, registry, error=None):
        out = orig(graph, registry) if error is None else orig(graph, registry, error)
        return out + [RangeCheck("W", lo, hi, "W/top")]

    def forced(items, rows, sizes, **kw):
        return [tuple(widths) if sum(w) == sum(widths) else tuple(w) for _, w in items]

    monkeypatch.setattr(graphlib, "static_range_checks", with_w)
    monkeypatch.setattr(rangelib, "choose_widths", forced)
    monkeypatch.setattr(rangelib, "PADDED_CHECKS", True)


def _w_values():
    x = torch.arange(8) * 123_457 + (1 << 24)
    x[2] = B31                       # every limb at its maximum
    x[5] = (1 << 24) + 77
    x[6] = 0                         # every limb 0
    return x


WIDTHS = [(20, 11), (16, 15), (11, 10, 10)]


@pytest.mark.parametrize("widths", WIDTHS)
def test_chosen_widths_complete_and_next_value_rejected(gold, monkeypatch, widths):
    _forced(monkeypatch, widths)
    g, x = _w_graph(8), _w_values()
    names = []
    from zklora.zkcore.op import ProverContext

    orig = ProverContext.require_lookup

    def require_lookup(self, table, columns, label):
        if label.startswith("W/top"):
            names.append((table.name, label))
        return orig(self, table, columns, label)

    monkeypatch.setattr(ProverContext, "require_lookup", require_lookup)
    prove_and_verify(g, {"W": x}, gold)
    assert names == [(f"range{w}", f"W/top/lo/limb{j}") for j, w in enumerate(widths)]
    bad = x.clone()
    bad[2] = 1 << 31
    msg = assert_rejected(g, {"W": bad}, gold, {}, lambda v: None)
    assert "range" in msg or "LogUp" in msg or "recompose" in msg, msg


def test_chosen_widths_two_sided(gold, monkeypatch):
    """[−5, 2^31 − 11] (not a power of two): both sides' limbs have the chosen widths;
    hi + 1 and lo − 1 rejected."""
    lo, hi = -5, B31 - 10
    _forced(monkeypatch, (20, 11), lo, hi)
    g = _w_graph(8)
    x = torch.arange(8) * 1000
    x[1], x[2] = lo, hi
    prove_and_verify(g, {"W": x}, gold)
    for i, v in ((2, hi + 1), (1, lo - 1)):
        bad = x.clone()
        bad[i] = v
        msg = assert_rejected(g, {"W": bad}, gold, {}, lambda v: None)
        assert "range" in msg or "LogUp" in msg or "recompose" in msg, msg


def _carry_tamper(monkeypatch, w0):
    """(L0 + 2^w0, L1 − 1) at index 5 (L1 ≥ 1 there): the same W."""
    from zklora.zkcore.op import ProverContext

    orig = ProverContext.commit_advice
    seen = []

    def commit_advice(self, name, values, bound=None):
        if name in ("W/top/lo/limb0", "W/top/lo/limb1"):
            values = values.clone()
            values.reshape(-1)[5] += (1 << w0) if name.endswith("limb0") else -1
            seen.append(name)
        return orig(self, name, values, bound)

    monkeypatch.setattr(ProverContext, "commit_advice", commit_advice)
    return seen


@pytest.mark.parametrize("widths", WIDTHS[:2])
def test_chosen_widths_carry_rejected(gold, monkeypatch, widths):
    """The carry recomposes to W; only L0's range(w0) lookup rejects it."""
    _forced(monkeypatch, widths)
    seen = _carry_tamper(monkeypatch, widths[0])
    msg = assert_rejected(g := _w_graph(8), {"W": _w_values()}, gold, {}, lambda v: None)
    assert sorted(seen) == ["W/top/lo/limb0", "W/top/lo/limb1"] and g
    assert f"range{widths[0]}" in msg or msg.startswith("lookups: LogUp sums differ"), msg


def test_carry_accepted_without_the_limb_lookup(gold, monkeypatch):
    """Mutation check: with L0's lookup dropped the carried limbs verify, so the carry
    test above is what rejects it."""
    from zklora.zkcore.op import ProverContext, VerifierContext

    _forced(monkeypatch, (20, 11))
    _carry_tamper(monkeypatch, 20)
    for C in (ProverContext, VerifierContext):
        orig = C.require_lookup

        def require_lookup(self, table, columns, label, _orig=orig):
            if label == "W/top/lo/limb0":
                return None
            return _orig(self, table, columns, label)

        monkeypatch.setattr(C, "require_lookup", require_lookup)
    with pytest.raises(AssertionError):
        assert_rejected(_w_graph(8), {"W": _w_values()}, gold, {}, lambda v: None)


# -- the training graphs -------------------------------------------------------------------

SHAPES = {"25m": ((512, 1024, 8, 4096, 16), 1, 64), "84m": ((1024, 4096, 4, 8192, 32), 1, 32)}


def _layout(g, reg, choose: bool):
    ctx = _Shapes(g.tensors)
    ops = graphlib.static_lookups(g, reg)
    tot: dict[str, tuple[int, int]] = {}
    for r in ops:
        n, _ = tot.get(r.table.name, (0, 0))
        tot[r.table.name] = (n + g.tensors[r.columns[0]].size, r.table.size)
    checks = graphlib.static_range_checks(g, reg)
    if choose:
        checks = rangelib.padded_checks(ctx, checks, tot)
    return _columns(ctx, checks, tot)


@pytest.mark.parametrize("size", ["25m", "84m"])
def test_train_graph_padded_rows_drop(reg, size):
    """At the 25M and 84M shapes the prove-time choice pads fewer rows and its lookup
    trees have fewer leaves; at 25M range10's column is halved."""
    from tests.bench.work_counts import graph_of

    g = graph_of(*SHAPES[size])
    old, new = _layout(g, reg, False), _layout(g, reg, True)
    S0 = sum(rangelib.padded(n) for n in old.values())
    S1 = sum(rangelib.padded(n) for n in new.values())
    assert S1 < S0 and rangelib.tree_leaves(S1) < rangelib.tree_leaves(S0)
    if size == "25m":
        assert rangelib.padded(old["range10"]) == 1 << 24
        assert rangelib.padded(new["range10"]) <= 1 << 23
