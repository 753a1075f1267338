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


# -- the product sumcheck ----------------------------------------------------------------

_STARTS = np.array([0, 2], dtype=np.int64)
_FACTORS = np.array([0, 1], dtype=np.int64)
_ONE = np.array([[1, 0]], dtype=np.uint64)


def _generic(E, f, w):
    st = np.zeros((2, w.shape[0], 2), dtype=np.uint64)
    if f.ndim == 1:
        st[0, :, 0] = f
    else:
        st[0] = f
    st[1] = w
    return st, E.sc_round(st, _STARTS, _FACTORS, _ONE, 2)[[0, 2]]


@pytest.mark.parametrize("n", [2, 3, 5, 14, 16])
@pytest.mark.parametrize("ext", [False, True])
def test_sumcheck_kernels_match_generic_and_reference(n, ext):
    from zklora.kernels import whir_sumcheck as S
    from zklora.zkcore.plugins import registry

    E = registry().field("goldilocks").ext
    rng = np.random.default_rng(n * 2 + ext)
    f = rng.integers(0, P_INT, size=(1 << n, 2) if ext else 1 << n, dtype=np.uint64)
    w = rng.integers(0, P_INT, size=(1 << n, 2), dtype=np.uint64)
    a = rng.integers(0, P_INT, size=2, dtype=np.uint64)
    st, h = _generic(E, f, w)
    assert np.array_equal(S.round_(f, w), h)
    if n <= 5:
        assert np.array_equal(S.round_ref(f, w), h)
        assert np.array_equal(S.fold_ref(f, a), E.sc_fold(st, a)[0])
    folded = E.sc_fold(st, a)
    fo, wo = S.fold(f, w, a)
    assert np.array_equal(fo, folded[0]) and np.array_equal(wo, folded[1])
    fo, wo, h1 = S.fold_round(f, w, a)
    assert np.array_equal(fo, folded[0]) and np.array_equal(wo, folded[1])
    assert np.array_equal(h1, E.sc_round(folded, _STARTS, _FACTORS, _ONE, 2)[[0, 2]])
    assert np.array_equal(S.round_(fo, wo), h1)


def test_sumcheck_kernels_reject_bad_shapes():
    from zklora.kernels import whir_sumcheck as S

    w = np.zeros((4, 2), dtype=np.uint64)
    with pytest.raises(ValueError):
        S.round_(np.zeros(8, np.uint64), w)
    with pytest.raises(ValueError):
        S.fold_round(np.zeros(2, np.uint64), w[:2], np.zeros(2, np.uint64))
    with pytest.raises(ValueError):
        S.fold(np.zeros((4, 3), np.uint64), w, np.zeros(2, np.uint64))


@pytest.mark.parametrize("m,q", [(0, 1), (3, 2), (6, 3), (11, 3), (15, 4), (5, 0)])
def test_eq_combination_matches_reference_and_generic(m, q):
    rng = np.random.default_rng(m * 7 + q)
    pts = rng.integers(0, P_INT, size=(q, m, 2), dtype=np.uint64)
    cf = rng.integers(0, P_INT, size=(q, 2), dtype=np.uint64)
    out = rng.integers(0, P_INT, size=(1 << m, 2), dtype=np.uint64)
    want = out.copy()
    K.eq_accumulate(want, pts, cf)
    got = out.copy()
    QE.eq_combination(got, pts, cf)
    assert np.array_equal(got, want)
    if m <= 6:
        assert np.array_equal(QE.eq_combination_ref(out, pts, cf), want)
    fresh = np.zeros_like(out)
    K.eq_accumulate(fresh, pts, cf)
    QE.eq_combination(out, pts, cf, overwrite=True)
    assert np.array_equal(out, fresh)
    with pytest.raises(ValueError):
        QE.eq_combination(out, pts[:, :-1] if m else np.zeros((1, 1, 2), np.uint64), cf[:1])


@pytest.mark.parametrize("n,j,rows", [(12, 3, 1 << 9), (13, 1, 1 << 12), (11, 4, 1 << 3)])
def test_w_split_folded_is_the_folded_weight_table(n, j, rows):
    """`whir._w_split_folded`: W = Σ_l c_l·eq(p_l, ·) with its low j variables bound to
    r, from split tables over the other n − j variables (eq_rows a block of ``rows`` at
    a time), equals W built whole and folded j times."""
    from zklora.kernels import whir_sumcheck as S
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore.plugins import registry

    E = registry().field("goldilocks").ext
    rng = np.random.default_rng(n + j)
    q = 3
    pts = rng.integers(0, P_INT, size=(q, n, 2), dtype=np.uint64)
    cf = rng.integers(0, P_INT, size=(q, 2), dtype=np.uint64)
    rs = rng.integers(0, P_INT, size=(j, 2), dtype=np.uint64)
    w = np.empty((1 << n, 2), dtype=np.uint64)
    QE.eq_combination(w, pts, cf, overwrite=True)
    z = np.zeros(1 << n, dtype=np.uint64)
    for r in rs:
        _, w = S.fold(z[:w.shape[0]], w, r)
    A, B, a = W._w_split_folded(E, pts, cf, rs, rows)
    assert (1 << a) <= rows
    got = np.concatenate([QE.eq_rows(A, B, a, lo, lo + rows)
                          for lo in range(0, 1 << (n - j), rows)])
    assert np.array_equal(got, w)

