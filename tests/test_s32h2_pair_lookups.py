"""Pairs of one-column range lookups as one two-column lookup (issue 13, `range.pair_lookups`).

`range.RangePairTable(a, lo_a, b, lo_b)` holds every pair (x, y) ∈ [lo_a, lo_a + 2^a) ×
[lo_b, lo_b + 2^b); `range.pair_lookups` merges two range lookups of the same column size
into one lookup of (column 1, column 2) in it where that empties padded columns.  A pair
row proves both ranges (docs/soundness.md §2.2, "Pair range tables"): the table checks,
a graph whose two checks' top limbs are paired proves and verifies at the ranges' ends,
and a top limb one past its own width (in range of the wider column, and of the pair's
a + b bits) is rejected by the pair's lookup."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import mle
from zklora.zkcore import range as rangelib
from zklora.zkcore.graph import Graph
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.range import RangeCheck, RangePairTable, range_pair_table, range_table
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

from .conftest import backend_for


@pytest.fixture
def gold(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


# -- the table -----------------------------------------------------------------------------

@pytest.mark.parametrize("a,lo_a,b,lo_b", [(2, 0, 6, 0), (3, -4, 5, 7), (1, 0, 1, 0),
                                           (4, 0, 0, 0)])
def test_pair_table_rows_mle_locate(reg, a, lo_a, b, lo_b):
    F = reg.field("goldilocks")
    t = RangePairTable(a, lo_a, b, lo_b)
    x, y = t.columns()
    assert t.size == 1 << (a + b) and t.width == 2
    # every pair exactly once
    pairs = set(zip(x.tolist(), y.tolist()))
    assert pairs == {(i, j) for i in range(lo_a, lo_a + (1 << a))
                     for j in range(lo_b, lo_b + (1 << b))}
    assert len(pairs) == t.size
    # the O(bits) MLEs equal the columns' MLEs (a random point and the corners)
    rng = np.random.default_rng(a * 100 + b)
    for point in (F.from_ints(rng.integers(0, 1 << 62, a + b)),
                  F.from_ints(np.zeros(a + b, np.int64)), F.from_ints(np.ones(a + b, np.int64))):
        got = t.evaluate(F, point)
        for k, col in enumerate((x, y)):
            assert F.equal(got[k], mle.evaluate(F, F.from_ints(col), point))
    # locate: every row at its index; the first value outside each side is −1
    assert np.array_equal(t.locate([x, y]), np.arange(t.size))
    hi_a, hi_b = lo_a + (1 << a) - 1, lo_b + (1 << b) - 1
    q = t.locate([np.array([lo_a, hi_a, lo_a - 1, hi_a + 1, lo_a, lo_a, hi_a]),
                  np.array([lo_b, hi_b, lo_b, lo_b, lo_b - 1, hi_b + 1, hi_b])])
    assert q.tolist() == [0, t.size - 1, -1, -1, -1, -1, t.size - 1]
    assert "outside" in t.explain((hi_a + 1, lo_b))
    assert range_pair_table(a, lo_a, b, lo_b) is range_pair_table(a, lo_a, b, lo_b)


def test_pair_table_goldilocks_edges(reg):
    """Values p − 1, p − 2 (i.e. −1, −2 as field elements) are not rows of a table at 0."""
    t = RangePairTable(2, 0, 6, 0)
    p = reg.field("goldilocks").p
    q = t.locate([np.array([-1, -2, 0, 1]), np.array([0, 0, -1, -2])])
    assert q.tolist() == [-1, -1, -1, -1]
    assert p > 0


# -- the pairing rule ------------------------------------------------------------------------

def _req(t, name, label):
    return LookupRequest(t, (name,), label)


def test_pair_lookups_empties_a_padded_column():
    """range2 holds 12 × 2^16 rows (padded 2^20); pairing 4 × 2 of its 2^16 requests
    into range2×range2 leaves 4 × 2^16 (padded 2^18) and puts 4 × 2^16 into the pair:
    −2^19 + 2^18 padded leaves; every column keeps its own range."""
    sizes = {f"y{i}": 1 << 16 for i in range(12)} | {"big": 1 << 22}
    reqs = [_req(range_table(16), "big", "big")] + \
        [_req(range_table(2), f"y{i}", f"y{i}/L2") for i in range(12)]
    out = rangelib.pair_lookups(reqs, sizes.__getitem__, most=4)
    pairs = [r for r in out if isinstance(r.table, RangePairTable)]
    assert pairs and all(r.table.name == "range2xrange2" for r in pairs)
    rows = lambda rs, t: sum(sizes[r.columns[0]] for r in rs if r.table.name == t)  # noqa: E731
    assert rangelib.padded(rows(out, "range2")) + rangelib.padded(rows(out, "range2xrange2")) \
        < rangelib.padded(rows(reqs, "range2"))
    # each column exactly once, in a table that pins it to the same range
    seen = {}
    for r in out:
        if isinstance(r.table, RangePairTable):
            seen[r.columns[0]] = (r.table.bits_a, r.table.lo_a)
            seen[r.columns[1]] = (r.table.bits_b, r.table.lo_b)
        else:
            assert r.columns[0] not in seen
            seen[r.columns[0]] = (r.table.num_vars, r.table.lo)
    assert seen == {r.columns[0]: (r.table.num_vars, r.table.lo) for r in reqs}
    assert len(out) == len(reqs) - len(pairs)
    # deterministic; nothing below the gain threshold; nothing wider than max_bits
    assert rangelib.pair_lookups(reqs, sizes.__getitem__, most=4) == out
    assert rangelib.pair_lookups(reqs, sizes.__getitem__, min_gain=1 << 30) == reqs
    assert rangelib.pair_lookups(reqs, sizes.__getitem__, max_bits=3) == reqs


def test_pair_lookups_sizes_and_offsets():
    """Only columns of one size pair; offset tables keep their offsets, the narrower
    (bits, lo) first."""
    sizes = {"a": 8, "b": 8, "c": 16}
    reqs = [_req(range_table(6, -1), "a", "a"), _req(range_table(1), "b", "b"),
            _req(range_table(1), "c", "c")]
    out = rangelib.pair_lookups(reqs, sizes.__getitem__, min_gain=-(1 << 40))
    (pair,) = [r for r in out if isinstance(r.table, RangePairTable)]
    assert pair.columns == ("b", "a") and pair.label == "b&a"
    assert (pair.table.bits_a, pair.table.lo_a, pair.table.bits_b, pair.table.lo_b) == (1, 0, 6, -1)
    assert [r.columns for r in out if not isinstance(r.table, RangePairTable)] == [("c",)]


# -- proving with paired top limbs -----------------------------------------------------------

def _graph():
    g = Graph()
    g.tensor("W", (64,), "committed")     # 64 elements: `_split_tops` keeps the tops
    g.tensor("V", (64,), "committed")
    g.outputs = ["W", "V"]
    return g


def _paired(monkeypatch):
    """W ∈ [0, 2^20) (limbs 16 + 4), V ∈ [0, 2^22) (16 + 6); every pair that can form is
    formed (the gain threshold far below zero), on both sides."""
    orig = graphlib.static_range_checks

    def with_wv(graph, registry, error=None):
        out = orig(graph, registry) if error is None else orig(graph, registry, error)
        return out + [RangeCheck("W", 0, (1 << 20) - 1, "W/top"),
                      RangeCheck("V", 0, (1 << 22) - 1, "V/top")]

    made = []
    commit = graphlib._commit_lookups

    def paired(ctx, backend, requests):
        out = rangelib.pair_lookups(requests, lambda c: ctx.spec(c).size,
                                    min_gain=-(1 << 40))
        made.append(sorted((r.table.name, r.columns) for r in out
                           if isinstance(r.table, RangePairTable)))
        return commit(ctx, backend, out)

    monkeypatch.setattr(graphlib, "static_range_checks", with_wv)
    monkeypatch.setattr(graphlib, "_commit_lookups", paired)
    return made


def _values():
    w = torch.arange(64) * 16_001
    v = torch.arange(64) * 65_011
    w[2], v[2] = (1 << 20) - 1, (1 << 22) - 1        # every limb at its maximum
    w[6], v[6] = 0, 0
    return {"W": w, "V": v}


def test_paired_limbs_complete(gold, monkeypatch):
    made = _paired(monkeypatch)
    prove_and_verify(_graph(), _values(), gold)
    assert made and all(m == made[0] for m in made)
    assert ("range4xrange6", ("W/top/lo/limb1", "V/top/lo/limb1")) in made[0]


@pytest.mark.parametrize("name,top", [("W", 16), ("V", 64)])
def test_paired_top_one_past_its_width_rejected(gold, monkeypatch, name, top):
    """W = 2^20 with its top limb 16 (limb 0 = 0: the limbs recompose): 16 is a range6
    value and the pair's 10-bit index is in range, but (16, ·) is not a row of
    range4×range6; V = 2^22 with top 64 likewise."""
    from zklora.zkcore.op import ProverContext

    _paired(monkeypatch)
    orig = ProverContext.commit_advice
    seen = []

    def commit_advice(self, n, values, bound=None):
        if n == f"{name}/top/lo/limb1":
            values = values.clone()
            values.reshape(-1)[5] = top
            seen.append(n)
        return orig(self, n, values, bound)

    monkeypatch.setattr(ProverContext, "commit_advice", commit_advice)
    x = _values()
    x[name] = x[name].clone()
    x[name][5] = top << 16
    msg = assert_rejected(_graph(), x, gold, {}, lambda v: None)
    assert seen, "the limb was not tampered"
    assert "recompose" not in msg, msg
    assert "range4xrange6" in msg or msg.startswith("lookups: LogUp"), msg


def test_switch_off_by_default_and_on_verifies(monkeypatch):
    """`range.PAIR_LOOKUPS` is read by `graph._schedule` on both sides: off (the default)
    the tiny model's proof has no pair table; on, the prover and the verifier pair the
    same lookups, the proof verifies and differs from the default one, and a verifier
    that does not pair rejects it."""
    from zklora.zkcore import pyapi
    from zklora.zkcore.errors import ZkLoraError

    assert rangelib.PAIR_LOOKUPS is False
    seen = []
    orig = rangelib.pair_lookups

    def spy(requests, size_of, **kw):
        out = orig(requests, size_of, **kw)
        seen.append(sum(isinstance(r.table, RangePairTable) for r in out))
        return out

    monkeypatch.setattr(rangelib, "pair_lookups", spy)
    off = pyapi.prove(task="train", model="tiny", zero_knowledge=False).data
    assert not seen
    monkeypatch.setattr(rangelib, "PAIR_LOOKUPS", True)
    on = pyapi.prove(task="train", model="tiny", zero_knowledge=False).data
    assert seen and seen[0] > 0 and all(s == seen[0] for s in seen)
    assert on != off
    pyapi.verify(on)
    monkeypatch.setattr(rangelib, "PAIR_LOOKUPS", False)
    with pytest.raises(ZkLoraError):
        pyapi.verify(on)
