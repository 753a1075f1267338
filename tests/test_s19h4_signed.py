"""`K.vsigned` (signed integers → residues mod p in one pass) against its twin and
against the numpy path of `goldilocks._ints_to_u64`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.kernels import goldilocks as K
from zklora.plugins.fields import goldilocks as G

EDGES = np.array([0, 1, -1, 2**63 - 1, -2**63, -2**63 + 1, 2**32, -2**32, 2**32 - 1,
                  -(2**32 - 1), 2**62, -2**62], dtype=np.int64)


def _numpy_path(x):
    a = np.asarray(x, dtype=np.int64)
    out = a.view(np.uint64).copy()
    np.subtract(out, np.uint64(K.EPS), out=out, where=a < 0)
    return out


@pytest.mark.parametrize("n", [0, 1, 7, 12, 1000, 1 << 15])
def test_vsigned_twin(n):
    rng = np.random.default_rng(n)
    a = rng.integers(-2**63, 2**63 - 1, size=n, dtype=np.int64, endpoint=True)
    a[:min(n, len(EDGES))] = EDGES[:min(n, len(EDGES))]
    out = np.empty(n, np.uint64)
    K.vsigned(a.view(np.uint64), out)
    assert np.array_equal(out, K.signed_ref(a.view(np.uint64)))
    assert np.array_equal(out, _numpy_path(a))


@pytest.mark.parametrize("shape", [(), (5,), (3, 1 << 13), (1 << 15,), (2, 4, 4096)])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.bool_])
def test_ints_to_u64_paths(shape, dtype):
    rng = np.random.default_rng(len(shape))
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    if info is None:
        a = rng.integers(0, 2, size=shape).astype(np.bool_)
    else:
        a = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    got = G._ints_to_u64(a)
    assert got.shape == np.asarray(a).shape and got.dtype == np.uint64
    assert np.array_equal(got, _numpy_path(a))
    t = G._ints_to_u64(torch.from_numpy(np.array(a)).to(torch.int64))
    assert np.array_equal(t, _numpy_path(a))


def test_ints_to_u64_noncontiguous():
    a = np.arange(-(1 << 16), 1 << 16, dtype=np.int64).reshape(256, 512)[:, ::2]
    assert np.array_equal(G._ints_to_u64(a), _numpy_path(a))
    assert np.array_equal(G._ints_to_u64(a.T), _numpy_path(a.T))
