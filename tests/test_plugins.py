"""Plugin system: built-ins come through entry points, and an op registered from
outside the package proves a graph like a built-in one."""

from __future__ import annotations

import types

import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import PluginError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import Op
from zklora.zkcore.plugins import registry_with

from .conftest import backend_for


class Double(Op):
    """Y = 2·X: a linear op — the claim Ỹ(r) = v becomes X̃(r) = v/2."""

    name = "third-party-double"

    def forward(self, node, inputs):
        return [2 * inputs[0]]

    def prove(self, ctx, node, out_claims):
        (c,) = out_claims.values()
        half = ctx.E.inv(ctx.E.scalar(2)[None])[0]
        return [ctx.claim(node.inputs[0], c.point, ctx.E.mul(c.value, half))]

    verify = prove


def _third_party_module():
    mod = types.ModuleType("thirdparty_zk_plugin")

    @hookimpl
    def zk_ops():
        return [Double()]

    mod.zk_ops = zk_ops
    return mod


def test_builtins_registered_through_entry_points(reg):
    assert "goldilocks" in reg.names("field")
    assert "plain" in reg.names("commitment")
    assert "matmul" in reg.names("op")
    origin = reg.entries[("op", "matmul")].origin
    assert "zklora.plugins.ops.matmul" in origin


def test_external_op_proves_a_graph():
    reg = registry_with(_third_party_module())
    assert "third-party-double" in reg.names("op")
    assert "thirdparty_zk_plugin" in reg.entries[("op", "third-party-double")].origin
    be = backend_for(reg, "goldilocks")
    g = graphlib.Graph()
    g.tensor("X", (4, 8), "committed")
    g.tensor("W", (8, 2), "committed")
    g.tensor("T", (4, 2), "virtual")
    g.tensor("Y", (4, 2), "committed")
    g.op("matmul", "mm", ["X", "W"], ["T"])
    g.op("third-party-double", "dbl", ["T"], ["Y"])
    g.outputs = ["Y"]
    wit = {"X": torch.randint(-5, 5, (4, 8)), "W": torch.randint(-5, 5, (8, 2))}
    stream, sections = graphlib.prove(g, wit, be, {})
    graphlib.verify(g, stream, be, {}, sections)


def test_unknown_plugin_is_a_clear_error(reg):
    with pytest.raises(PluginError, match="unknown op 'nope'; registered: .*matmul"):
        reg.op("nope")


def test_misspelled_hook_fails_at_start():
    mod = types.ModuleType("typo_plugin")

    @hookimpl
    def zk_opps():
        return []

    mod.zk_opps = zk_opps
    with pytest.raises(PluginError, match="zk_opps"):
        registry_with(mod)


def test_duplicate_names_rejected():
    mod = types.ModuleType("dup_plugin")

    @hookimpl
    def zk_ops():
        from zklora.plugins.ops.matmul import MatMul

        return [MatMul()]

    mod.zk_ops = zk_ops
    with pytest.raises(PluginError, match="registered twice"):
        registry_with(mod)


def test_backends_are_a_plugin_kind(reg):
    """Compute backends come through the ``zk_backends`` hook like every other kind, and
    the registry reports each one's availability (what ``zklora plugins`` prints)."""
    from zklora.zkcore.plugins import KINDS

    assert "backend" in KINDS
    assert {"cpu", "cuda"} <= set(reg.names("backend"))
    assert "zklora.plugins.backends.cpu" in reg.entries[("backend", "cpu")].origin
    assert reg.entries[("backend", "cpu")].status == "available"
    cuda = reg.entries[("backend", "cuda")].status
    assert cuda == "available" or cuda.startswith("unavailable: ")
    assert reg.entries[("op", "matmul")].status == ""
    kinds = [e.kind for e in reg.all()]   # listed kind by kind, in KINDS order
    assert kinds == sorted(kinds, key=KINDS.index)
    assert "backend" in kinds


def test_third_party_backend_registers():
    from zklora.zkcore.backend import Availability

    mod = types.ModuleType("thirdparty_backend")
    cpu = registry_with().backend("cpu")

    class Toy(cpu):
        name = "toy"

        @classmethod
        def available(cls):
            return Availability(False, "needs a toy accelerator")

    @hookimpl
    def zk_backends():
        return [Toy]

    mod.zk_backends = zk_backends
    reg = registry_with(mod)
    assert reg.entries[("backend", "toy")].status == "unavailable: needs a toy accelerator"
