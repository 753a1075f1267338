"""`graph._declared` (the ops' static range checks and lookups) memoised on the graph:
replayed while the graph is unchanged, recomputed — whole, or node by node — when a node
is added or replaced, a spec or a node's parameters change, or the registry differs;
equal to a fresh computation (the pre-memo loop, `_reference`) at every step; the lists
handed out are copies."""

from __future__ import annotations

import attrs
import pytest

from zklora.zkcore import graph as graphlib
from zklora.zkcore import op as oplib
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.op import OpNode
from zklora.zkcore.plugins import registry as default_registry

METHODS = (("range_checks", "range checks"), ("lookups", "lookups"))


def _reference(g: Graph, reg, method: str) -> list[tuple[str, list]]:
    out = []
    for node in g.nodes:
        op = reg.op(node.op)
        out.append((node.name, list(getattr(op, method)(node, op.check(node, g.tensors,
                                                                         ConfigError),
                                                        g.tensors))))
    return out


def _memo(g: Graph, reg, method: str, what: str) -> list[tuple[str, list]]:
    return [(n.name, d) for n, d in graphlib._declared(g, reg, method, what, ConfigError)]


def _same_as_fresh(g: Graph, reg) -> None:
    for method, what in METHODS:
        assert _memo(g, reg, method, what) == _reference(g, reg, method)
    fresh = attrs.evolve(g)          # a new Graph object: an empty memo
    assert not fresh._dmemo
    assert graphlib.static_range_checks(g, reg) == graphlib.static_range_checks(fresh, reg)
    assert graphlib.static_lookups(g, reg) == graphlib.static_lookups(fresh, reg)


@pytest.fixture
def checks(monkeypatch):
    """Counts `Op.check` calls by node name."""
    seen: list[str] = []
    orig = oplib.Op.check

    def check(self, node, *a, **k):
        seen.append(node.name)
        return orig(self, node, *a, **k)

    monkeypatch.setattr(oplib.Op, "check", check)
    return seen


def _small() -> Graph:
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-(1 << 12), 1 << 12))
    g.tensor("W", (8, 4), "committed", (-(1 << 12), 1 << 12))
    g.tensor("T", (4, 4), "virtual")
    g.tensor("Y", (4, 4), "committed", (-(1 << 23), (1 << 23) - 1))
    g.tensor("R", (4, 4), "committed", (0, 15))
    g.op("matmul", "mm", ["X", "W"], ["T"])
    g.op("rescale", "rs", ["T"], ["Y", "R"], shift=4)
    g.outputs = ["Y"]
    return g


def _add_rescale(g: Graph, name: str, src: str, shift: int = 3) -> None:
    g.tensor(f"{name}/Y", (4, 4), "committed", (-(1 << 20), (1 << 20) - 1))
    g.tensor(f"{name}/R", (4, 4), "committed", (0, (1 << shift) - 1))
    g.op("rescale", name, [src], [f"{name}/Y", f"{name}/R"], shift=shift)


def test_replayed_while_unchanged(checks):
    g, reg = _small(), default_registry()
    first = graphlib.static_range_checks(g, reg)
    n = len(checks)
    assert n == 2
    for _ in range(3):
        assert graphlib.static_range_checks(g, reg) == first
    assert len(checks) == n                  # replayed: no op.check
    _same_as_fresh(g, reg)


def test_node_added_is_seen(checks):
    g, reg = _small(), default_registry()
    before = graphlib.static_range_checks(g, reg)
    _add_rescale(g, "rs2", "Y")
    after = graphlib.static_range_checks(g, reg)
    assert [c.tensor for c in after] == [c.tensor for c in before] + ["rs2/R", "rs2/Y"]
    _same_as_fresh(g, reg)


def test_only_changed_nodes_recomputed(checks):
    g, reg = _small(), default_registry()
    _add_rescale(g, "rs2", "Y")
    graphlib.static_range_checks(g, reg)
    del checks[:]
    i = [n.name for n in g.nodes].index("rs2")
    node = g.nodes[i]
    g.tensors["rs2/R"] = attrs.evolve(g.tensors["rs2/R"], bound=(0, 3))
    g.nodes[i] = OpNode(node.op, node.name, node.inputs, node.outputs, {"shift": 2})
    got = graphlib.static_range_checks(g, reg)
    assert checks == ["rs2"]                 # the others: replayed node by node
    assert [(c.tensor, c.hi) for c in got if c.tensor == "rs2/R"] == [("rs2/R", 3)]
    _same_as_fresh(g, reg)


def test_spec_change_recomputes_its_node(checks):
    g, reg = _small(), default_registry()
    graphlib.static_range_checks(g, reg)
    g.tensors["R"] = attrs.evolve(g.tensors["R"], bound=(0, 15))   # equal: replayed
    del checks[:]
    graphlib.static_range_checks(g, reg)
    assert checks == []
    g.tensors["Y"] = attrs.evolve(g.tensors["Y"], bound=(-(1 << 22), (1 << 22) - 1))
    got = graphlib.static_range_checks(g, reg)
    assert checks == ["rs"]
    _same_as_fresh(g, reg)
    assert got == [rc for rc in graphlib.static_range_checks(attrs.evolve(g), reg)]


def test_params_edited_in_place(checks):
    g, reg = _small(), default_registry()
    g.tensors["R"] = attrs.evolve(g.tensors["R"], bound=(0, 7))
    g.tensors["Y"] = attrs.evolve(g.tensors["Y"], bound=(-(1 << 24), (1 << 24) - 1))
    graphlib.static_range_checks(g, reg)
    del checks[:]
    g.nodes[1].params["shift"] = 3           # the same node object, its params edited
    got = graphlib.static_range_checks(g, reg)
    assert "rs" in checks
    assert [(c.tensor, c.hi) for c in got if c.tensor == "R"] == [("R", 7)]
    _same_as_fresh(g, reg)


def test_other_registry_recomputes(checks):
    g, reg = _small(), default_registry()
    graphlib.static_range_checks(g, reg)
    del checks[:]

    class Other:
        def op(self, name):
            return reg.op(name)

    graphlib.static_range_checks(g, Other())
    assert sorted(checks) == ["mm", "rs"]


def test_copies_handed_out():
    g, reg = _small(), default_registry()
    for method, what in METHODS:
        for _, d in graphlib._declared(g, reg, method, what, ConfigError):
            d.append("junk")
        for _, d in graphlib._declared(g, reg, method, what, ConfigError):
            assert "junk" not in d
    _same_as_fresh(g, reg)


def test_failed_run_not_memoised(checks):
    g, reg = _small(), default_registry()
    g.tensors["Y"] = attrs.evolve(g.tensors["Y"], bound=None)
    for _ in range(2):
        with pytest.raises(ConfigError):
            graphlib.static_range_checks(g, reg)
    assert "range_checks" not in g._dmemo


def test_train_graph_every_stage_equal_to_fresh(checks):
    """The tiny training graph (its builders replace nodes and specs: `limb_outputs`):
    equal to a fresh computation; a second ask replays with no `op.check`."""
    from tests.bench.work_counts import graph_of

    g, reg = graph_of(None, 1, 16), default_registry()
    _same_as_fresh(g, reg)
    del checks[:]
    for method, what in METHODS:
        _memo(g, reg, method, what)
    assert checks == []
