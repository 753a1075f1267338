"""`StackLayout.stack_from(ints=True)` (integer tables mapped to the field as they are
stacked, a block at a time) and `published.commit_groups` taking integer tables: the same
stacked vectors and commitments as converting every table first."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore import published, scratch, stack

from .conftest import backend_for

P = (1 << 64) - (1 << 32) + 1
EDGE = [0, 1, -1, P - 1, P - 2, -(P - 1) // 2, (P - 1) // 2, (1 << 63) - 1, -(1 << 63)]


def _tables(sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in sizes:
        t = rng.integers(-(1 << 62), 1 << 62, s, dtype=np.int64)
        e = np.array([v if -(1 << 63) <= v < (1 << 63) else v - P for v in EDGE],
                     dtype=np.int64)
        t[:min(s, len(e))] = e[:s]
        out.append(t)
    return out


@pytest.mark.parametrize("block", [1, 5, 1 << 17])
@pytest.mark.parametrize("threshold", [None, 0])
def test_stack_from_ints_equals_converted(reg, monkeypatch, block, threshold):
    F = reg.field("goldilocks")
    monkeypatch.setattr(stack, "FROM_INTS_BLOCK", block)
    sizes = [64, 8, 32, 1, 2, 8, 1 << 15]
    lay = stack.StackLayout(sizes)
    ints = _tables(sizes)
    ints[1] = torch.from_numpy(ints[1])           # torch tensors are taken too
    ints[2] = ints[2].astype(np.int32)             # narrower integers
    ints[3] = np.array([True])
    ref = lay.stack(F, [F.from_ints(t) for t in ints])
    if threshold is None:
        got = lay.stack_from(F, list(ints), ints=True)
        assert not scratch.is_mapped(got)
        assert np.array_equal(got, ref) and not got.flags.writeable
        return
    with scratch.session(threshold=threshold):
        lst = list(ints)
        got = lay.stack_from(F, lst, ints=True)
        assert scratch.is_mapped(got) and not got.flags.writeable
        assert np.array_equal(np.asarray(got), ref)
        assert lst == [None] * len(lst)


def test_stack_from_ints_needs_base_field(reg):
    E = reg.field("goldilocks").ext
    with pytest.raises(ValueError):
        stack.StackLayout([4]).stack_from(E, [np.zeros(4, np.int64)], ints=True)


@pytest.mark.parametrize("threshold", [None, 0])
@pytest.mark.parametrize("commitment", ["plain", "whir"])
def test_commit_groups_ints_same_commitments(reg, threshold, commitment):
    be = backend_for(reg, "goldilocks", commitment)
    F, scheme = be.field, be.scheme
    sizes = {"a": 10, "b": 6, "c": 6, "d": 3, "e": 12}
    ints = dict(zip(sizes, _tables([1 << v for v in sizes.values()], seed=4)))
    ints["d"] = [int(v) for v in ints["d"]]          # Python ints: converted first
    ints["b"] = F.from_ints(ints["b"]).astype(np.uint64)   # uint64 integers (reduced)
    groups = published.plan("frozen", list(sizes.items()))

    def run(values):
        states: dict = {}
        if threshold is None:
            return published.commit_groups(scheme, F, groups, values, states), states
        with scratch.session(threshold=threshold):
            return published.commit_groups(scheme, F, groups, values, states), states

    got, st = run(lambda n: ints[n])
    want, st2 = run(lambda n: F.from_ints(np.asarray(ints[n], dtype=object)
                                          if n == "d" else ints[n]))
    assert [g.commitment for g in got] == [g.commitment for g in want]
    for n in sizes:
        assert np.array_equal(np.asarray(st[n].table), np.asarray(st2[n].table))
