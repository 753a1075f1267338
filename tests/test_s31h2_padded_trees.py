"""The rescales' padded widths are costed with three lookup trees (issue 13, s31h2).

`rescale._padded_widths` chooses the virtual Ys' limb widths with
`rescale.PADDED_WIDTH_TREES` (3) trees whatever `range.LOOKUP_TREES` is: with four trees
for the argument (`range.padded_checks` and `logup_gkr.MAX_LOOKUP_TREES`), the 84M
graph's virtual-Y widths stay those of three trees (an 18-bit limb, range18's table),
only the prove-time checks and the tree grouping change."""

from __future__ import annotations

import pytest

from zklora.plugins.ops import rescale as rescalelib
from zklora.zkcore import range as rangelib

SHAPES = {"tiny": (None, 1, 16), "84m": ((1024, 4096, 4, 8192, 32), 1, 32)}


def _widths(size: str) -> dict:
    from tests.bench.work_counts import graph_of

    g = graph_of(*SHAPES[size])
    return {n.name: (tuple(n.params.get("limbs", ())), tuple(n.params.get("r_limbs", ())))
            for n in g.nodes if n.op == "rescale"}


def test_rescale_costs_with_three_trees(monkeypatch):
    """Every `choose_widths` call of `_padded_widths` names ``most`` = 3 (the default
    would follow `range.LOOKUP_TREES`)."""
    seen = []
    orig = rangelib.choose_widths

    def spy(*a, **k):
        seen.append(k.get("most"))
        return orig(*a, **k)

    monkeypatch.setattr(rangelib, "choose_widths", spy)
    _widths("tiny")
    assert seen and all(m == rescalelib.PADDED_WIDTH_TREES == 3 for m in seen)


def test_84m_virtual_y_widths_keep_three_trees(monkeypatch):
    """At 84M four trees would move the virtual Ys' widths (no 18-bit limb left); the
    pinned three keep them."""
    three = _widths("84m")
    assert any(18 in ly + lr for ly, lr in three.values())
    monkeypatch.setattr(rescalelib, "PADDED_WIDTH_TREES", 4)
    four = _widths("84m")
    assert four != three
    assert not any(18 in ly + lr for ly, lr in four.values())


@pytest.mark.parametrize("most", [3, 4])
def test_padded_checks_follow_lookup_trees(most):
    """`tree_leaves` with three or four trees: the fourth takes the rest padded."""
    total = (1 << 25) + (1 << 24) + (1 << 23) + 2_900_000
    want = (1 << 26) if most == 3 else (1 << 25) + (1 << 24) + (1 << 23) + (1 << 22)
    assert rangelib.tree_leaves(total, most) == want
