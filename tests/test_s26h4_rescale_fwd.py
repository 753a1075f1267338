"""The rescale forward's numba kernels (`zklora.kernels.fixed_point.rescale_split`,
`limb_of`) against their twins and the torch path (`quant.rescale`, the limbs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.kernels.fixed_point import limb_of, limb_of_ref, rescale_split, rescale_split_ref
from zklora.plugins.ops import rescale as rs
from zklora.zkcore import quant
from zklora.zkcore.errors import ProverError

P = (1 << 64) - (1 << 32) + 1
EDGE = [0, 1, -1, 2, -2, P - 1, P - 2, -(P - 1), 1 << 40, -(1 << 40), (1 << 62) - 1,
        -(1 << 62), np.iinfo(np.int64).min, np.iinfo(np.int64).max - (1 << 30)]


def _i64(v: int) -> int:
    """v mod 2^64 as a signed int64 (p − 1, p − 2 wrap to negative values)."""
    v %= 1 << 64
    return v - (1 << 64) if v >= 1 << 63 else v


def _edge_x(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(-(1 << 50), 1 << 50, n, dtype=np.int64)
    e = np.array([_i64(v) for v in EDGE], dtype=np.int64)
    x[:min(n, len(e))] = e[:n]
    return x


@pytest.mark.parametrize("n", [1, 7, 33, 1000])
@pytest.mark.parametrize("s", [1, 2, 16, 31, 40])
def test_rescale_split_twin(n, s):
    x = _edge_x(n, n + s)
    y = np.empty(n, np.int64)
    r = np.empty(n, np.int64)
    mx = rescale_split(x, s, y, r)
    y2, r2, mx2 = rescale_split_ref(x, s)
    assert mx == mx2
    assert np.array_equal(y, y2) and np.array_equal(r, r2)


@pytest.mark.parametrize("o,w,lo", [(0, 1, 0), (0, 16, -(1 << 23)), (16, 8, -(1 << 23)),
                                    (8, 8, 0), (40, 20, 5), (0, 30, P - 2)])
def test_limb_of_twin(o, w, lo):
    d = _edge_x(257, o + w)
    lo = _i64(lo)
    out = np.empty_like(d)
    limb_of(d, lo, o, w, out)
    assert np.array_equal(out, limb_of_ref(d, lo, o, w))


def _params(**kw):
    return rs.Rescale.Params(**kw)


@pytest.mark.parametrize("kw", [dict(shift=16), dict(shift=16, limbs=(16, 8), limb_lo=-(1 << 23)),
                                dict(shift=16, limbs=(16, 8), limb_lo=-(1 << 23),
                                     r_limbs=(8, 8)),
                                dict(shift=3, r_limbs=(2, 1))])
def test_forward_matches_torch(kw):
    p = _params(**kw)
    x = torch.from_numpy(_edge_x(4096, 5)).reshape(64, 64) >> 2   # within the safe range
    got = rs._forward_np(x, p)
    y, r = quant.rescale(x, p.shift)
    d = y - p.limb_lo
    want = [y, r, *((d >> o) & ((1 << w) - 1) for o, w in rs._offsets(p.limbs)),
            *((r >> o) & ((1 << w) - 1) for o, w in rs._offsets(p.r_limbs))]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.dtype == torch.int64 and a.shape == x.shape and torch.equal(a, b)


def test_forward_too_large():
    x = torch.tensor([0, quant.SAFE_MAX], dtype=torch.int64)
    with pytest.raises(ProverError, match="too large"):
        rs._forward_np(x, _params(shift=4))
    with pytest.raises(ProverError, match="too large"):
        quant.rescale(x, 4)
