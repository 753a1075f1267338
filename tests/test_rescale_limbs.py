"""Rescale with Y defined by its limbs (issue 13, `ops/rescale.py` ``limbs``,
`limb_outputs`): Y virtual, Y = lo + Σ_j 2^(o_j)·L_j with the limbs committed and looked
up — Y's range check without committing Y.  Completeness, which rescales the pass
converts, and the next admissible values rejected (docs/soundness.md §3.1)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.rescale import limb_outputs
from zklora.zkcore import graph as graphlib
from zklora.zkcore.build import add_rescale, find_node
from zklora.zkcore.graph import Graph
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.range import range_table
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify

from .conftest import backend_for

S = 4
Y_LO, Y_HI = -(1 << 25), (1 << 25) - 1          # 26 bits: limbs 16 + 10
X_MAX = (Y_HI << S) - 1


@pytest.fixture(params=["logup-gkr", "tlookup"])
def be(request, reg):
    return backend_for(reg, "goldilocks", "plain", request.param)


def limb_graph(convert: bool = True):
    """X → rescale → Y (26-bit bound) → Y·W → rescale → Z (the output)."""
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-X_MAX, X_MAX))
    g.prove_bound("X")
    g.tensor("W", (4, 4), "committed", (-2, 2))
    g.prove_bound("W")
    add_rescale(g, "rs", "X", S, (Y_LO, Y_HI), y="Y", r="R")
    g.tensor("T", (4, 4), "virtual")
    g.op("matmul", "mm", ["Y", "W"], ["T"])
    add_rescale(g, "rz", "T", 2, (-(1 << 27), (1 << 27) - 1), y="Z", r="RZ")
    g.outputs = ["Z"]
    if convert:
        assert limb_outputs(g) == ["Y"]
    return g


def wit():
    gen = torch.Generator().manual_seed(7)
    x = torch.randint(-X_MAX, X_MAX + 1, (4, 4), generator=gen)
    x.reshape(-1)[3] = X_MAX          # Y = Y_HI there: every limb at its maximum
    x.reshape(-1)[6] = -X_MAX         # Y = Y_LO there: every limb 0
    return {"X": x, "W": torch.randint(-2, 3, (4, 4), generator=gen)}


def test_limb_outputs_converts_only_limbed_ys(be):
    g = limb_graph()
    node = find_node(g, "rs")
    assert g.tensors["Y"].kind == "virtual" and node.outputs == ("Y", "R", "Y/L0", "Y/L1")
    assert node.params["limbs"] == [16, 10] and node.params["limb_lo"] == Y_LO
    assert [(t, g.tensors[t].bound) for t in node.outputs[2:]] == \
        [("Y/L0", (0, 65535)), ("Y/L1", (0, 1023))]
    assert g.tensors["Z"].kind == "committed"          # a graph output: kept
    checks = graphlib.static_range_checks(g, be.registry)
    assert not [c for c in checks if c.tensor == "Y"]  # the limbs' lookups are the check
    lookups = graphlib.static_lookups(g, be.registry)
    assert [(r.table.name, r.columns) for r in lookups if r.columns[0].startswith("Y/")] \
        == [("range16", ("Y/L0",)), ("range10", ("Y/L1",))]
    prove_and_verify(g, wit(), be)
    # the same values as the rescale without limbs
    v0 = graphlib.forward(limb_graph(False), wit(), be.registry)
    v1 = graphlib.forward(g, wit(), be.registry)
    assert torch.equal(v0["Y"], v1["Y"]) and torch.equal(v0["Z"], v1["Z"])
    d = v1["Y"] - Y_LO
    assert torch.equal(v1["Y/L0"] + (v1["Y/L1"] << 16), d)


def test_limb_outputs_leaves_the_rest_alone(be):
    """Not converted: a Y whose box is at most `DIRECT_MAX_BITS` bits, a two-sided box,
    a proven bound, a lookup column, a Y read by another segment."""
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-X_MAX, X_MAX))
    add_rescale(g, "a", "X", S, (-(1 << 19), (1 << 19) - 1), y="A", r="RA")   # 20 bits
    add_rescale(g, "b", "X", S, (Y_LO, Y_HI + 5), y="B", r="RB")           # two-sided
    add_rescale(g, "c", "X", S, (Y_LO, Y_HI), y="C", r="RC")
    g.prove_bound("C")
    assert limb_outputs(g) == []
    # read by a node of another segment
    g2 = Graph()
    g2.tensor("X", (4, 4), "committed", (-X_MAX, X_MAX))
    g2.tensor("W", (4, 4), "committed", (-2, 2))
    with g2.segment("one"):
        add_rescale(g2, "rs", "X", S, (Y_LO, Y_HI), y="Y", r="R")
    g2.tensor("T", (4, 4), "virtual")
    with g2.segment("two"):
        g2.op("matmul", "mm", ["Y", "W"], ["T"])
    assert limb_outputs(g2) == []


def test_limb_outputs_skips_lookup_columns(be, monkeypatch):
    from zklora.plugins.ops import rescale as rs

    g = limb_graph(False)
    orig = rs.Rescale.lookups

    def with_y(self, node, p, specs):
        extra = [LookupRequest(range_table(26), ("Y",), "y26")] if node.name == "rz" else []
        return list(orig(self, node, p, specs)) + extra

    monkeypatch.setattr(rs.Rescale, "lookups", with_y)
    assert limb_outputs(g) == []


@pytest.mark.parametrize("idx,dy", [(3, 1), (6, -1), (9, 1), (9, -1)])
def test_limb_rescale_next_value_rejected(be, idx, dy):
    """(Y + dy, R − dy·2^s) with the limbs recomputed from Y + dy: X is unchanged and the
    limbs still define Y, so only a range rejects — R's, or at index 3 / 6 (Y at the
    top / bottom of its box) the limbs' own lookups."""
    g = limb_graph()

    def tamper(v):
        y = v["Y"].reshape(-1)
        y[idx] += dy
        v["R"].reshape(-1)[idx] -= dy << S
        d = int(y[idx]) - Y_LO
        v["Y/L0"].reshape(-1)[idx] = d & 0xFFFF
        v["Y/L1"].reshape(-1)[idx] = d >> 16     # 1024 at the top: outside range10
        v["T"] = v["Y"] @ v["W"]
        from zklora.zkcore.quant import rescale
        v["Z"], v["RZ"] = rescale(v["T"], 2)

    msg = assert_rejected(g, wit(), be, {}, tamper)
    assert "range" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


def test_limb_carry_rejected(be):
    """(L0 + 2^16, L1 − 1) defines the same Y: only L0's range16 lookup rejects."""
    g = limb_graph()

    def tamper(v):
        v["Y/L0"].reshape(-1)[3] += 1 << 16
        v["Y/L1"].reshape(-1)[3] -= 1

    msg = assert_rejected(g, wit(), be, {}, tamper)
    assert "range16" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


@pytest.mark.parametrize("which", ["Y/L0", "Y/L1", "Y"])
def test_limb_or_y_alone_rejected(be, which):
    """A limb moved alone (Y no longer its limbs' value), or Y moved alone (the limbs and
    X no longer agree): the verifier rejects."""
    g = limb_graph()

    def tamper(v):
        v[which].reshape(-1)[5] += 1

    assert assert_rejected(g, wit(), be, {}, tamper)


def test_limbs_param_validated(be):
    """Limbs that do not cover Y's box exactly, or a wrong limb_lo, are refused by the
    op's check on both sides."""
    g = limb_graph()
    i = next(k for k, n in enumerate(g.nodes) if n.name == "rs")
    node = g.nodes[i]
    for bad in ({"limbs": [16, 9]}, {"limb_lo": Y_LO + 1}):
        g.nodes[i] = graphlib.OpNode(node.op, node.name, node.inputs, node.outputs,
                                     {**node.params, **bad})
        with pytest.raises(Exception, match="limb"):
            g.check(be.registry)

