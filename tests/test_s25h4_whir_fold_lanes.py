"""s25h4: whir_sumcheck.fold / fold_round in lane blocks (de-interleaved lanes, the
vectorisable products, per-lane sums) against the twins fold_ref / round_ref, edge
values 0, 1, p − 1, p − 2, sizes around the lane block and the chunking."""

import numpy as np
import pytest

from zklora.kernels import whir_sumcheck as SC

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _rnd(rng, *shape, edge=False):
    x = rng.integers(0, P, size=shape, dtype=np.uint64)
    if edge:
        x.reshape(-1)[::2] = rng.choice(EDGE, size=x.reshape(-1)[::2].shape)
    return x


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("n,edge", [(4, True), (8, False), (64, True), (132, True),
                                    (256, False), (1 << 15, True)])
def test_fold_round_twin(ext, n, edge):
    rng = np.random.default_rng(n + 3 * ext)
    f = _rnd(rng, n, 2, edge=edge) if ext else _rnd(rng, n, edge=edge)
    w = _rnd(rng, n, 2, edge=edge)
    a = _rnd(rng, 2, edge=edge)
    fo, wo, h = SC.fold_round(f, w, a)
    wf, ww = SC.fold_ref(f, a), SC.fold_ref(w, a)
    assert np.array_equal(fo, wf) and np.array_equal(wo, ww)
    assert np.array_equal(h, SC.round_ref(wf, ww))
    fo2, wo2 = SC.fold(f, w, a)
    assert np.array_equal(fo2, wf) and np.array_equal(wo2, ww)


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("n", [2, 6, 70, (1 << 14) + 2])
def test_fold_twin_odd_blocks(ext, n):
    rng = np.random.default_rng(7 * n + ext)
    f = _rnd(rng, n, 2, edge=True) if ext else _rnd(rng, n, edge=True)
    w = _rnd(rng, n, 2, edge=True)
    a = np.array([P - 1, P - 2], dtype=np.uint64)
    fo, wo = SC.fold(f, w, a)
    assert np.array_equal(fo, SC.fold_ref(f, a)) and np.array_equal(wo, SC.fold_ref(w, a))


def test_all_edge():
    for v in EDGE:
        for ext in (False, True):
            f = np.full((96, 2) if ext else 96, v, np.uint64)
            w = np.full((96, 2), P - 1 - v, np.uint64)
            for a in (np.array([0, 0], np.uint64), np.array([1, 0], np.uint64),
                      np.array([P - 1, P - 2], np.uint64)):
                fo, wo, h = SC.fold_round(f, w, a)
                wf, ww = SC.fold_ref(f, a), SC.fold_ref(w, a)
                assert np.array_equal(fo, wf) and np.array_equal(wo, ww)
                assert np.array_equal(h, SC.round_ref(wf, ww))


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("n,edge", [(2, True), (6, False), (64, True), (130, True),
                                    ((1 << 15) + 6, True)])
def test_round_twin(ext, n, edge):
    rng = np.random.default_rng(11 * n + ext)
    f = _rnd(rng, n, 2, edge=edge) if ext else _rnd(rng, n, edge=edge)
    w = _rnd(rng, n, 2, edge=edge)
    assert np.array_equal(SC.round_(f, w), SC.round_ref(f, w))
    for v in EDGE:
        assert np.array_equal(SC.round_(np.full_like(f, v), w),
                              SC.round_ref(np.full_like(f, v), w))
