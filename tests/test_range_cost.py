"""Range checks cut by cost (issue 13), each with the next admissible value rejected:

* a rescale whose declared bound of Y is derived from X's (``derived=True``) checks Y
  one-sided in [lo, lo + 2^B) instead of two-sided in [lo, hi] (docs/soundness.md §3.1):
  the pair moved to its next admissible value (Y ± 1, R ∓ 2^s) — Y even past hi, inside
  the wider box — is rejected by R's range check;
* a direct range check wider than `LIMB_BITS` into a table larger than the entries it
  serves uses `LIMB_BITS`-bit limbs instead (`range._by_cost`): the interval proven is
  the same, a value just outside it is rejected.
"""

from __future__ import annotations

import attrs
import pytest
import torch

from zklora.plugins.ops.rescale import WIDEN_LIMIT, checked_bound
from zklora.zkcore import graph as graphlib
from zklora.zkcore import range as rangelib
from zklora.zkcore.build import add_rescale
from zklora.zkcore.graph import Graph
from zklora.zkcore.range import LIMB_BITS, RangeCheck
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

from .conftest import backend_for

S = 4
X_MAX = 1 << 20
# the image of [−X_MAX, X_MAX] under ⌊(x + 2^(S−1))/2^S⌋: width 2^17 + 1, not a power of two
Y_LO, Y_HI = (-X_MAX + 8) >> S, (X_MAX + 8) >> S


@pytest.fixture
def gold(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


def derived_graph(derived: bool = True):
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-X_MAX, X_MAX))
    g.prove_bound("X")
    add_rescale(g, "rs", "X", S, (Y_LO, Y_HI), y="Y", r="R", derived=derived)
    g.outputs = ["Y"]
    return g


def wit():
    gen = torch.Generator().manual_seed(5)
    x = torch.randint(-X_MAX, X_MAX + 1, (4, 4), generator=gen)
    x.reshape(-1)[3] = X_MAX          # Y = Y_HI there: the next value is past hi
    x.reshape(-1)[6] = -X_MAX         # Y = Y_LO there
    return {"X": x}


def _y_checks(g, be):
    return [rc for rc in graphlib.static_range_checks(g, be.registry) if rc.tensor == "Y"]


def test_checked_bound_widens_only_when_derived():
    assert checked_bound((Y_LO, Y_HI), S, False) == (Y_LO, Y_HI)
    lo, hi = checked_bound((Y_LO, Y_HI), S, True)
    assert lo == Y_LO and hi - lo + 1 == 1 << (Y_HI - Y_LO).bit_length() and hi > Y_HI
    assert checked_bound((-8, 7), S, True) == (-8, 7)             # already a power of two
    big = WIDEN_LIMIT >> (S + 1)                                  # the wider box too wide
    assert checked_bound((-big, big), S, True) == (-big, big)


def test_derived_rescale_checks_one_side(gold):
    g, w = derived_graph(), wit()
    (rc,) = _y_checks(g, gold)
    assert (rc.lo, rc.hi) == checked_bound((Y_LO, Y_HI), S, True)
    _, _, sides = rangelib._plan(gold.field, rc.lo, rc.hi, rc.limb_bits)
    assert len(sides) == 1
    (exact,) = _y_checks(derived_graph(False), gold)
    assert (exact.lo, exact.hi) == (Y_LO, Y_HI)
    assert len(rangelib._plan(gold.field, exact.lo, exact.hi, exact.limb_bits)[2]) == 2
    prove_and_verify(g, w, gold)


@pytest.mark.parametrize("idx,dy", [(3, 1), (3, -1), (6, -1), (6, 1), (9, 1)])
def test_derived_rescale_next_value_rejected(gold, idx, dy):
    """(Y + dy, R − dy·2^s) satisfies X = 2^s·Y + R − 2^(s−1) and Y stays inside the
    wider checked box (at index 3, Y_HI + 1 > hi): R's range check rejects it (at
    index 6, Y_LO − 1, Y's own check does too)."""
    g, w = derived_graph(), wit()
    lo, hi = checked_bound((Y_LO, Y_HI), S, True)

    def tamper(v):
        y = v["Y"].reshape(-1)
        y[idx] += dy
        v["R"].reshape(-1)[idx] -= dy << S
        if (idx, dy) == (3, 1):        # past the declared hi, inside the checked box
            assert Y_HI < int(y[idx]) <= hi

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert "range" in msg or "LogUp" in msg, msg


def test_derived_rescale_y_alone_rejected(gold):
    """Y moved past hi with R unchanged: the rescale identity at the claim point fails."""
    msg = assert_rejected(derived_graph(), wit(), gold, {},
                          lambda v: v["Y"].reshape(-1).__setitem__(3, Y_HI + 1))
    assert msg


# -- limb width by cost -------------------------------------------------------------------


def wide_graph(n: int):
    g = Graph()
    g.tensor("E", (n,), "committed", (0, (1 << 17) - 1))
    g.outputs = ["E"]
    return g


class _Ctx:
    def __init__(self, g, be):
        self.F = be.field
        self.specs = g.tensors

    def spec(self, name):
        return self.specs[name]


def test_wide_direct_check_by_cost(gold):
    small, large = wide_graph(64), wide_graph(1 << 17)
    rc = RangeCheck("E", 0, (1 << 17) - 1, "e", 17)
    (a,) = rangelib._by_cost(_Ctx(small, gold), [rc])
    assert a.limb_bits == LIMB_BITS                    # 64 entries: no 2^17-row table
    (b,) = rangelib._by_cost(_Ctx(large, gold), [rc])
    assert b.limb_bits == 17                           # 2^17 entries: the table pays
    (c,) = rangelib._by_cost(_Ctx(small, gold), [RangeCheck("E", 0, 65535, "e", 16)])
    assert c.limb_bits == 16
    # 16-bit limbs declared, B = 20: direct once 3·N > 2^21 (N counted over the checks
    # of the same interval), and never above DIRECT_MAX_BITS
    r20 = RangeCheck("E", 0, (1 << 20) - 1, "e", 16)
    (d,) = rangelib._by_cost(_Ctx(wide_graph(1 << 20), gold), [r20])
    assert d.limb_bits == 20
    (e,) = rangelib._by_cost(_Ctx(wide_graph(1 << 18), gold), [r20])
    assert e.limb_bits == 16
    both = rangelib._by_cost(_Ctx(wide_graph(1 << 19), gold), [r20, attrs.evolve(r20, label="f")])
    assert [x.limb_bits for x in both] == [20, 20]
    r22 = RangeCheck("E", 0, (1 << 22) - 1, "e", 16)
    assert rangelib._by_cost(_Ctx(wide_graph(1 << 22), gold), [r22])[0].limb_bits == 16


def _e_graph():
    g = Graph()
    g.tensor("E", (8,), "committed")      # bounded by the check added below only
    g.outputs = ["E"]
    return g


def test_wide_check_as_limbs_rejects_next_value(gold, monkeypatch):
    """A 17-bit check of 8 entries declared with 17-bit limbs runs as 16 + 1-bit limbs;
    E = 2^17 (the first value outside) is rejected, E = 2^17 − 1 accepted."""
    from zklora.zkcore import graph as G

    orig = G.static_range_checks

    def with_e(graph, registry, error=None):
        out = orig(graph, registry) if error is None else orig(graph, registry, error)
        return out + [RangeCheck("E", 0, (1 << 17) - 1, "E/wide", 17)]

    monkeypatch.setattr(G, "static_range_checks", with_e)
    g = _e_graph()
    x = torch.arange(8) * 1000
    x[2] = (1 << 17) - 1
    prove_and_verify(g, {"E": x}, gold)
    bad = x.clone()
    bad[2] = 1 << 17
    msg = assert_rejected(g, {"E": bad}, gold, {}, lambda v: None)
    assert "range" in msg or "LogUp" in msg or "recompose" in msg, msg


def test_wide_check_direct_when_it_pays(gold, monkeypatch):
    """A 17-bit check of 2^17 entries declared with 16-bit limbs runs as a direct lookup
    into the 2^17-row table (no limbs); E = 2^17 is rejected."""
    from zklora.zkcore import graph as G

    n = 1 << 17
    orig = G.static_range_checks

    def with_e(graph, registry, error=None):
        out = orig(graph, registry) if error is None else orig(graph, registry, error)
        return out + [RangeCheck("E", 0, (1 << 17) - 1, "E/wide", 16)]

    monkeypatch.setattr(G, "static_range_checks", with_e)
    g = Graph()
    g.tensor("E", (n,), "committed")
    g.outputs = ["E"]
    x = torch.arange(n)
    (rc,) = rangelib._by_cost(_Ctx(g, gold), with_e(g, gold.registry))
    assert rc.limb_bits == 17
    prove_and_verify(g, {"E": x}, gold)
    bad = x.clone()
    bad[7] = 1 << 17
    msg = assert_rejected(g, {"E": bad}, gold, {}, lambda v: None)
    assert "range17" in msg or "LogUp" in msg, msg
