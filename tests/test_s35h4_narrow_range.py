"""s35h4: `Witness.spill` takes a tensor's narrow storage type from the range
`_forward_node` found checking its bound (`Witness.note_range`) instead of another
min/max pass: the same type as `_narrow_type`, the same integers read back (edge values
of every narrow type), and a note for another tensor or an in-place-modified one is
ignored (the pass runs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch
from zklora.zkcore.op import OpNode, TensorSpec

EDGES = [(0, 0), (0, 255), (0, 256), (-1, 0), (-128, 127), (-129, 0), (0, 65535),
         (0, 65536), (-32768, 32767), (-32769, 1), (0, 2 ** 32 - 1), (0, 2 ** 32),
         (-2 ** 31, 2 ** 31 - 1), (-2 ** 31 - 1, 0), (-2 ** 62, 2 ** 62)]


def _tensor(lo, hi, n=64):
    gen = torch.Generator().manual_seed((lo * 31 + hi) % 65521)
    v = torch.randint(0, 1 << 20, (n,), generator=gen, dtype=torch.int64) % (hi - lo + 1) + lo \
        if hi - lo < 1 << 20 else torch.randint(lo, hi, (n,), generator=gen, dtype=torch.int64)
    v[0], v[-1] = lo, hi
    return v


@pytest.mark.parametrize("lo,hi", EDGES)
def test_noted_range_gives_the_same_type_and_values(monkeypatch, lo, hi):
    v = _tensor(lo, hi)
    want = graphlib._narrow_type(v.numpy())
    assert graphlib._narrow_of(lo, hi) == want
    calls = []
    orig = graphlib._narrow_type
    monkeypatch.setattr(graphlib, "_narrow_type", lambda a: calls.append(1) or orig(a))
    with scratch.session(threshold=0):
        w = graphlib.Witness()
        w.note_range("x", v, lo, hi)
        w["x"] = v
        assert w.spill(["x"], force=True) == ["x"]
        assert np.dtype(w._disk["x"].dtype) == want
        assert torch.equal(w["x"], v) and w["x"].dtype == torch.int64
    assert calls == []


def test_stale_note_is_ignored(monkeypatch):
    """A note for a tensor modified in place after it (or for another tensor under the
    name) is not used: the min/max pass runs and the values survive."""
    calls = []
    orig = graphlib._narrow_type
    monkeypatch.setattr(graphlib, "_narrow_type", lambda a: calls.append(1) or orig(a))
    with scratch.session(threshold=0):
        w = graphlib.Witness()
        v = torch.arange(64, dtype=torch.int64)
        w.note_range("x", v, 0, 63)
        w["x"] = v
        v[5] = 1 << 40                       # in place, after the note
        u = torch.full((64,), -(1 << 33), dtype=torch.int64)
        w.note_range("y", torch.zeros(64, dtype=torch.int64), 0, 0)
        w["y"] = u                           # another tensor than the noted one
        assert sorted(w.spill(["x", "y"], force=True)) == ["x", "y"]
        assert torch.equal(w["x"], v) and torch.equal(w["y"], u)
    assert calls == [1, 1]


def test_forward_spill_uses_the_checked_range(monkeypatch):
    """`graph.forward`'s outputs with a declared bound are spilled without another pass,
    as the same integers."""

    class Sq:
        def check(self, node, specs):
            pass

        def forward(self, node, inputs):
            return [inputs[0] * inputs[0] - 7]

    class Reg:
        def op(self, name):
            return Sq()

    g = graphlib.Graph(
        tensors={"a": TensorSpec("a", (256,), "committed", (-300, 300)),
                 "b": TensorSpec("b", (256,), "committed", (-10, 90000))},
        nodes=[OpNode("sq", "p", ("a",), ("b",), {})])
    a = torch.arange(-128, 128, dtype=torch.int64)
    calls = []
    orig = graphlib._narrow_type
    monkeypatch.setattr(graphlib, "_narrow_type", lambda x: calls.append(1) or orig(x))
    with scratch.session(threshold=0):
        out = graphlib.forward(g, {"a": a}, Reg())
        assert sorted(out.spill(["a", "b"], force=True)) == ["a", "b"]
        assert torch.equal(out["a"], a) and torch.equal(out["b"], a * a - 7)
    assert calls == []


def test_narrow_of_matches_numpy():
    for lo, hi in EDGES:
        dt = graphlib._narrow_of(lo, hi)
        info = np.iinfo(dt)
        assert info.min <= lo and hi <= info.max
