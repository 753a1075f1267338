"""s24h5: the lane-blocked sumcheck folds and pairwise sums (`zklora.kernels.sumcheck`
`_fold_range`, `_fold_range_b`, `_p2_range`) against their Python twins (`ref_fold`,
`ref_p2_sums`), with edge values (0, 1, p − 1, p − 2) and ranges that are not whole
lane blocks."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import sumcheck as KS

P = 0xFFFFFFFF00000001
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)


def _stack(rng, k, n, edge):
    st = rng.integers(0, P, (k, n, 2), dtype=np.uint64)
    if edge:
        st[...] = rng.choice(EDGE, st.shape)
    return st


@pytest.mark.parametrize("k, n", [(1, 2), (2, 6), (3, 64), (2, 130), (5, 200)])
@pytest.mark.parametrize("edge", [False, True])
def test_fold_range_twin(k, n, edge):
    rng = np.random.default_rng(k * 1000 + n + edge)
    st = _stack(rng, k, n, edge)
    for r in (np.array([0, 0], np.uint64), np.array([1, 0], np.uint64),
              np.array([P - 1, P - 2], np.uint64), rng.integers(0, P, 2, dtype=np.uint64)):
        want = KS.ref_fold(st, r)
        m = n // 2
        for lo, hi in ((0, m), (min(1, m), m), (0, max(0, m - 3)), (m // 3, m - m // 5)):
            out = np.full((k, m, 2), 12345, np.uint64)
            KS._fold_range(st, r[0], r[1], out, lo, hi)
            assert np.array_equal(out[:, lo:hi], want[:, lo:hi])
            assert (out[:, :lo] == 12345).all() and (out[:, hi:] == 12345).all()


@pytest.mark.parametrize("k, n", [(2, 6), (3, 66), (4, 200)])
@pytest.mark.parametrize("edge", [False, True])
def test_fold_range_b_twin(k, n, edge):
    rng = np.random.default_rng(7 * n + k + edge)
    st = _stack(rng, k, n, edge)
    fisb = np.zeros(k, np.bool_)
    fisb[::2] = True
    st[fisb, :, 1] = 0
    r = np.array([P - 2, 1], np.uint64) if edge else rng.integers(0, P, 2, dtype=np.uint64)
    want = KS.ref_fold(st, r)
    m = n // 2
    for lo, hi in ((0, m), (1, m - 1)):
        out = np.zeros((k, m, 2), np.uint64)
        KS._fold_range_b(st, fisb, r[0], r[1], out, lo, hi)
        assert np.array_equal(out[:, lo:hi], want[:, lo:hi])


@pytest.mark.parametrize("k, n, terms", [(2, 2, 1), (2, 64, 1), (3, 70, 3), (6, 256, 5)])
@pytest.mark.parametrize("edge", [False, True])
def test_p2_range_twin(k, n, terms, edge):
    rng = np.random.default_rng(n + 31 * terms + edge)
    st = _stack(rng, k, n, edge)
    fa = rng.integers(0, k, terms).astype(np.int64)
    fb = rng.integers(0, k, terms).astype(np.int64)
    m = n // 2
    for lo, hi in ((0, m), (min(1, m), m), (m // 4, m - m // 3)):
        acc = rng.integers(0, P, (terms, 2, 2), dtype=np.uint64)
        start = acc.copy()
        KS._p2_range(st, fa, fb, lo, hi, acc)
        sub = np.ascontiguousarray(st[:, 2 * lo:2 * hi])
        part = KS.ref_p2_sums(sub, fa, fb) if hi > lo else np.zeros_like(acc)
        want = (start.astype(object) + part.astype(object)) % P
        assert np.array_equal(acc, want.astype(np.uint64))


def test_steps_match_refs():
    """The step kernels that use the lane blocks, serial and parallel, against the
    Python twins of a whole round."""
    rng = np.random.default_rng(3)
    for n in (1 << 7, 1 << 14):
        st = _stack(rng, 2, 2 * n, False)
        r = rng.integers(0, P, 2, dtype=np.uint64)
        fa = np.array([0, 1], np.int64)
        fb = np.array([1, 1], np.int64)
        out, sums = KS.p2_fold_sums(st, r, fa, fb)
        want = KS.ref_fold(st, r)
        assert np.array_equal(out, want)
        assert np.array_equal(sums, KS.ref_p2_sums(want, fa, fb)) if n < 1 << 10 else True
        assert np.array_equal(KS.p2_sums(want, fa, fb), sums)


def _tab(rng, kind, n, edge):
    shape = (n,) if kind == "b" else (n, 2)
    t = rng.integers(0, P, shape, dtype=np.uint64)
    if edge:
        t[...] = rng.choice(EDGE, shape)
    return t


@pytest.mark.parametrize("kinds", ["ee", "be", "bb"])
@pytest.mark.parametrize("n", [2, 64, 134])
@pytest.mark.parametrize("edge", [False, True])
def test_pair_ranges_twin(kinds, n, edge):
    rng = np.random.default_rng(n + edge + 17 * len(set(kinds)))
    A, B = _tab(rng, kinds[0], n, edge), _tab(rng, kinds[1], n, edge)
    fn = {"ee": KS._pair_range_ee, "be": KS._pair_range_be, "bb": KS._pair_range_bb}[kinds]
    m = n // 2
    for lo, hi in ((0, m), (min(1, m), m), (m // 3, m - m // 4)):
        acc = rng.integers(0, P, (2, 2), dtype=np.uint64)
        if kinds == "bb":
            acc[:, 1] = 0
        start = acc.copy()
        fn(A, B, lo, hi, acc)
        sl = slice(2 * lo, 2 * hi)
        part = KS.ref_pair_sums(A[sl], B[sl]) if hi > lo else np.zeros((2, 2), np.uint64)
        want = (start.astype(object) + part.astype(object)) % P
        assert np.array_equal(acc, want.astype(np.uint64))


@pytest.mark.parametrize("n", [2, 62, 200, 1 << 14])
@pytest.mark.parametrize("edge", [False, True])
def test_fold_base_twin(n, edge):
    rng = np.random.default_rng(n + edge)
    t = _tab(rng, "b", n, edge)
    for r in (np.array([0, 1], np.uint64), np.array([P - 1, P - 2], np.uint64),
              rng.integers(0, P, 2, dtype=np.uint64)):
        want = KS.ref_fold_one(t, r) if n < 1 << 12 else None
        out = np.zeros((n // 2, 2), np.uint64)
        KS.fold_into(t, r, out)   # serial below SMALL, else e_fold_base_l
        out2 = np.zeros((n // 2, 2), np.uint64)
        KS._fold_base_range(t, r[0], r[1], out2, 0, n // 2)
        assert np.array_equal(out, out2)
        if want is not None:
            assert np.array_equal(out, want)
        else:
            from zklora.kernels.goldilocks import e_fold_base
            ref = np.zeros_like(out)
            e_fold_base(t, r[0], r[1], ref)
            assert np.array_equal(out, ref)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 9])
@pytest.mark.parametrize("edge", [False, True])
def test_eq_suffix_twin(n, edge):
    """`e_eq_suffix` (lane blocks for the eq and general rows, copies for the constant
    ones) against `ref_eq_suffix`: eq rows (1 − τ, τ), constant rows (1, 1), general."""
    rng = np.random.default_rng(n + 100 * edge)
    e = np.zeros((n, 2, 2), np.uint64)
    for j in range(n):
        kind = j % 3
        if edge:
            t = (int(rng.choice(EDGE)), int(rng.choice(EDGE)))
        else:
            t = tuple(int(x) for x in rng.integers(0, P, 2, dtype=np.uint64))
        if kind == 0:
            e[j, 1] = t
            e[j, 0] = ((1 - t[0]) % P, (-t[1]) % P)
        elif kind == 1:
            e[j, 0] = (1, 0)
            e[j, 1] = (1, 0)
        else:
            e[j, 0] = t
            e[j, 1] = rng.choice(EDGE, 2) if edge else rng.integers(0, P, 2, dtype=np.uint64)
    out = np.zeros((max(1, (1 << n) - 1), 2), np.uint64)
    KS.e_eq_suffix(e, out)
    want = KS.ref_eq_suffix(e)
    assert np.array_equal(out[:want.shape[0]], want)
