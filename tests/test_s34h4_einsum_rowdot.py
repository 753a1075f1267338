"""s34h4: `Einsum.forward` of like-lettered operands (the row dots 'aoj,aoj->ao') as a
product and a one-operand einsum gives the same int64 tensor as torch's two-operand
int64 einsum, on random and extreme values (0, ±1, int64 wrap)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops import matmul as mm
from zklora.zkcore.einsum import letter_sizes, parse
from zklora.zkcore.errors import ProverError
from zklora.zkcore.op import OpNode

EINSUMS = [
    ("aoj,aoj->ao", {"a": 64, "o": 1, "j": 512}, [(64, 512), (64, 512)]),
    ("aoj,aoj->ao", {"a": 8, "o": 4, "j": 16}, [(32, 16), (32, 16)]),
    ("ij,ij->j", {}, [(8, 64), (8, 64)]),
    ("ij,ij->ji", {}, [(8, 64), (8, 64)]),
    ("bhtd,bhsd->bhts", {}, [(1, 4, 8, 16), (1, 4, 8, 16)]),   # not like-lettered
]


def _forward(spec, sizes, xs):
    node = OpNode("einsum", "t", tuple(f"x{i}" for i in range(len(xs))), ("y",),
                  {"spec": spec, "sizes": sizes})
    return mm.Einsum().forward(node, xs)[0]


def _ref(spec, sizes, xs):
    ins, _ = parse(spec)
    sz = letter_sizes([(t, x.shape) for t, x in zip(ins, xs)], sizes)
    return torch.einsum(spec, *(x.reshape([sz[c] for c in t]) for t, x in zip(ins, xs)))


@pytest.mark.parametrize("spec,sizes,shapes", EINSUMS)
@pytest.mark.parametrize("lim", [0, 1, 2 ** 18, 2 ** 26])
def test_einsum_rowdot_equals_int64(spec, sizes, shapes, lim):
    gen = torch.Generator().manual_seed(len(spec) * 7 + lim)
    xs = [torch.randint(-lim, lim + 1, s, generator=gen, dtype=torch.int64) for s in shapes]
    if lim:
        xs[0].view(-1)[0], xs[1].view(-1)[0] = lim, -lim
    y = _forward(spec, sizes, xs)
    ref = _ref(spec, sizes, xs)
    assert y.dtype == torch.int64 and y.shape == ref.shape and torch.equal(y, ref)


def test_einsum_rowdot_safe_bound_kept():
    """Past SAFE_MAX the op still refuses (the fast path runs after the check)."""
    x = torch.full((4, 64), 2 ** 31, dtype=torch.int64)
    with pytest.raises(ProverError):
        _forward("ij,ij->i", {}, [x, x])
    y = torch.full((4, 64), 2 ** 28, dtype=torch.int64)    # 64·2^31·2^28 = 2^65
    z = torch.full((4, 64), 2 ** 20, dtype=torch.int64)    # 64·2^31·2^20 = 2^57: fine
    assert torch.equal(_forward("ij,ij->i", {}, [x, z]), _ref("ij,ij->i", {}, [x, z]))
    with pytest.raises(ProverError):
        _forward("ij,ij->i", {}, [x, y])
