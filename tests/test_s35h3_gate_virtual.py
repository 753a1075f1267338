"""s35h3: the SwiGLU gate G virtual (switch `silu.GATE_VIRTUAL`, off by default).

G = rescale(X, SH) is neither committed nor range-checked: the SiLU op reading it sends
G̃q(z), R̃q(z) and hands the claim G̃(z) = 2^h·G̃q(z) + R̃q(z) − 2^(h−1) to G's rescale,
which turns it into the claim X̃(z) = 2^SH·G̃(z) + R̃(z) − 2^(SH−1) on its input.  G is
the limb form lo + Rq + 2^h·(Gq − a) of the box the SiLU op proves (Rq range-checked,
Gq in the table), so (G, R) stays pinned (docs/soundness.md §3.1)."""

from __future__ import annotations

from unittest import mock

import pytest
import torch

from zklora.plugins.ops import silu
from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck
from zklora.zkcore.build import rescale_node
from zklora.zkcore.errors import ZkLoraError
from zklora.zkcore.graph import Graph, static_range_checks
from zklora.zkcore.quant import Bound
from zklora.zkcore.testing.tamper import assert_rejected, changed_message, prove_and_verify
from zklora.zkcore.transcript import ProverChannel

#: small table as in test_s34h5_gate_range: scale 8, table input scale 2^4, 2^10 entries
S, S_IN, DOM = 8, 4, 10
H = S - S_IN            # the SiLU op's shift h
SH = 6                  # the gate rescale's shift
P = (1 << 64) - (1 << 32) + 1   # Goldilocks
SHAPE = (4, 16)


def graph(virtual: bool, interp: bool, monkeypatch, *, g_bound: Bound | None = None,
          x_kind: str = "committed", extra_reader: bool = False) -> Graph:
    """X → G = rescale(X, SH) → SwiGLU(G, U), `GATE_VIRTUAL` = ``virtual``
    (`GATE_RANGE_BY_TABLE` off: the virtual switch implies it).  ``x_kind`` "virtual":
    X = X0 + 0 (an add of a committed X0), so the claim on X goes on to a producer."""
    monkeypatch.setattr(silu, "GATE_RANGE_BY_TABLE", False)
    monkeypatch.setattr(silu, "GATE_VIRTUAL", virtual)
    g = Graph()
    xb = Bound.bits(S + 9 + SH).as_tuple()
    if x_kind == "virtual":
        g.tensor("X0", SHAPE, "committed", xb)
        g.tensor("Z", SHAPE, "public", value=torch.zeros(SHAPE, dtype=torch.int64))
        g.tensor("X", SHAPE, "virtual", xb)
        g.op("add", "X", ["X0", "Z"], ["X"])
    else:
        g.tensor("X", SHAPE, "committed", xb)
    g.tensor("U", SHAPE, "committed", Bound.bits(S + 6).as_tuple())
    G = rescale_node(g, "G", "X", SH, g_bound or Bound.bits(S + 9))
    if extra_reader:
        g.tensor("G2", SHAPE, "virtual")
        g.op("add", "G2", [G, "U"], ["G2"])
    y = silu.add_swiglu(g, "m", G, "U", scale=S, in_scale=S_IN, domain_bits=DOM,
                        interp=interp)
    g.outputs = [y]
    if extra_reader:
        g.outputs = [y, rescale_node(g, "G3", "G2", 1, Bound.bits(S + 9))]
    return g


def box() -> tuple[int, int]:
    return silu.gate_box(H, silu.silu_lerp_table(S_IN, S, S, DOM))


def inputs(seed: int = 0, x_name: str = "X") -> dict[str, torch.Tensor]:
    """Random X, U with G at both ends of the box (and next to them), G's remainder at
    0 and 2^SH − 1 there, U at its bound's ends in some entries."""
    gen = torch.Generator().manual_seed(seed)
    lo, hi = box()
    G = torch.randint(lo, hi + 1, SHAPE, generator=gen)
    G.view(-1)[:4] = torch.tensor([lo, hi, lo + 1, hi - 1])
    r = torch.randint(0, 1 << SH, SHAPE, generator=gen)
    r.view(-1)[:4] = torch.tensor([0, (1 << SH) - 1, (1 << SH) - 1, 0])
    X = (G << SH) + r - (1 << (SH - 1))
    ub = Bound.bits(S + 6)
    U = torch.randint(ub.lo, ub.hi + 1, SHAPE, generator=gen)
    U.view(-1)[:2] = torch.tensor([ub.lo, ub.hi])
    return {x_name: X, "U": U}


def _signed(v: int) -> int:
    v %= P
    return v - P if v > P // 2 else v


def _node(g: Graph, name: str):
    return next(n for n in g.nodes if n.name == name)


# --- the graph ---------------------------------------------------------------------


@pytest.mark.parametrize("interp", [True, False])
def test_virtual_only_with_switch(monkeypatch, reg, interp):
    """Off: G committed and range-checked, no flag (today's graph).  On: G virtual, its
    rescale ``y_by_consumer``, no check of G; every other tensor and check unchanged."""
    off = graph(False, interp, monkeypatch)
    on = graph(True, interp, monkeypatch)
    assert off.tensors["G"].kind == "committed" and on.tensors["G"].kind == "virtual"
    assert "y_by_consumer" not in _node(off, "G/rescale").params
    assert _node(on, "G/rescale").params["y_by_consumer"] is True
    assert {k: v for k, v in off.tensors.items() if k != "G"} == \
        {k: v for k, v in on.tensors.items() if k != "G"}
    checked_off = {rc.tensor for rc in static_range_checks(off, reg)}
    checked_on = {rc.tensor for rc in static_range_checks(on, reg)}
    assert "G" in checked_off and checked_off - {"G"} == checked_on
    on.check(reg)


def test_switch_off_by_default(monkeypatch):
    """Both switches off by default, and off builds today's graph (no flag, G committed):
    the proof bytes do not move."""
    assert silu.GATE_VIRTUAL is False and silu.GATE_RANGE_BY_TABLE is False
    off = graph(False, True, monkeypatch)
    assert all("y_by_consumer" not in n.params for n in off.nodes)
    assert off.tensors["G"].kind == "committed"


def test_not_virtual_with_another_reader(monkeypatch, reg):
    """A second reader of G: G stays committed (only the range flag is set)."""
    g = graph(True, True, monkeypatch, extra_reader=True)
    assert g.tensors["G"].kind == "committed"
    assert _node(g, "G/rescale").params["y_by_consumer"] is True


def test_not_set_when_bound_misses_box(monkeypatch):
    lo, hi = box()
    g = graph(True, True, monkeypatch, g_bound=Bound(lo + 1, hi))
    assert g.tensors["G"].kind == "committed"
    assert "y_by_consumer" not in _node(g, "G/rescale").params


def test_virtual_y_needs_a_check(monkeypatch, reg):
    """A virtual Y of a rescale with neither limbs nor ``y_by_consumer`` is refused: its
    range would be proven nowhere."""
    g = graph(True, True, monkeypatch)
    n = _node(g, "G/rescale")
    bad = graphlib.OpNode(n.op, n.name, n.inputs, n.outputs,
                          {k: v for k, v in n.params.items() if k != "y_by_consumer"})
    with pytest.raises(ValueError, match="virtual"):
        reg.op("rescale").check(bad, g.tensors, ValueError)


# --- completeness ------------------------------------------------------------------


@pytest.mark.parametrize("interp", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("x_kind", ["committed", "virtual"])
def test_complete_at_box_ends(gold, monkeypatch, interp, seed, x_kind):
    """Honest runs with G at both ends of the box, R at 0 and 2^SH − 1, U at its
    bounds prove and verify; the proof opens neither G nor anything of it."""
    g = graph(True, interp, monkeypatch, x_kind=x_kind)
    prove_and_verify(g, inputs(seed, "X0" if x_kind == "virtual" else "X"), gold)


@pytest.mark.parametrize("interp", [True, False])
def test_complete_zero_knowledge(gold, monkeypatch, interp):
    """With zero knowledge (masked reveals, the blinded claim on G carried through its
    rescale to X): proves and verifies; a changed remainder of G is still rejected."""
    from zklora.zkcore import zk

    g = graph(True, interp, monkeypatch)
    with zk.session():
        prove_and_verify(g, inputs(0), gold)

        def tamper(v):     # G's remainder + 1: X's identity breaks
            R = v["G_R"].reshape(-1)
            R[_first(R < (1 << SH) - 1)] += 1

        assert assert_rejected(g, inputs(0), gold, {}, tamper)


def test_out_of_box_refused(gold, monkeypatch):
    """G one past the box: no honest proof (the SiLU op's domain check)."""
    from zklora.zkcore.errors import ProverError

    g = graph(True, True, monkeypatch)
    x = inputs(0)
    x["X"].view(-1)[0] = ((box()[1] + 1) << SH) - (1 << (SH - 1))
    with pytest.raises(ProverError, match="outside the domain"):
        graphlib.prove(g, x, gold, {})


# --- soundness: a changed limb or advice value is rejected ---------------------------


def _first(mask: torch.Tensor) -> int:
    return int(torch.nonzero(mask.reshape(-1))[0])


@pytest.mark.parametrize("interp", [True, False])
def test_gq_up_rq_down_rejected(gold, monkeypatch, interp):
    """(Gq + 1, Rq − 2^h): G's limb form unchanged, Rq leaves [0, 2^h) — Rq's check."""
    g = graph(True, interp, monkeypatch)

    def tamper(v):
        i = _first(v["m/gq"] < silu.silu_lerp_table(S_IN, S, S, DOM).lo + (1 << DOM) - 1)
        v["m/gq"].reshape(-1)[i] += 1
        v["m/gq_R"].reshape(-1)[i] -= 1 << H

    msg = assert_rejected(g, inputs(), gold, {}, tamper)
    assert "gq_R" in msg or "range" in msg.lower() or "LogUp" in msg, msg


@pytest.mark.parametrize("interp", [True, False])
def test_rq_up_r_down_rejected(gold, monkeypatch, interp):
    """(Rq + 1, R − 2^SH): X unchanged, G + 1 — R's range check rejects."""
    g = graph(True, interp, monkeypatch)

    def tamper(v):
        i = _first(v["m/gq_R"] < (1 << H) - 1)
        v["m/gq_R"].reshape(-1)[i] += 1
        v["G_R"].reshape(-1)[i] -= 1 << SH

    assert_rejected(g, inputs(), gold, {}, tamper)


@pytest.mark.parametrize("delta", [1, -1])
def test_rq_alone_rejected(gold, monkeypatch, delta):
    """Rq ± 1 with everything downstream kept consistent (Sg's remainder absorbs D·(±1);
    table-only SiLU: Rq enters nothing else): only X = 2^SH·G + R − 2^(SH−1) with the
    virtual G = 2^h·Gq + Rq − 2^(h−1) breaks — the claim on X fails."""
    g = graph(True, False, monkeypatch)

    def tamper(v):
        rq = v["m/gq_R"].reshape(-1)
        i = _first((rq + delta >= 0) & (rq + delta < (1 << H)))
        rq[i] += delta

    msg = assert_rejected(g, inputs(), gold, {}, tamper)
    assert msg


@pytest.mark.parametrize("delta", [1, -1])
def test_rq_alone_rejected_interp(gold, monkeypatch, delta):
    """The interpolating SiLU: Rq ± 1 with Sg's remainder moved by ±D (Sg unchanged,
    every lerp relation kept): only the gate's chain to X can reject."""
    g = graph(True, True, monkeypatch)
    k = int(_node(g, "m/silu/rescale").params["shift"])

    def tamper(v):
        rq, d, sr = (v[t].reshape(-1) for t in ("m/gq_R", "m/silu_d", "m/silu_R"))
        ok = (rq + delta >= 0) & (rq + delta < (1 << H)) & \
            (sr + delta * d >= 0) & (sr + delta * d < (1 << k))
        i = _first(ok)
        rq[i] += delta
        sr[i] += delta * d[i]

    assert_rejected(g, inputs(), gold, {}, tamper)


@pytest.mark.parametrize("interp", [True, False])
def test_gate_remainder_alone_rejected(gold, monkeypatch, interp):
    """G's remainder R + 1 (in range): X's identity breaks."""
    g = graph(True, interp, monkeypatch)

    def tamper(v):
        R = v["G_R"].reshape(-1)
        R[_first(R < (1 << SH) - 1)] += 1

    assert_rejected(g, inputs(), gold, {}, tamper)


@pytest.mark.parametrize("interp", [True, False])
def test_fractional_gq_rejected(gold, monkeypatch, interp):
    """(Gq + 2^−(SH+h), R − 1) in the field keeps X = 2^SH·(2^h·Gq + Rq − 2^(h−1)) + R −
    2^(SH−1) entry by entry: Gq leaves the table's domain — only the lookup rejects (the
    range proof of G's high limb)."""
    g = graph(True, interp, monkeypatch)
    inv = pow(1 << (SH + H), -1, P)

    def tamper(v):
        R = v["G_R"].reshape(-1)
        i = _first(R > 0)
        R[i] -= 1
        v["m/gq"].reshape(-1)[i] = _signed(int(v["m/gq"].reshape(-1)[i]) + inv)

    msg = assert_rejected(g, inputs(), gold, {}, tamper)
    assert "LogUp" in msg or "lookup" in msg.lower(), msg


@pytest.mark.parametrize("interp", [True, False])
def test_fractional_rq_rejected(gold, monkeypatch, interp):
    """(Rq + 2^−SH, R − 1): the same identity kept, Rq leaves [0, 2^h) — its check (the
    range proof of G's low limb).  (With interp the lerp sees the changed Rq too.)"""
    g = graph(True, interp, monkeypatch)
    inv = pow(1 << SH, -1, P)

    def tamper(v):
        R = v["G_R"].reshape(-1)
        i = _first(R > 0)
        R[i] -= 1
        v["m/gq_R"].reshape(-1)[i] = _signed(int(v["m/gq_R"].reshape(-1)[i]) + inv)

    assert_rejected(g, inputs(), gold, {}, tamper)


@pytest.mark.parametrize("label,index", [("m/silu/silu/values", 0), ("m/silu/silu/values", 1),
                                         ("G/rescale/rescale/R", 0)])
def test_changed_reveal_rejected(gold, monkeypatch, label, index):
    """A sent value of the chain changed (G̃q(z), R̃q(z), or G's R̃(z)): the claim on X
    (or the openings of Gq, Rq, R) no longer holds — rejected."""
    g = graph(True, True, monkeypatch)
    send_field, hit = changed_message(label, index)
    with mock.patch.object(ProverChannel, "send_field", send_field), selfcheck.disabled():
        stream, sections = graphlib.prove(g, inputs(), gold, {})
    assert hit, label
    with pytest.raises(ZkLoraError):
        graphlib.verify(g, stream, gold, {}, sections)


def test_switch_mismatch_rejected(gold, monkeypatch):
    """A proof of the virtual-gate graph does not verify against today's graph."""
    on = graph(True, True, monkeypatch)
    stream, sections = graphlib.prove(on, inputs(), gold, {})
    off = graph(False, True, monkeypatch)
    with pytest.raises(ZkLoraError):
        graphlib.verify(off, stream, gold, {}, sections)
