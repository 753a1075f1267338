"""s34h5: the SwiGLU gate's rescale without its own range check of G (``y_by_consumer``,
switch `silu.GATE_RANGE_BY_TABLE`, off by default): the SiLU op reading G proves
G = 2^h·Gq + Rq − 2^(h−1) with Gq in the table's domain and Rq ∈ [0, 2^h)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops import silu
from zklora.zkcore import graph as graphlib
from zklora.zkcore.build import rescale_node
from zklora.zkcore.graph import Graph, static_range_checks
from zklora.zkcore.quant import Bound
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

#: small table as in test_silu_op: scale 8, table input scale 2^4, 2^10 entries
S, S_IN, DOM = 8, 4, 10
H = S - S_IN            # the SiLU op's shift h
SH = 6                  # the gate rescale's shift
P = (1 << 64) - (1 << 32) + 1   # Goldilocks


def graph(on: bool, interp: bool, g_bound: Bound | None = None, monkeypatch=None):
    """X (committed) → G = rescale(X, SH) → SwiGLU(G, U); the switch set to ``on``."""
    monkeypatch.setattr(silu, "GATE_RANGE_BY_TABLE", on)
    g = Graph()
    shape = (4, 16)
    g.tensor("X", shape, "committed", Bound.bits(S + 9 + SH).as_tuple())
    g.tensor("U", shape, "committed", Bound.bits(S + 6).as_tuple())
    G = rescale_node(g, "G", "X", SH, g_bound or Bound.bits(S + 9))
    y = silu.add_swiglu(g, "m", G, "U", scale=S, in_scale=S_IN, domain_bits=DOM,
                        interp=interp)
    g.outputs = [y]
    return g


def box() -> tuple[int, int]:
    t = silu.silu_lerp_table(S_IN, S, S, DOM)
    return silu.gate_box(H, t)


def inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random X, U with the gate G at both ends of the box the SiLU op proves (and U at
    its bound's ends) in some entries."""
    gen = torch.Generator().manual_seed(seed)
    lo, hi = box()
    G = torch.randint(lo, hi + 1, (4, 16), generator=gen)
    G.view(-1)[:4] = torch.tensor([lo, hi, lo + 1, hi - 1])
    # any X rounding to G: X = 2^SH·G + r − 2^(SH−1), r ∈ [0, 2^SH)
    r = torch.randint(0, 1 << SH, (4, 16), generator=gen)
    r.view(-1)[:4] = torch.tensor([0, (1 << SH) - 1, (1 << SH) - 1, 0])
    X = (G << SH) + r - (1 << (SH - 1))
    ub = Bound.bits(S + 6)
    U = torch.randint(ub.lo, ub.hi + 1, (4, 16), generator=gen)
    U.view(-1)[:2] = torch.tensor([ub.lo, ub.hi])
    return {"X": X, "U": U}


def test_box_is_the_tables():
    """G's box is exactly the inputs the SiLU op accepts: ends in, one past out."""
    lo, hi = box()
    t = silu.silu_lerp_table(S_IN, S, S, DOM)
    assert (lo + (1 << (H - 1))) >> H == t.lo and (hi + (1 << (H - 1))) >> H == t.lo + t.size - 1
    assert (lo - 1 + (1 << (H - 1))) >> H == t.lo - 1
    assert (hi + 1 + (1 << (H - 1))) >> H == t.lo + t.size


@pytest.mark.parametrize("interp", [True, False])
def test_flag_set_only_with_switch(monkeypatch, reg, interp):
    off = graph(False, interp, monkeypatch=monkeypatch)
    on = graph(True, interp, monkeypatch=monkeypatch)
    n_off = next(n for n in off.nodes if n.name == "G/rescale")
    n_on = next(n for n in on.nodes if n.name == "G/rescale")
    assert "y_by_consumer" not in n_off.params
    assert n_on.params["y_by_consumer"] is True
    checked_off = {rc.tensor for rc in static_range_checks(off, reg)}
    checked_on = {rc.tensor for rc in static_range_checks(on, reg)}
    assert "G" in checked_off and "G" not in checked_on
    assert checked_off - {"G"} == checked_on


def test_not_set_when_bound_misses_box(monkeypatch):
    """G's declared bound must contain the proven box (``_setup`` checks uniqueness there)."""
    lo, hi = box()
    g = graph(True, True, g_bound=Bound(lo + 1, hi), monkeypatch=monkeypatch)
    assert "y_by_consumer" not in next(n for n in g.nodes if n.name == "G/rescale").params


def test_limbs_refused(reg, monkeypatch):
    g = graph(True, True, monkeypatch=monkeypatch)
    i = next(i for i, n in enumerate(g.nodes) if n.name == "G/rescale")
    n = g.nodes[i]
    for L, w in (("G/L0", 16), ("G/L1", 2)):
        g.tensors[L] = graphlib.TensorSpec(L, g.tensors["G"].shape, "committed",
                                           (0, (1 << w) - 1))
    g.tensors["G"] = graphlib.attrs.evolve(g.tensors["G"], kind="virtual")
    bad = graphlib.OpNode(n.op, n.name, n.inputs, (*n.outputs, "G/L0", "G/L1"),
                          {**n.params, "limbs": (16, 2), "limb_lo": g.tensors["G"].bound[0]})
    with pytest.raises(ValueError, match="y_by_consumer"):
        reg.op("rescale").check(bad, g.tensors, ValueError)


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("interp", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_complete_at_box_ends(gold, monkeypatch, on, interp, seed):
    g = graph(on, interp, monkeypatch=monkeypatch)
    prove_and_verify(g, inputs(seed), gold)


def _signed(v: int) -> int:
    v %= P
    return v - P if v > P // 2 else v


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("interp", [True, False])
def test_fractional_quotient_rejected(gold, monkeypatch, on, interp):
    """The next accepted pairs of G's rescale without a range check of G: (G + 2^−SH,
    R − 1) in the field keeps X = 2^SH·G + R − 2^(SH−1); G then leaves every small box,
    and the SiLU op's identity G = 2^h·Gq + Rq − 2^(h−1) is kept by Gq + 2^−(SH+h) (Rq,
    T, D as they were): only the table lookup of (Gq, T, D) can reject — the consumer's
    range proof that replaces G's check."""
    g = graph(on, interp, monkeypatch=monkeypatch)
    inv_sh = pow(1 << SH, -1, P)
    inv_shh = pow(1 << (SH + H), -1, P)

    def tamper(v):
        R = v["G_R"].reshape(-1)
        i = int(torch.nonzero(R > 0)[0])
        R[i] -= 1
        v["G"].reshape(-1)[i] = _signed(int(v["G"].reshape(-1)[i]) + inv_sh)
        v["m/gq"].reshape(-1)[i] = _signed(int(v["m/gq"].reshape(-1)[i]) + inv_shh)

    msg = assert_rejected(g, inputs(), gold, {}, tamper)
    assert "LogUp" in msg or "lookup" in msg.lower() or "range" in msg, msg


@pytest.mark.parametrize("interp", [True, False])
def test_gate_plus_one_rejected(gold, monkeypatch, interp):
    """(G + 1, R − 2^SH): R's range check rejects (as with G's own check)."""
    g = graph(True, interp, monkeypatch=monkeypatch)

    def tamper(v):
        v["G"].reshape(-1)[7] += 1
        v["G_R"].reshape(-1)[7] -= 1 << SH

    assert_rejected(g, inputs(), gold, {}, tamper)
