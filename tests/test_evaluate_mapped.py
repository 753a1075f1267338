"""`ProverContext.evaluate` of a committed tensor whose table is a view of a mapped stack
(issue 14): read a block at a time, each block's pages given back, the same value as
`mle.evaluate`."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import mle, op, scratch
from zklora.zkcore.plugins import registry


def _file_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[2]) * 4096 / 2**20


@pytest.mark.parametrize("n,block", [(0, 4), (3, 4), (4, 4), (9, 4), (10, 1), (12, 1 << 20)])
def test_evaluate_mapped_equals_mle_evaluate(tmp_path, monkeypatch, n, block):
    F = registry().field("goldilocks")
    E = F.ext
    monkeypatch.setattr(op, "EVAL_BLOCK", block)
    rng = np.random.default_rng(n)
    t = np.asarray(rng.integers(0, 2**63, size=1 << n), np.uint64)
    r = np.asarray(rng.integers(0, 2**63, size=(n, 2)), np.uint64)
    want = mle.evaluate(E, t, r, base=True)
    with scratch.session(str(tmp_path)) as s:
        # a committed tensor's table: a view into a larger stack
        mm = s.build((3 << n,), np.uint64, [(1 << n, t)])
        view = np.asarray(mm)[1 << n:2 << n]
        assert scratch.is_mapped(view)
        got = op.evaluate_mapped(E, view, r)
    assert np.array_equal(np.asarray(got), np.asarray(want))


def test_evaluate_mapped_gives_pages_back(tmp_path, monkeypatch):
    F = registry().field("goldilocks")
    E = F.ext
    monkeypatch.setattr(op, "EVAL_BLOCK", 1 << 16)
    n = 23                                       # 64 MiB table
    t = np.arange(1 << n, dtype=np.uint64)
    r = np.asarray(np.random.default_rng(1).integers(0, 2**63, size=(n, 2)), np.uint64)
    with scratch.session(str(tmp_path)) as s:
        mm = s.build((1 << n,), np.uint64, [(0, t)])
        scratch.drop(mm)
        before = _file_mib()
        v = op.evaluate_mapped(E, np.asarray(mm), r)
        assert _file_mib() - before < 8           # not the 64 MiB it read
        assert np.array_equal(np.asarray(v), np.asarray(mle.evaluate(E, t, r, base=True)))
