"""docs/writing-an-op.md: the example ops (an out-of-tree plugin in tests/example_ops)
pass the op conformance suite; deliberately wrong ones fail it."""

from __future__ import annotations

import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore.graph import Graph
from zklora.zkcore.plugins import registry_with
from zklora.zkcore.testing import op_suite
from zklora.zkcore.testing.op_suite import REMOVE, OpHarness, op_plugin, parametrize
from zklora.zkcore.testing.tamper import prove_tampered

from .example_ops import square_relu, wrong_ops
from .example_ops.square_relu import Relu

REG = registry_with(square_relu, wrong_ops)
SHAPE = (4, 8)


def square_graph(op: str = "square") -> Graph:
    g = Graph()
    g.tensor("X", SHAPE, "committed", (-100, 100))
    g.tensor("Y", SHAPE, "committed")
    g.op(op, "sq", ["X"], ["Y"])
    g.outputs = ["Y"]
    return g


def relu_graph(op: str = "relu") -> Graph:
    g = Graph()
    g.tensor("X", SHAPE, "committed", (-128, 127))
    g.tensor("Y", SHAPE, "committed", (0, 127))
    g.op(op, "relu", ["X"], ["Y"])
    g.outputs = ["Y"]
    return g


def square_inputs(seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"X": torch.randint(-100, 101, SHAPE, generator=gen)}


def relu_inputs(seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(-128, 128, SHAPE, generator=gen)
    x.view(-1)[:4] = torch.tensor([0, -1, 5, -7])  # both signs and the edge 0 / −1
    return {"X": x}


def square_unbounded() -> Graph:
    g = square_graph()
    g.tensors["X"] = type(g.tensors["X"])("X", SHAPE, "committed", None)
    return g


def relu_virtual_output() -> Graph:
    """ReLU's Y virtual (consumed by a square): relu needs Y committed."""
    g = Graph()
    g.tensor("X", SHAPE, "committed", (-128, 127))
    g.tensor("Y", SHAPE, "virtual")
    g.tensor("Z", SHAPE, "committed")
    g.op("relu", "relu", ["X"], ["Y"])
    g.op("square", "sq", ["Y"], ["Z"])
    g.outputs = ["Z"]
    return g


def relu_positive_bound() -> Graph:
    g = relu_graph()
    g.tensors["X"] = type(g.tensors["X"])("X", SHAPE, "committed", (0, 127))
    return g


SQUARE = OpHarness("square", square_graph, square_inputs, registry=REG,
                   bad_params=[{"shift": 3}], bad_graphs={"X without a bound": square_unbounded})
RELU = OpHarness("relu", relu_graph, relu_inputs, registry=REG,
                 implied_bounds=["relu/b"],  # b·b = b makes b boolean
                 bad_params=[{"shift": 3}],
                 bad_graphs={"Y virtual": relu_virtual_output,
                             "X's bound without negatives": relu_positive_bound})


@parametrize(SQUARE, RELU)
def test_example_op_conforms(harness, check):
    check(harness)


def test_op_instance_harness():
    """An op given as an instance is registered on top of the installed plugins."""
    h = OpHarness(Relu(), relu_graph, relu_inputs, profiles=("debug",))
    op_suite.check_written_once(h)
    op_suite.check_complete(h)
    assert set(op_suite.honest_plan(h).advice) == {"relu/b", "relu/t"}


# -- deliberately wrong ops fail the suite --------------------------------------------


def wrong(op: str) -> OpHarness:
    build = relu_graph if op.startswith("relu") else square_graph
    inputs = relu_inputs if op.startswith("relu") else square_inputs
    return OpHarness(op, lambda: build(op), inputs, registry=REG, profiles=("debug",))


def test_off_by_one_relation_fails_completeness():
    with pytest.raises(AssertionError, match="honest proof .* does not verify"):
        op_suite.check_complete(wrong("square_off_by_one"))
    with pytest.raises(AssertionError):
        op_suite.run_all(wrong("square_off_by_one"))


def test_missing_relation_fails_tamper():
    h = wrong("square_unchecked")
    op_suite.check_complete(h)  # honest proofs still verify
    with pytest.raises(AssertionError, match="output Y .* verifier accepted"):
        op_suite.check_tamper_outputs(h)


def test_missing_range_check_fails_bounds():
    h = wrong("relu_no_y_range")
    for name in ("complete", "tamper_outputs", "tamper_advice"):
        op_suite.CHECKS[name](h)  # one-element tampers do not see it ...
    with pytest.raises(AssertionError, match=r"not proven by the op.*Y \[0, 127\]"):
        op_suite.check_bounds_proven(h)  # ... the bounds check does


@pytest.mark.parametrize(("op", "accepted"), [("relu_no_y_range", True), ("relu", False)])
def test_missing_range_check_is_a_real_hole(op, accepted):
    """The coordinated cheat Y = X (negative outputs) is accepted without Y's range
    check and rejected with it."""
    # the same op, with the prover's selector 1 everywhere: with Y = X every equality
    # holds even where X < 0
    cheat = type("Cheat", (type(REG.op(op)),),
                 {"selector": staticmethod(lambda x: torch.ones_like(x))})()
    be_cheat = op_suite.resolve(op_suite.PROFILES["debug"], registry_with(op_plugin(cheat)))
    be = op_suite.resolve(op_suite.PROFILES["debug"], REG)
    g, x = relu_graph(op), relu_inputs(0)
    assert (x["X"] < 0).any()

    def tamper(values):
        values["Y"] = values["X"].clone()

    stream, sections = prove_tampered(g, x, be_cheat, {}, tamper)
    if accepted:
        graphlib.verify(g, stream, be, {}, sections)
    else:
        with pytest.raises(op_suite.VERIFIER_ERRORS):
            graphlib.verify(g, stream, be, {}, sections)


def test_bad_params_refusal_is_required():
    """A bad parameter the op ignores makes check_bad_params fail."""

    class Lenient(Relu):
        name = "relu_lenient"
        Params = None  # parameters not declared: the kernel does not check them

        def forward(self, node, inputs):
            return [inputs[0].clamp(min=0)]

        def relations(self, ctx, node, out_claims):
            node = type(node)(node.op, node.name, node.inputs, node.outputs, {})
            return super().relations(ctx, node, out_claims)

    h = OpHarness(Lenient(), lambda: relu_graph("relu_lenient"), relu_inputs,
                  profiles=("debug",), bad_params=[{"shift": REMOVE, "extra": 1}])
    with pytest.raises(AssertionError, match="prover accepted it"):
        op_suite.check_bad_params(h)


def test_bare_exception_fails_malformed():
    """An op whose forward unpacks its inputs unchecked crashes with a bare ValueError
    on a node with an extra input: check_malformed reports it."""

    class Crashy(Relu):
        name = "relu_crashy"
        input_roles = output_roles = None  # not declared: the kernel does not count them

        def forward(self, node, inputs):
            (x,) = inputs
            return [x.clamp(min=0)]

    h = OpHarness(Crashy(), lambda: relu_graph("relu_crashy"), relu_inputs,
                  profiles=("debug",))
    with pytest.raises(AssertionError, match="extra input: the prover raised ValueError"):
        op_suite.check_malformed(h)


def test_guide_excerpts_are_the_tested_code():
    """Every code block of docs/writing-an-op.md headed by a file name is verbatim in
    that file."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    guide = (root / "docs" / "writing-an-op.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n# (tests/\S+\.py)\n(.*?)```", guide, re.S)
    assert len(blocks) >= 4
    for path, code in blocks:
        assert code in (root / path).read_text(encoding="utf-8"), f"excerpt of {path} drifted"


def test_entry_point_registration(tmp_path, monkeypatch):
    """The guide's one entry point: an installed distribution naming the plugin module in
    the ``zklora`` entry-point group registers its ops, with the distribution as origin."""
    from zklora.zkcore.plugins import Registry, make_plugin_manager

    dist = tmp_path / "zklora_example_ops-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zklora-example-ops\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[zklora]\nsquare_relu = tests.example_ops.square_relu\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry(make_plugin_manager())
    for name in ("square", "relu"):
        assert "zklora-example-ops 0.1" in reg.entries[("op", name)].origin
    op_suite.check_complete(OpHarness("relu", relu_graph, relu_inputs, registry=reg,
                                      profiles=("debug",)))
