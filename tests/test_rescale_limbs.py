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
    # the range check's own limbs: 16 + 10 bits, the 10-bit top split 5 + 5 by cost
    # (16 entries do not pay for a 2^10-row table, `range._split_tops`)
    assert g.tensors["Y"].kind == "virtual"
    assert node.outputs == ("Y", "R", "Y/L0", "Y/L1", "Y/L2")
    assert node.params["limbs"] == [16, 5, 5] and node.params["limb_lo"] == Y_LO
    assert [(t, g.tensors[t].bound) for t in node.outputs[2:]] == \
        [("Y/L0", (0, 65535)), ("Y/L1", (0, 31)), ("Y/L2", (0, 31))]
    assert g.tensors["Z"].kind == "committed"          # a graph output: kept
    checks = graphlib.static_range_checks(g, be.registry)
    assert not [c for c in checks if c.tensor == "Y"]  # the limbs' lookups are the check
    lookups = graphlib.static_lookups(g, be.registry)
    assert [(r.table.name, r.columns) for r in lookups if r.columns[0].startswith("Y/")] \
        == [("range16", ("Y/L0",)), ("range5", ("Y/L1",)), ("range5", ("Y/L2",))]
    prove_and_verify(g, wit(), be)
    # the same values as the rescale without limbs
    v0 = graphlib.forward(limb_graph(False), wit(), be.registry)
    v1 = graphlib.forward(g, wit(), be.registry)
    assert torch.equal(v0["Y"], v1["Y"]) and torch.equal(v0["Z"], v1["Z"])
    d = v1["Y"] - Y_LO
    assert torch.equal(v1["Y/L0"] + (v1["Y/L1"] << 16) + (v1["Y/L2"] << 21), d)


def test_limb_outputs_leaves_the_rest_alone(be):
    """Not converted: a Y checked directly (16 bits; 17 bits over many entries, where the
    cost rule picks the 2^17-row table), a two-sided box, a proven bound, a lookup
    column, a Y read by another segment.  A 20-bit Y of few entries is (16 + 4-bit limbs
    by cost)."""
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-X_MAX, X_MAX))
    g.tensor("XL", (512, 256), "committed", (-X_MAX, X_MAX))
    add_rescale(g, "a", "X", S, (-(1 << 19), (1 << 19) - 1), y="A", r="RA")   # 20 bits
    add_rescale(g, "b", "X", S, (Y_LO, Y_HI + 5), y="B", r="RB")           # two-sided
    add_rescale(g, "c", "X", S, (Y_LO, Y_HI), y="C", r="RC")
    g.prove_bound("C")
    add_rescale(g, "d", "X", S, (-(1 << 15), (1 << 15) - 1), y="D", r="RD")   # 16 bits
    add_rescale(g, "e", "XL", S, (-(1 << 16), (1 << 16) - 1), y="E", r="RE")  # 17, direct
    assert limb_outputs(g) == ["A"]
    assert find_node(g, "a").params["limbs"] == [16, 4]
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
        v["Y/L1"].reshape(-1)[idx] = (d >> 16) & 31
        v["Y/L2"].reshape(-1)[idx] = d >> 21     # 32 at the top: outside range5
        v["T"] = v["Y"] @ v["W"]
        from zklora.zkcore.quant import rescale
        v["Z"], v["RZ"] = rescale(v["T"], 2)

    msg = assert_rejected(g, wit(), be, {}, tamper)
    assert "range" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


def test_limb_carry_rejected(be):
    """(L0 + 2^16, L1 − 1) defines the same Y (L1 = 31 at index 3): only L0's range16
    lookup rejects."""
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
    """Limbs that do not cover Y's box (R's bits) exactly, or a wrong limb_lo, are
    refused by the op's check on both sides."""
    for make, bad in ((limb_graph, {"limbs": [16, 5, 4]}), (limb_graph, {"limb_lo": Y_LO + 1}),
                      (r_limb_graph, {"r_limbs": [16, 3]})):
        g = make()
        i = next(k for k, n in enumerate(g.nodes) if n.name == "rs")
        node = g.nodes[i]
        g.nodes[i] = graphlib.OpNode(node.op, node.name, node.inputs, node.outputs,
                                     {**node.params, **bad})
        with pytest.raises(Exception, match="cover|limb_lo"):
            g.check(be.registry)


# -- R defined by its limbs (s > 16) -------------------------------------------------------

S20 = 20


def r_limb_graph():
    """X → rescale by 2^20 → Y (26 bits) and R (20 bits): both by their limbs."""
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-(Y_HI << S20), Y_HI << S20))
    g.tensor("W", (4, 4), "committed", (-2, 2))
    add_rescale(g, "rs", "X", S20, (Y_LO, Y_HI), y="Y", r="R")
    g.tensor("T", (4, 4), "virtual")
    g.op("matmul", "mm", ["Y", "W"], ["T"])
    add_rescale(g, "rz", "T", 2, (-(1 << 27), (1 << 27) - 1), y="Z", r="RZ")
    g.outputs = ["Z"]
    assert limb_outputs(g) == ["Y", "R"]
    return g


def r_wit():
    gen = torch.Generator().manual_seed(11)
    x = torch.randint(-(Y_HI << S20), (Y_HI << S20) + 1, (4, 4), generator=gen)
    x.reshape(-1)[2] = (5 << S20) + (1 << S20) - 1 - (1 << (S20 - 1))   # R = 2^20 − 1
    return {"X": x, "W": torch.randint(-2, 3, (4, 4), generator=gen)}


def test_r_limbs_complete(be):
    g = r_limb_graph()
    node = find_node(g, "rs")
    assert node.outputs == ("Y", "R", "Y/L0", "Y/L1", "Y/L2", "R/M0", "R/M1")
    assert node.params["limbs"] == [16, 5, 5] and node.params["r_limbs"] == [16, 4]
    assert g.tensors["R"].kind == "virtual"
    assert not [c for c in graphlib.static_range_checks(g, be.registry)
                if c.tensor in ("Y", "R")]
    prove_and_verify(g, r_wit(), be)


@pytest.mark.parametrize("idx", [2, 7])
def test_r_limbs_next_value_rejected(be, idx):
    """(Y + 1, R − 2^20) with limbs composing exactly those values (M1 − 16 for R):
    X and the limbs' definitions hold, only M1's range4 lookup rejects."""
    g = r_limb_graph()

    def tamper(v):
        y, r = v["Y"].reshape(-1), v["R"].reshape(-1)
        y[idx] += 1
        r[idx] -= 1 << S20
        d = int(y[idx]) - Y_LO
        for j, (o, w) in enumerate([(0, 16), (16, 5), (21, 5)]):
            v[f"Y/L{j}"].reshape(-1)[idx] = (d >> o) & ((1 << w) - 1)
        v["R/M1"].reshape(-1)[idx] -= 16            # R/M0 unchanged
        v["T"] = v["Y"] @ v["W"]
        from zklora.zkcore.quant import rescale
        v["Z"], v["RZ"] = rescale(v["T"], 2)

    msg = assert_rejected(g, r_wit(), be, {}, tamper)
    assert "range" in msg or "LogUp" in msg or "lookup" in msg.lower(), msg


@pytest.mark.parametrize("which", ["carry", "R/M0", "R/M1"])
def test_r_limbs_tampered_rejected(be, which):
    """R's limb carry (M0 + 2^16, M1 − 1) — the same R — is rejected by the range16
    lookup; a limb of R moved alone changes R̃, so X's claim fails."""
    g = r_limb_graph()

    def tamper(v):
        if which == "carry":
            v["R/M0"].reshape(-1)[2] += 1 << 16
            v["R/M1"].reshape(-1)[2] -= 1
        else:
            v[which].reshape(-1)[5] += 1

    assert assert_rejected(g, r_wit(), be, {}, tamper)
