"""Kernels of the whir prover added for speed, against their pure-Python twins and
against the generic kernels they replace."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as K
from zklora.kernels import whir_eq as QE
from zklora.kernels.goldilocks import P_INT


def _pow_points(zs, m):
    pts = np.zeros((len(zs), m, 2), dtype=np.uint64)
    for l, z in enumerate(zs):
        for j in range(m):
            pts[l, j, 0] = pow(int(z), 1 << j, P_INT)
    return pts


@pytest.mark.parametrize("m,q", [(0, 1), (1, 3), (3, 5), (6, 2), (7, 9), (8, 3)])
def test_pow_eq_accumulate_matches_reference(m, q):
    rng = np.random.default_rng(m * 31 + q)
    zs = rng.integers(0, P_INT, size=q, dtype=np.uint64)
    cf = rng.integers(0, P_INT, size=(q, 2), dtype=np.uint64)
    out = rng.integers(0, P_INT, size=(1 << m, 2), dtype=np.uint64)
    want = QE.pow_eq_accumulate_ref(out, zs, cf)
    got = out.copy()
    QE.pow_eq_accumulate(got, zs, cf)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("m,q", [(12, 70), (15, 130), (16, 1)])
def test_pow_eq_accumulate_matches_generic_kernel(m, q):
    """Sizes on the parallel path (several row chunks, point blocks of `POINT_BLOCK`)
    against `whir.eq_accumulate` on the explicit pow points."""
    rng = np.random.default_rng(m + q)
    zs = rng.integers(0, P_INT, size=q, dtype=np.uint64)
    zs[0] = 1  # a root of unity like the real query points
    cf = rng.integers(0, P_INT, size=(q, 2), dtype=np.uint64)
    out = rng.integers(0, P_INT, size=(1 << m, 2), dtype=np.uint64)
    want = out.copy()
    K.eq_accumulate(want, _pow_points(zs, m), cf)
    QE.pow_eq_accumulate(out, zs, cf)
    assert np.array_equal(out, want)


def test_pow_eq_accumulate_rejects_bad_shapes():
    out = np.zeros((8, 2), dtype=np.uint64)
    with pytest.raises(ValueError):
        QE.pow_eq_accumulate(out, np.ones(2, np.uint64), np.ones((3, 2), np.uint64))
    with pytest.raises(ValueError):
        QE.pow_eq_accumulate(np.zeros((6, 2), np.uint64), np.ones(1, np.uint64),
                             np.ones((1, 2), np.uint64))
    with pytest.raises(ValueError):
        QE.pow_eq_accumulate(np.zeros((8, 2, 2), np.uint64)[:, 0], np.ones(1, np.uint64),
                             np.ones((1, 2), np.uint64))
    before = out.copy()
    QE.pow_eq_accumulate(out, np.zeros(0, np.uint64), np.zeros((0, 2), np.uint64))
    assert np.array_equal(out, before)
