"""s35h4: `graph._recompute` (and `graph.forward` with `graph.SERIAL_FORWARD`) run torch
on one thread (`quant.serial_torch`, `graph.SERIAL_TORCH`) and restore the caller's
thread count, also on an error; the integers are those of a run with torch's default threads (random
and extreme values through the matmul / einsum / rescale paths of a tiny graph)."""

from __future__ import annotations

import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore import segments as segmentlib
from zklora.zkcore.op import OpNode, TensorSpec


def test_serial_torch_restores():
    n = torch.get_num_threads()
    with quant.serial_torch():
        assert torch.get_num_threads() == 1
        with quant.serial_torch():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == n
    with pytest.raises(RuntimeError), quant.serial_torch():
        raise RuntimeError
    assert torch.get_num_threads() == n


def _probe_graph():
    return graphlib.Graph(
        tensors={"a": TensorSpec("a", (4,), "committed", None),
                 "b": TensorSpec("b", (4,), "committed", None)},
        nodes=[OpNode("probe", "p", ("a",), ("b",), {})])


class _Probe:
    """An op recording torch's thread count when it runs."""

    def __init__(self, seen):
        self.seen = seen

    def check(self, node, specs):
        pass

    def forward(self, node, inputs):
        self.seen.append(torch.get_num_threads())
        return [inputs[0] + 1]


class _Reg:
    def __init__(self, seen):
        self.probe = _Probe(seen)

    def op(self, name):
        return self.probe


@pytest.fixture
def two_threads():
    """torch on 2 threads for the test (whatever the host's count), restored after."""
    n = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(n)


@pytest.mark.parametrize("serial", [True, False])
def test_graph_forward_threads(monkeypatch, two_threads, serial):
    monkeypatch.setattr(graphlib, "SERIAL_FORWARD", serial)
    seen: list[int] = []
    out = graphlib.forward(_probe_graph(), {"a": torch.arange(4)}, _Reg(seen))
    assert torch.equal(out["b"], torch.arange(4) + 1)
    assert seen == ([1] if serial else [2]) and torch.get_num_threads() == 2


@pytest.mark.parametrize("serial", [True, False])
def test_recompute_threads(monkeypatch, two_threads, serial):
    monkeypatch.setattr(graphlib, "SERIAL_TORCH", serial)
    seen: list[int] = []
    seg = segmentlib.Segment(0, "s0", 0, 1)
    local = graphlib._recompute(_probe_graph(), _Reg(seen), seg, {"a": torch.arange(4)})
    assert torch.equal(local["b"], torch.arange(4) + 1)
    assert seen == ([1] if serial else [2]) and torch.get_num_threads() == 2


def test_switch_defaults():
    assert graphlib.SERIAL_TORCH is True and graphlib.SERIAL_FORWARD is False


def test_recompute_restores_on_error(two_threads):
    class Bad(_Probe):
        def forward(self, node, inputs):
            raise RuntimeError("boom")

    reg = _Reg([])
    reg.probe = Bad([])
    with pytest.raises(RuntimeError):
        graphlib._recompute(_probe_graph(), reg, segmentlib.Segment(0, "s0", 0, 1),
                            {"a": torch.arange(4)})
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("lim", [0, 1, 2 ** 20, 2 ** 40])
def test_same_integers_serial(lim):
    """The witness's torch ops (an int64 matmul, einsum, shift) give the same integers on
    one thread as on two, wrap-around included."""
    from zklora.plugins.ops import matmul as mm

    gen = torch.Generator().manual_seed(lim % 65521)
    x = torch.randint(-lim, lim + 1, (64, 512), generator=gen, dtype=torch.int64)
    w = torch.randint(-lim, lim + 1, (512, 256), generator=gen, dtype=torch.int64)
    if lim:
        x[0, 0], w[0, 0] = lim, -lim
    node = OpNode("matmul", "t", ("x", "w"), ("y",), {})

    def run():
        return (mm.MatMul().forward(node, [x, w])[0], torch.einsum("mk,kn->mn", x, w),
                (x * 3 + (1 << 5)) >> 6)

    n = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = run()
        with quant.serial_torch():
            one = run()
    finally:
        torch.set_num_threads(n)
    assert all(torch.equal(a, b) for a, b in zip(one, two))
