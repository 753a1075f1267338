"""s36h5: `int_gemm.minmax_i64` (the witness's declared-bound checks' min/max pass) against
its twin `minmax_ref` and ``torch.aminmax``; `graph._minmax` / `_check_declared` on
contiguous, non-contiguous and edge-valued tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.kernels.int_gemm import minmax_i64, minmax_ref
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProverError
from zklora.zkcore.op import TensorSpec

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def _cases():
    rng = np.random.default_rng(36)
    out = [np.array([7], np.int64), np.array([I64_MIN], np.int64),
           np.array([I64_MAX, I64_MIN], np.int64), np.array([I64_MIN, I64_MAX], np.int64),
           np.zeros(33, np.int64), np.full(1000, -5, np.int64)]
    for n in (2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1023, 4096, 32768, 131073):
        out.append(rng.integers(-(1 << 40), 1 << 40, n, dtype=np.int64))
        out.append(rng.integers(I64_MIN, I64_MAX, n, dtype=np.int64, endpoint=True))
        out.append(rng.integers(0, 256, n, dtype=np.int64))
    # the extreme at each position (first, second, middle, last, next to last)
    for n in (2, 5, 16, 17, 100):
        for pos in sorted({0, 1, n // 2, n - 2, n - 1}):
            for v in (I64_MIN, I64_MAX, -1 << 50, 1 << 50):
                a = rng.integers(-1000, 1000, n, dtype=np.int64)
                a[pos] = v
                out.append(a)
    return out


@pytest.mark.parametrize("a", _cases(), ids=lambda a: f"n{a.shape[0]}")
def test_twin(a):
    got = tuple(int(x) for x in minmax_i64(a))
    assert got == minmax_ref(a)
    assert got == tuple(int(x) for x in torch.aminmax(torch.from_numpy(a)))


def test_graph_minmax_paths():
    rng = np.random.default_rng(5)
    t = torch.from_numpy(rng.integers(-(1 << 62), 1 << 62, (64, 96), dtype=np.int64))
    for v in (t, t[:, 1:], t.T, t[::2], t[3:4, 5:6], t.reshape(-1)[17:18].reshape(())):
        assert graphlib._minmax(v) == tuple(int(x) for x in torch.aminmax(v)), v.shape


@pytest.mark.parametrize("bound", [(-10, 10), (0, 255), (-(1 << 40), 1 << 40)])
def test_check_declared(bound):
    spec = TensorSpec("t", (4, 8), "virtual", bound)
    lo, hi = bound
    v = torch.full((4, 8), lo, dtype=torch.int64)
    v[2, 3] = hi
    assert graphlib._check_declared(spec, v) == (lo, hi)
    assert graphlib._check_declared(spec, v.T.contiguous().T) == (lo, hi)   # non-contiguous
    for bad in (lo - 1, hi + 1):
        w = v.clone()
        w[3, 7] = bad
        with pytest.raises(ProverError):
            graphlib._check_declared(spec, w)
        with pytest.raises(ProverError):
            graphlib._check_declared(spec, w.T)
