"""`Graph.producer`'s cached index follows every way callers change ``nodes``."""

import attrs
import pytest

from zklora.zkcore.graph import Graph
from zklora.zkcore.op import OpNode


def _graph(n: int = 4) -> Graph:
    g = Graph()
    g.tensor("x0", (2,), "committed")
    for i in range(n):
        g.tensor(f"x{i + 1}", (2,), "virtual")
        g.op("add", f"n{i}", [f"x{i}"], [f"x{i + 1}"])
    return g


def _scan(g: Graph, name: str):
    return next((n for n in g.nodes if name in n.outputs), None)


def test_producer_matches_a_scan():
    g = _graph()
    for t in [*g.tensors, "nope"]:
        assert g.producer(t) is _scan(g, t)
    with pytest.raises(ValueError, match="produced twice"):
        g.op("add", "again", ["x0"], ["x2"])


def test_producer_after_in_place_replacement():
    g = _graph()
    assert g.producer("x2").name == "n1"
    g.tensor("extra", (2,), "virtual")
    old = g.nodes[1]
    g.nodes[1] = attrs.evolve(old, outputs=old.outputs + ("extra",))
    assert g.producer("extra") is g.nodes[1]
    assert g.producer("x2") is g.nodes[1]
    with pytest.raises(ValueError, match="produced twice"):
        g.op("add", "dup", ["x0"], ["extra"])


def test_producer_after_list_replacement_and_discard():
    g = _graph()
    g.nodes = [n for n in g.nodes if n.name != "n3"]
    assert g.producer("x4") is None
    g.op("add", "n3b", ["x3"], ["x4"])
    assert g.producer("x4").name == "n3b"
    g.outputs.append("x2")
    g.discard("x4")
    assert g.producer("x4") is None and "x4" not in g.tensors
    assert [n.name for n in g.nodes] == ["n0", "n1"]   # x3 unread: n2 went too


def test_producer_returns_the_live_node_for_an_equal_replacement():
    g = _graph()
    assert g.producer("x1").name == "n0"
    g.nodes[0] = OpNode("add", "n0", ("x0",), ("x1",), {})   # equal, not identical
    assert g.producer("x1") is g.nodes[0]
