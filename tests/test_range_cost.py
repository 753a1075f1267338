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
from zklora.zkcore.build import add_rescale, find_node
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


# -- top limb split by cost ---------------------------------------------------------------

B31 = (1 << 31) - 1      # a 31-bit check: 16-bit limbs [16, 15] before the split


def _w_graph(n: int):
    g = Graph()
    g.tensor("W", (n,), "committed")      # bounded by the check added below only
    g.outputs = ["W"]
    return g


def test_top_limb_split_by_cost(gold):
    """A 15-bit top limb of few entries is split into 8 + 7 bits (no 2^15-row table);
    with as many entries as the table has rows, or another limb of 15 bits in the same
    proof, it is not."""
    rc = RangeCheck("W", 0, B31, "w")
    (a,) = rangelib._by_cost(_Ctx(_w_graph(8), gold), [rc])
    assert a.widths == (16, 8, 7)
    assert rangelib._plan(gold.field, 0, B31, a.limb_bits, a.widths)[1] == [16, 8, 7]
    assert rangelib._offsets([16, 8, 7]) == [0, 16, 24]
    (b,) = rangelib._by_cost(_Ctx(_w_graph(1 << 15), gold), [rc])
    assert b.widths == ()
    other = RangeCheck("W", 0, (1 << 30) - 1, "w15", 15)       # two 15-bit limbs
    assert [x.widths for x in rangelib._by_cost(_Ctx(_w_graph(8), gold), [rc, other])] \
        == [(), ()]
    # two-sided: both sides' top limbs count (2·N entries) and both are split
    two = RangeCheck("W", -5, B31 - 10, "w2")
    (c,) = rangelib._by_cost(_Ctx(_w_graph(8), gold), [two])
    assert c.widths == (16, 8, 7)
    assert len(rangelib._plan(gold.field, c.lo, c.hi, c.limb_bits, c.widths)[2]) == 2
    with pytest.raises(ValueError, match="do not split"):
        rangelib._plan(gold.field, 0, B31, 16, (16, 8, 8))


def _with_w(monkeypatch, lo=0, hi=B31):
    from zklora.zkcore import graph as G

    orig = G.static_range_checks

    def with_w(graph, registry, error=None):
        out = orig(graph, registry) if error is None else orig(graph, registry, error)
        return out + [RangeCheck("W", lo, hi, "W/top")]

    monkeypatch.setattr(G, "static_range_checks", with_w)


def _w_values():
    x = torch.arange(8) * 123_457 + (1 << 24)
    x[2] = B31                       # every limb at its maximum
    x[5] = (1 << 24) + 77            # limb2 = 1, limb1 = 0
    return x


def test_split_top_limb_complete_and_next_value_rejected(gold, monkeypatch):
    """The split check proves W ∈ [0, 2^31): the honest witness verifies, W = 2^31 (the
    first value outside) is rejected."""
    _with_w(monkeypatch)
    g, x = _w_graph(8), _w_values()
    prove_and_verify(g, {"W": x}, gold)
    bad = x.clone()
    bad[2] = 1 << 31
    msg = assert_rejected(g, {"W": bad}, gold, {}, lambda v: None)
    assert "range" in msg or "LogUp" in msg or "recompose" in msg, msg


@pytest.mark.parametrize("step", [1, -1])
def test_split_top_limb_carry_rejected(gold, monkeypatch, step):
    """(L1 + step·2^8, L2 − step) — the two halves of the split top limb moved to the
    next decomposition of the same value — recomposes to W (the identity at the random
    point holds); the 8-bit half's range lookup rejects it."""
    from zklora.zkcore.op import ProverContext

    _with_w(monkeypatch)
    g, x = _w_graph(8), _w_values()
    orig = ProverContext.commit_advice
    seen = []

    def commit_advice(self, name, values, bound=None):
        if name.startswith("W/top/lo/limb") and name[-1] in "12":
            values = values.clone()
            # index 5: limb2 = 1 (so L2 − 1 ≥ 0); index 2: limb1 = 255 (L1 + 256)
            i = 5 if step == 1 else 2
            values.reshape(-1)[i] += (step << 8) if name.endswith("limb1") else -step
            seen.append(name)
        return orig(self, name, values, bound)

    monkeypatch.setattr(ProverContext, "commit_advice", commit_advice)
    msg = assert_rejected(g, {"W": x}, gold, {}, lambda v: None)
    assert sorted(seen) == ["W/top/lo/limb1", "W/top/lo/limb2"]
    assert "range8" in msg or msg.startswith("lookups: LogUp sums differ"), msg


# -- derived call sites: RMSNorm's pre-shift, LoRA's forward copies ------------------------


def test_rmsnorm_pre_shift_one_sided_next_value_rejected(gold):
    """x' = ⌊(x + 2)/4⌋ (pre-shift k = 2) has the derived bound [−m, m] (the image of
    X's): checked one-sided in [−m, −m + 2^B).  At x = max X, x' = m; the next
    admissible (x' + 1, R − 4), past m but inside the checked box, with every rsqrt
    tensor, x·r and Y recomputed from it, is rejected by R's range check."""
    from zklora.plugins.ops.rmsnorm import plan_of

    from .test_rmsnorm_op import S as RS
    from .test_rmsnorm_op import _spec_values, rms_graph
    from .test_rmsnorm_op import wit as rms_wit

    g, _ = rms_graph(pre_shift=2)
    (rc,) = [c for c in graphlib.static_range_checks(g, gold.registry) if c.tensor == "n/xs"]
    m = g.tensors["n/xs"].bound[1]
    assert g.tensors["n/xs"].bound == (-m, m) and (rc.lo, rc.hi) == checked_bound((-m, m), 2,
                                                                                   True)
    assert rc.hi > m and len(rangelib._plan(gold.field, rc.lo, rc.hi, 16)[2]) == 1
    pl = plan_of(find_node(g, "n/rsqrt"), 16)
    inputs, _, _ = rms_wit()
    inputs["X"].reshape(-1)[21] = (1 << (RS + 4)) - 1        # max X: x' = m
    prove_and_verify(g, inputs, gold)

    def next_admissible(values):
        assert int(values["n/xs"].reshape(-1)[21]) == m
        values["n/xs"].reshape(-1)[21] += 1
        values["n/xs_R"].reshape(-1)[21] -= 1 << pl.pre_shift
        _spec_values(values, pl)

    msg = assert_rejected(g, inputs, gold, {}, next_admissible)
    assert "range" in msg or "LogUp" in msg, msg


def test_train_graph_derived_checks():
    """In the tiny training graph, LoRA's forward copies (θ at the weight scale) carry
    the image of θ's proven bound and are checked one-sided; the only two-sided check
    left is cross-entropy backward's remainder (a non-power-of-two divisor)."""
    from zklora.plugins.models.llama import ForwardSpec
    from zklora.plugins.models.llama_train import TrainSpec, build_train_graph
    from zklora.plugins.models.tiny import tiny_arch, tiny_lora
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.quant import QuantConfig

    g = build_train_graph(TrainSpec(ForwardSpec(tiny_arch(), tiny_lora(), QuantConfig(),
                                                1, 16), 1))
    reg = registry()
    copies = [n for n in g.nodes if n.op == "rescale" and "/fwd/" in f"/{n.name}"]
    assert len(copies) == 8 and all(n.params.get("derived") for n in copies)
    checks = graphlib.static_range_checks(g, reg)
    two = [c.label for c in checks
           if len(rangelib._plan(reg.field("goldilocks"), c.lo, c.hi, 16)[2]) == 2]
    assert len(two) == 1 and "bwd" in two[0], two
