"""`ProverContext.table` over goldilocks: a tensor with no negative entry is a read-only
view of its int64 values (`op._u64_view`), equal to `from_ints`; otherwise a copy."""

from __future__ import annotations

import numpy as np
import torch

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import op as oplib
from zklora.zkcore.plugins import registry


def test_table_view_equals_from_ints():
    v = torch.tensor([0, 1, 5, (1 << 63) - 1, 1 << 40], dtype=torch.int64)
    t = oplib._u64_view(GOLDILOCKS, v)
    assert t is not None and not t.flags.writeable
    assert np.shares_memory(t, v.numpy())
    assert np.array_equal(t, GOLDILOCKS.from_ints(v))
    assert oplib._u64_view(GOLDILOCKS, torch.tensor([3, -1], dtype=torch.int64)) is None
    assert oplib._u64_view(GOLDILOCKS, torch.tensor([3, 1], dtype=torch.int32)) is None
    assert oplib._u64_view(GOLDILOCKS, torch.arange(8).reshape(2, 4).T) is None  # strided
    bls = registry().field("bls12-381-fr")
    assert oplib._u64_view(bls, torch.tensor([3, 1], dtype=torch.int64)) is None


def test_context_table_view_and_copy():
    vals = {"a": torch.arange(16, dtype=torch.int64), "b": torch.arange(16) - 8}
    ctx = oplib.ProverContext(GOLDILOCKS, None, {}, {}, vals, object())
    a, b = ctx.table("a"), ctx.table("b")
    assert np.shares_memory(a, vals["a"].numpy()) and not a.flags.writeable
    assert not np.shares_memory(b, vals["b"].numpy())
    assert np.array_equal(a, GOLDILOCKS.from_ints(vals["a"]))
    assert np.array_equal(b, GOLDILOCKS.from_ints(vals["b"]))
