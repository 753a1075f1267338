"""Typed op parameters and input/output roles (`zklora.zkcore.op.Op.check`): malformed
nodes of the built-in ops are refused with the project's errors on both sides, before
any proof byte, by the op conformance suite's ``malformed`` and ``bad_params`` checks."""

from __future__ import annotations

import attrs
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ConfigError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.op import NoParams, Op, OpNode, param, parse_params
from zklora.zkcore.plugins import registry
from zklora.zkcore.testing import op_suite
from zklora.zkcore.testing.op_suite import REMOVE, OpHarness

from .conftest import backend_for

B = 1 << 12


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def rescale_graph():
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-B, B))
    g.tensor("Y", (4, 4), "committed", (-(B >> 4) - 1, (B >> 4) + 1))
    g.tensor("R", (4, 4), "committed", (0, 15))
    g.op("rescale", "r", ["X"], ["Y", "R"], shift=4)
    g.outputs = ["Y"]
    return g


def two_inputs(seed, xs=(4, 4), ws=(4, 4)):
    return {"X": torch.randint(-B, B, xs, generator=_gen(seed)),
            "W": torch.randint(-B, B, ws, generator=_gen(seed + 1))}


def hadamard_graph():
    g = Graph()
    g.tensor("X", (4, 4), "committed", (-B, B))
    g.tensor("W", (4, 4), "committed", (-B, B))
    g.tensor("Y", (4, 4), "committed")
    g.op("hadamard", "h", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    return g


def matmul_graph():
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-B, B))
    g.tensor("W", (4, 8), "committed", (-B, B))
    g.tensor("Y", (4, 4), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"], transpose_b=True)
    g.outputs = ["Y"]
    return g


def silu_graph():
    g = Graph()
    # G at scale 2^12, the table at 2^8 on [-2^9, 2^9): |G| < 2^13
    g.tensor("G", (4, 4), "committed", (-8000, 8000))
    lo = -(1 << 9)
    g.tensor("Gq", (4, 4), "committed", (lo, -lo - 1))
    g.tensor("Rq", (4, 4), "committed", (0, 15))
    g.tensor("Sg", (4, 4), "committed")
    g.op("silu", "s", ["G"], ["Gq", "Rq", "Sg"], shift=4, in_scale=8, out_scale=8,
         domain_bits=10)
    g.outputs = ["Sg"]
    return g


def silu_inputs(seed):
    return {"G": torch.randint(-8000, 8000, (4, 4), generator=_gen(seed))}


def softmax_graph():
    g = Graph()
    g.tensor("X", (2, 4), "committed", (-(1 << 18), 1 << 18))
    names = registry().builder("softmax")(g, "sm", "X", scale=8, shift=8, kappa=1,
                                          digit_bits=6, exp_scale=8, limb_bits=8)
    g.outputs = [names["P"]]
    return g


def softmax_inputs(seed):
    return {"X": torch.randint(-(1 << 18), 1 << 18, (2, 4), generator=_gen(seed))}


HARNESSES = [
    OpHarness("rescale", rescale_graph,
              lambda s: {"X": torch.randint(-B, B, (4, 4), generator=_gen(s))},
              profiles=("debug",),
              bad_params=[{"shift": REMOVE}, {"shift": "4"}, {"shift": 0}, {"shift": 4.5},
                          {"shift": None}, {"rounding": "up"}]),
    OpHarness("hadamard", hadamard_graph, two_inputs, profiles=("debug",),
              bad_params=[{"c": 2}]),
    OpHarness("matmul", matmul_graph, lambda s: two_inputs(s, (4, 8), (4, 8)),
              profiles=("debug",),
              bad_params=[{"transpose_b": "yes"}, {"group": 3}, {"group": 0},
                          {"transpose": True}]),
    OpHarness("silu", silu_graph, silu_inputs, profiles=("debug",),
              bad_params=[{"shift": REMOVE}, {"domain_bits": "10"}, {"in_scale": -1}]),
    OpHarness("softmax", softmax_graph, softmax_inputs, profiles=("debug",),
              bad_params=[{"kappa": 0}, {"scale": REMOVE}, {"limb_bits": 99}]),
]


@op_suite.parametrize(*HARNESSES, checks=["complete", "bad_params", "malformed"])
def test_builtin_op_refuses_malformed_nodes(harness, check):
    check(harness)


def _small(seed, *names, shape=(4, 4)):
    return {n: torch.randint(-B, B, shape, generator=_gen(seed + i)) for i, n in
            enumerate(names)}


def _unary(op, ins=("X",), shape=(4, 4), out_shape=None, out_kind="committed", **params):
    def build():
        g = Graph()
        for x in ins:
            g.tensor(x, shape, "committed", (-B, B))
        g.tensor("Y", out_shape or shape, out_kind)
        g.op(op, "n", list(ins), ["Y"], **params)
        g.outputs = ["Y"]
        return g
    return build


def _shift_labels_graph():
    g = Graph()
    g.tensor("ids", (8,), "committed", (0, 15))
    g.outputs = [registry().builder("shift_labels")(g, "sl", "ids", 4, ignore=-100)]
    return g


def _sgd_graph():
    g = Graph()
    g.tensor("theta", (4, 4), "committed", (-(1 << 16), (1 << 16) - 1))
    g.tensor("grad", (4, 4), "committed", (-(1 << 20), 1 << 20))
    registry().builder("sgd")(g, "opt", "theta", "grad", lr=1e-2)
    return g


def _ce_graph():
    from .test_cross_entropy_op import ce_graph, wit
    g, _ = ce_graph(wit())
    return g


def _harnesses_more():
    from .test_attention_backward_op import sb_graph
    from .test_cross_entropy_backward_op import with_forward
    from .test_cross_entropy_op import wit as ce_wit
    from .test_embedding_op import emb_graph
    from .test_embedding_op import wit as emb_wit
    from .test_optim_ops import chain
    from .test_rmsnorm_op import rms_graph
    from .test_rmsnorm_op import wit as rms_wit
    from .test_rope_op import rope_graph
    from .test_silu_backward_op import bwd_graph
    from .test_silu_backward_op import wit as silu_wit
    from .test_silu_op import swiglu_graph
    from .test_silu_op import wit as swiglu_wit

    return [
        OpHarness("add", _unary("add", ("X", "W")), lambda s: _small(s, "X", "W"),
                  profiles=("debug",)),
        OpHarness("sub", _unary("sub", ("X", "W")), lambda s: _small(s, "X", "W"),
                  profiles=("debug",)),
        OpHarness("scale", _unary("scale", c=3), lambda s: _small(s, "X"), profiles=("debug",),
                  bad_params=[{"c": REMOVE}, {"c": 1.5}]),
        OpHarness("lincomb", _unary("lincomb", ("X", "W"), coeffs=[2, -1]),
                  lambda s: _small(s, "X", "W"), profiles=("debug",),
                  bad_params=[{"coeffs": [1]}, {"coeffs": "12"}]),
        OpHarness("transpose", _unary("transpose", out_shape=(8, 2), out_kind="committed",
                                      shape=(2, 8), axes=[1, 0]),
                  lambda s: _small(s, "X", shape=(2, 8)), profiles=("debug",),
                  bad_params=[{"axes": [0, 0]}, {"axes": [1]}]),
        OpHarness("shift_labels", _shift_labels_graph,
                  lambda s: {"ids": torch.randint(0, 16, (8,), generator=_gen(s))},
                  profiles=("debug",), bad_params=[{"seq": 3}, {"seq": 0}]),
        OpHarness("rope", lambda: rope_graph((2, 4, 8)),
                  lambda s: {"X": torch.randint(-B, B, (2, 4, 8), generator=_gen(s))},
                  profiles=("debug",), bad_params=[{"transpose": "no"}]),
        OpHarness("embedding", emb_graph, emb_wit, profiles=("debug",),
                  bad_params=[{"dim": 4}]),
        OpHarness("silu_grad", lambda: bwd_graph()[0], lambda s: silu_wit(seed=s),
                  profiles=("debug",), bad_params=[{"domain_bits": REMOVE}]),
        OpHarness("silu_lerp", lambda: swiglu_graph(interp=True)[0],
                  lambda s: swiglu_wit(seed=s)[0], profiles=("debug",),
                  bad_params=[{"slope_scale": REMOVE}, {"slope_scale": "8"},
                              {"domain_bits": 0}, {"shift": 0}]),
        OpHarness("silu_grad_lerp", lambda: bwd_graph(interp=True)[0],
                  lambda s: silu_wit(seed=s), profiles=("debug",),
                  bad_params=[{"slope_scale": REMOVE}, {"domain_bits": 25},
                              {"in_scale": -1}]),
        OpHarness("rmsnorm_rsqrt", lambda: rms_graph()[0], lambda s: rms_wit(seed=s)[0],
                  profiles=("debug",), bad_params=[{"x_max": -1}, {"limb_bits": 0}]),
        OpHarness("cross_entropy", _ce_graph, lambda s: ce_wit(), profiles=("debug",),
                  bad_params=[{"num_tokens": 0}, {"shift": 9}]),
        OpHarness("sgd", _sgd_graph, lambda s: {
            "theta": torch.randint(-(1 << 16), 1 << 16, (4, 4), generator=_gen(s)),
            "grad": torch.randint(-(1 << 20), 1 << 20, (4, 4), generator=_gen(s + 1))},
                  profiles=("debug",), bad_params=[{"plan": "?"}, {"lr": "fast"},
                                                    {"check_inputs": ["m"]}]),
        OpHarness("adamw", lambda: chain("adamw", (4, 4), 1)[0],
                  lambda s: chain("adamw", (4, 4), 1, seed=s)[1], profiles=("debug",),
                  bad_params=[{"betas": [0.9]}, {"step": 0}, {"eps": None}]),
        OpHarness("softmax_backward", lambda: sb_graph(8)[0], lambda s: sb_graph(8)[1],
                  profiles=("debug",), bad_params=[{"kappa": 0}, {"shift": 1}]),
        OpHarness("cross_entropy_backward", lambda: with_forward()[0],
                  lambda s: with_forward(s)[1], profiles=("debug",),
                  bad_params=[{"grad_scale": REMOVE}, {"num_tokens": -1}]),
    ]


@op_suite.parametrize(*_harnesses_more(), checks=["complete", "bad_params", "malformed"])
def test_more_builtin_ops_refuse_malformed_nodes(harness, check):
    check(harness)


# -- the facility -----------------------------------------------------------------------


@attrs.frozen
class _P:
    n: int = param("int", lo=1, hi=8)
    flag: bool = param("bool", default=False)
    xs: tuple[int, ...] | None = param("ints", optional=True)
    f: float = param("float", default=0.5, lo=0.0)


@pytest.mark.parametrize(("raw", "msg"), [
    ({}, "missing parameter 'n'"),
    ({"n": 1, "m": 2}, "unknown parameter 'm'"),
    ({"n": "1"}, "parameter 'n': expected an integer"),
    ({"n": 9}, "parameter 'n': 9 outside"),
    ({"n": True}, "parameter 'n': expected an integer"),
    ({"n": 1, "flag": "no"}, "parameter 'flag': expected a bool"),
    ({"n": 1, "xs": 3}, "parameter 'xs': expected a list"),
    ({"n": 1, "f": float("nan")}, "parameter 'f': expected a finite number"),
    ({"n": 1, "f": -1.0}, "parameter 'f'"),
])
def test_parse_params_refuses(raw, msg):
    with pytest.raises(ValueError, match=msg):
        parse_params(_P, raw)


def test_parse_params_converts():
    p = parse_params(_P, {"n": 2.0, "flag": 1, "xs": [1, 2]})
    assert p == _P(n=2, flag=True, xs=(1, 2), f=0.5)
    assert parse_params(_P, {"n": 3, "xs": None}).xs is None


class _Toy(Op):
    name = "toy"
    input_roles = ("A", "rest*")
    output_roles = ("Y", "aux?")
    Params = _P

    def forward(self, node, inputs):
        return [inputs[0]]


def test_check_names_op_node_and_parameter_and_caches():
    op = _Toy()
    node = OpNode("toy", "t1", ("a", "b"), ("y",), {"n": 3})
    p = op.check(node)
    assert p.n == 3 and op.params(node) is p  # parsed once per node
    io = op.io(node)
    assert (io.A, io.rest, io.Y, io.aux) == ("a", ("b",), "y", None)
    node.params["n"] = 4  # an in-place change is seen
    assert op.params(node).n == 4
    with pytest.raises(ConfigError, match=r"op toy node 't1': parameter 'n'"):
        op.check(OpNode("toy", "t1", ("a", "b"), ("y",), {"n": "x"}))
    with pytest.raises(VerificationError, match=r"op toy node 't2': 0 inputs, expected 2\+"):
        op.check(OpNode("toy", "t2", (), ("y",), {"n": 1}), error=VerificationError)
    with pytest.raises(ConfigError, match="3 outputs, expected 1..2"):
        op.check(OpNode("toy", "t3", ("a", "b"), ("y", "z", "w"), {"n": 1}))
    with pytest.raises(ConfigError, match="unknown parameter 'z'"):
        op.check(OpNode("toy", "t4", ("a", "b"), ("y",), {"z": 1, "n": 1}))


def test_no_params_and_undeclared():
    class Bare(Op):
        name = "bare"
        Params = NoParams

        def forward(self, node, inputs):
            return list(inputs)

    with pytest.raises(ConfigError, match="unknown parameter 'k'"):
        Bare().check(OpNode("bare", "b", (), (), {"k": 1}))

    class Legacy(Bare):
        Params = None

    assert Legacy().params(OpNode("bare", "b", (), (), {"k": 1})) == {"k": 1}


def test_verifier_refuses_before_reading_the_proof(reg):
    """A malformed node makes the verifier fail on the graph, whatever the proof."""
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    g = rescale_graph()
    g.nodes[0] = attrs.evolve(g.nodes[0], params={"shift": "4"})
    with pytest.raises(VerificationError, match=r"op rescale node 'r': parameter 'shift'"):
        graphlib.verify(g, b"", be, {})
    with pytest.raises(ConfigError, match=r"op rescale node 'r': parameter 'shift'"):
        graphlib.prove(g, {"X": torch.zeros(4, 4, dtype=torch.int64)}, be, {})
