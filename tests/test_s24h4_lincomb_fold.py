"""`whir_open.lincomb_fold` (s24h4): a batch's combination Σ_t mu_t·f_t folded at rs
in one pass, against its twin and against the two-step form it replaces
(`whir.lincomb_base` of the stacked tables, then `whir_eq.fold_eq` / `fold_into`)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as K
from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO

P = 0xFFFFFFFF00000001
EDGE = [0, 1, P - 1, P - 2]


def _tabs(rng, T, N):
    t = [rng.integers(0, P, size=N, dtype=np.uint64) for _ in range(T)]
    k = min(4, N)
    t[0][:k] = EDGE[:k]
    t[-1][-k:] = EDGE[::-1][:k]
    return t


def _ext(rng, n, edge=True):
    x = rng.integers(0, P, size=(n, 2), dtype=np.uint64)
    if edge and n:
        x[0] = [P - 1, P - 1]
        if n > 1:
            x[1] = [1, 0]
        if n > 2:
            x[2] = [0, P - 2]
    return x


@pytest.mark.parametrize("T,j,N", [(1, 0, 8), (2, 0, 16), (3, 1, 16), (2, 2, 32),
                                   (5, 3, 64), (4, 4, 32), (2, 1, 2)])
def test_twin(T, j, N):
    rng = np.random.default_rng(T * 100 + j * 10 + N)
    tabs, mu, rs = _tabs(rng, T, N), _ext(rng, T), _ext(rng, j)
    got = WO.lincomb_fold(tabs, mu, rs)
    assert np.array_equal(got, WO.lincomb_fold_ref(tabs, mu, rs))


def test_all_edge_values():
    tabs = [np.array([P - 1] * 8, dtype=np.uint64), np.array([P - 2] * 8, dtype=np.uint64)]
    mu = np.array([[P - 1, P - 1], [P - 1, P - 2]], dtype=np.uint64)
    rs = np.array([[P - 1, P - 1], [P - 2, 1]], dtype=np.uint64)
    assert np.array_equal(WO.lincomb_fold(tabs, mu, rs), WO.lincomb_fold_ref(tabs, mu, rs))


@pytest.mark.parametrize("T,j,N", [(2, 0, 1 << 12), (3, 1, 1 << 13), (6, 2, 1 << 14),
                                   (3, 5, 1 << 13), (8, 3, (1 << 12) + (3 << 3))])
def test_two_step(T, j, N):
    rng = np.random.default_rng(N + j)
    tabs, mu, rs = _tabs(rng, T, N), _ext(rng, T), _ext(rng, j)
    f = K.lincomb_base(np.stack(tabs), mu)
    if j:
        from zklora.kernels import sumcheck as KS
        for r in rs:
            out = np.empty((f.shape[0] // 2, 2), dtype=np.uint64)
            KS.fold_into(f, r, out)
            f = out
    got = WO.lincomb_fold(tabs, mu, rs)
    assert np.array_equal(got, f)
    if j >= 1 and T == 1:
        assert np.array_equal(got, QE.fold_eq(tabs[0], rs))


def test_views_of_a_larger_table():
    rng = np.random.default_rng(7)
    big = [rng.integers(0, P, size=1 << 12, dtype=np.uint64) for _ in range(3)]
    mu, rs = _ext(rng, 3), _ext(rng, 2)
    views = [b[1024:3072] for b in big]
    assert np.array_equal(WO.lincomb_fold(views, mu, rs),
                          WO.lincomb_fold_ref(views, mu, rs))


def test_bad_shapes():
    t = np.zeros(8, dtype=np.uint64)
    with pytest.raises(ValueError):
        WO.lincomb_fold([t, np.zeros(4, dtype=np.uint64)], np.zeros((2, 2), np.uint64), [])
    with pytest.raises(ValueError):
        WO.lincomb_fold([t], np.zeros((2, 2), np.uint64), [])
    with pytest.raises(ValueError):
        WO.lincomb_fold([np.zeros(6, np.uint64)], np.zeros((1, 2), np.uint64),
                        np.zeros((2, 2), np.uint64))
