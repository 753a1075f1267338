"""`whir_open.split_round` (the streamed opening's round message from W's split tables)
against its Python twin and against `round_(f, eq_rows(...))`."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO
from zklora.kernels import whir_sumcheck as SC
from zklora.zkcore.plugins import registry


@pytest.fixture(scope="module")
def fields():
    F = registry().field("goldilocks")
    return F, F.ext


@pytest.mark.parametrize("n,q,ext,lo_vars", [(3, 1, False, 10), (5, 2, True, 10),
                                             (6, 3, False, 2), (7, 1, True, 3),
                                             (8, 4, True, 10), (9, 2, False, 4)])
def test_twin(fields, n, q, ext, lo_vars):
    F, E = fields
    rng = np.random.default_rng(n * 10 + q)
    pts = E.random(rng, q * n).reshape(q, n, 2)
    cf = E.random(rng, q).reshape(q, 2)
    A, B, a = QE.eq_split(pts, cf, lo_vars)
    N = 1 << n
    f = E.random(rng, N).reshape(N, 2) if ext else F.random(rng, N)
    spans = [(0, N)] + ([(N // 2, N), (0, N // 2)] if n > a else [])
    for lo, hi in spans:
        got = WO.split_round(f[lo:hi], A, B, a, lo)
        assert (got == SC.round_(f[lo:hi], QE.eq_rows(A, B, a, lo, hi))).all()
        assert (got == WO.split_round_ref(f[lo:hi], A, B, a, lo)).all()


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("q", [1, 3, 9])
def test_large(fields, ext, q):
    """Several threads, several pieces of a row, blocks inside a larger table."""
    F, E = fields
    rng = np.random.default_rng(q + 7 * ext)
    n = 16
    pts = E.random(rng, q * n).reshape(q, n, 2)
    cf = E.random(rng, q).reshape(q, 2)
    A, B, a = QE.eq_split(pts, cf)
    N = 1 << n
    f = E.random(rng, N).reshape(N, 2) if ext else F.random(rng, N)
    for lo, hi in [(0, N), (1 << 12, 1 << 14), (N - (1 << a), N)]:
        got = WO.split_round(f[lo:hi], A, B, a, lo)
        assert (got == SC.round_(f[lo:hi], QE.eq_rows(A, B, a, lo, hi))).all()


def test_rejects(fields):
    F, E = fields
    rng = np.random.default_rng(0)
    A, B, a = QE.eq_split(E.random(rng, 4).reshape(1, 4, 2), E.random(rng, 1).reshape(1, 2),
                          2)
    with pytest.raises(ValueError):
        WO.split_round(F.random(rng, 6), A, B, a, 0)   # not whole rows
    with pytest.raises(ValueError):
        WO.split_round(F.random(rng, 4), A, B, a, 2)   # unaligned start
    with pytest.raises(ValueError):
        WO.split_round(F.random(rng, 8), A, B, a, 12)  # past the table
    A0, B0, a0 = QE.eq_split(E.random(rng, 4).reshape(1, 4, 2),
                             E.random(rng, 1).reshape(1, 2), 0)
    with pytest.raises(ValueError):
        WO.split_round(F.random(rng, 4), A0, B0, a0, 0)  # a = 0: pairs cross rows


@pytest.mark.parametrize("m", [0, 1, 2, 5, 9, 15, 17])
@pytest.mark.parametrize("q", [0, 1, 3])
def test_ood_weights_one_pass(fields, m, q):
    """The openings add the OOD points' weights with `whir_eq.eq_combination` (one
    split pass) where `whir.eq_accumulate` made an eq table per point: same values."""
    from zklora.kernels import whir as K
    F, E = fields
    rng = np.random.default_rng(100 * m + q)
    pts = K.esquares(E.random(rng, q).reshape(q, 2), m)
    cf = E.random(rng, q).reshape(q, 2)
    base = E.random(rng, 1 << m).reshape(-1, 2)
    a, b = base.copy(), base.copy()
    K.eq_accumulate(a, pts, cf)
    QE.eq_combination(b, pts, cf)
    assert (a == b).all()
