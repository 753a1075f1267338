"""s40h4: `graph._narrow_type` and `range._self_check` take their (min, max) from
`int_gemm.minmax_i64` on contiguous int64 values (torch.aminmax otherwise): the same
narrow types as torch.aminmax gives, and the same pass / error for values in range, out
of range at either end, non-contiguous and non-int64 tensors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from zklora.zkcore import graph
from zklora.zkcore import range as R
from zklora.zkcore.errors import ProverError


def _aminmax_type(a):
    lo, hi = (int(v) for v in torch.aminmax(torch.from_numpy(a)))
    return graph._narrow_of(lo, hi)


@pytest.mark.parametrize("lo,hi", [(0, 1), (0, 255), (-128, 127), (0, 256), (-129, 5),
                                   (0, 65535), (-32768, 32767), (0, 1 << 32),
                                   (-(1 << 31), (1 << 31) - 1), (-(1 << 63), (1 << 63) - 1)])
def test_narrow_type_as_aminmax(lo, hi):
    rng = np.random.default_rng(lo & 0xFFFF)
    a = rng.integers(lo, hi, 1001, dtype=np.int64, endpoint=True)
    a[17], a[900] = lo, hi
    assert graph._narrow_type(a) == _aminmax_type(a)
    s = a[::3]                       # non-contiguous: the torch path
    assert graph._narrow_type(s) == _aminmax_type(s)
    assert graph._narrow_type(a[:1]) == _aminmax_type(a[:1])


class _Ctx:
    prover = True

    def __init__(self, x):
        self.x = x

    def value(self, name):
        return self.x


def _rc(lo, hi):
    return SimpleNamespace(tensor="t", lo=lo, hi=hi, label="lab")


@pytest.mark.parametrize("make", [lambda a: a, lambda a: a[::2], lambda a: a.to(torch.int32),
                                  lambda a: a.reshape(5, -1).t()])
def test_self_check_same_verdicts(make):
    base = torch.arange(-50, 50, dtype=torch.int64)
    x = make(base)
    lo, hi = int(x.min()), int(x.max())
    R._self_check(_Ctx(x), _rc(lo, hi))                 # in range: passes
    with pytest.raises(ProverError, match=f"value {hi} at flat index"):
        R._self_check(_Ctx(x), _rc(lo, hi - 1))
    with pytest.raises(ProverError, match=f"value {lo} at flat index"):
        R._self_check(_Ctx(x), _rc(lo + 1, hi))
    R._self_check(_Ctx(x[:0]), _rc(0, 0))                # empty: passes
