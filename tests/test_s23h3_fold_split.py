"""s23h3: whir_open.fold_split_round (a base block folded j times and the round message
of Σ f·W from W's split tables, in one pass) against its twin and the two-pass form."""

import numpy as np
import pytest

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _rnd(rng, *shape, edge=False):
    x = rng.integers(0, P, size=shape, dtype=np.uint64)
    if edge:
        x.reshape(-1)[::3] = rng.choice(EDGE, size=x.reshape(-1)[::3].shape)
    return x


@pytest.mark.parametrize("j,a,q,rows,edge", [
    (1, 1, 1, 3, False), (1, 2, 2, 4, True), (2, 3, 3, 2, True), (3, 2, 1, 5, False),
    (4, 3, 2, 2, True)])
def test_twin(j, a, q, rows, edge):
    rng = np.random.default_rng(j * 31 + a * 7 + q)
    s = _rnd(rng, (rows << a) << j, edge=edge)
    rs = _rnd(rng, j, 2, edge=edge)
    A = _rnd(rng, q, 1 << a, 2, edge=edge)
    B = _rnd(rng, q, rows + 3, 2, edge=edge)
    lo = 2 << a
    got = WO.fold_split_round(s, rs, A, B, a, lo)
    assert np.array_equal(got, WO.fold_split_round_ref(s, rs, A, B, a, lo))


@pytest.mark.parametrize("j,a,q", [(1, 9, 3), (2, 7, 3), (3, 6, 8), (4, 8, 1), (2, 1, 2)])
def test_two_pass(j, a, q):
    rng = np.random.default_rng(100 + j * 11 + a)
    rows = 37
    s = _rnd(rng, (rows << a) << j, edge=True)
    rs = _rnd(rng, j, 2)
    A = _rnd(rng, q, 1 << a, 2)
    B = _rnd(rng, q, rows + 1, 2, edge=True)
    lo = 1 << a
    want = WO.split_round(QE.fold_eq(s, rs), A, B, a, lo)
    assert np.array_equal(WO.fold_split_round(s, rs, A, B, a, lo), want)


def test_all_edge():
    s = np.full(1 << 9, P - 1, dtype=np.uint64)
    rs = np.array([[P - 1, P - 2], [1, 0]], dtype=np.uint64)
    A = np.full((2, 1 << 3, 2), P - 2, dtype=np.uint64)
    B = np.full((2, 1 << 4, 2), P - 1, dtype=np.uint64)
    assert np.array_equal(WO.fold_split_round(s, rs, A, B, 3, 0),
                          WO.fold_split_round_ref(s, rs, A, B, 3, 0))


def test_bad_shapes():
    rng = np.random.default_rng(0)
    A = _rnd(rng, 1, 4, 2)
    B = _rnd(rng, 1, 4, 2)
    with pytest.raises(ValueError):
        WO.fold_split_round(_rnd(rng, 16), np.zeros((0, 2), np.uint64), A, B, 2, 0)
    with pytest.raises(ValueError):
        WO.fold_split_round(_rnd(rng, 12), _rnd(rng, 1, 2), A, B, 2, 0)
    with pytest.raises(ValueError):
        WO.fold_split_round(_rnd(rng, 16), _rnd(rng, 1, 2), A, B, 2, 2)
