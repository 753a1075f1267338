"""The blocked GKR layer-sum kernels and the leaf-denominator kernels of
`zklora.kernels.lookup_gkr` against their pure-Python twins, at sizes that cross the
kernels' block (`GBLOCK`, `BLOCK`) and chunk boundaries, with edge limbs."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels import sumcheck as KS
from zklora.kernels.goldilocks import BLOCK, P_INT
from zklora.zkcore.plugins import registry

E = registry().field("goldilocks").ext
EDGE = [0, 1, 2, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 63) + 5, P_INT >> 1]
SLOTS = np.array([[-1, -1, 4, 5], [0, 1, 2, 3], [-1, -1, 6, 7]], np.int64)


def _rand(rng, shape, edge_frac=0.3):
    a = E.random(rng, shape)
    flat = a.reshape(-1)
    mask = rng.random(flat.shape[0]) < edge_frac
    flat[mask] = rng.choice(np.array(EDGE, dtype=np.uint64), int(mask.sum()))
    return a


@pytest.mark.parametrize("m", [3, KL.GBLOCK + 1, 2 * KL.GBLOCK + 37])
@pytest.mark.parametrize("want1", [False, True])
def test_blocked_sums_match_reference(m, want1):
    """Serial and parallel (odd chunk counts: chunk edges inside a block) against
    `ref_gkr_sums`; a unit tree before and after a full tree exercises the slots."""
    rng = np.random.default_rng(m * 3 + want1)
    W = _rand(rng, (8, 2 * m))
    Ej = _rand(rng, m)
    want, want_en = KL.ref_gkr_sums(W, W, SLOTS, Ej, want1)
    for nch in (None, 1, 3, 7):
        en = np.empty((m // 2, 2), np.uint64)
        if nch is None:
            got = KL.e_gkr_sums_s(W, W, SLOTS, Ej, en, want1)
        else:
            got = KL.e_gkr_sums(W, W, SLOTS, Ej, en, want1, nch)
        assert np.array_equal(got, want), nch
        assert np.array_equal(en, want_en), nch


def test_blocked_sums_separate_p_and_q_stacks():
    """Round 0 reads the numerators and denominators from two arrays (WP, WQ)."""
    rng = np.random.default_rng(4)
    m = KL.GBLOCK + 5
    WP, WQ = _rand(rng, (2, 2 * m)), _rand(rng, (2, 2 * m))
    Ej = _rand(rng, m)
    slots = np.array([[0, 1, 0, 1]], np.int64)
    got, en = KL.gkr_sums(WP, WQ, slots, Ej, False)
    want, want_en = KL.ref_gkr_sums(WP, WQ, slots, Ej, False)
    assert np.array_equal(got, want) and np.array_equal(en, want_en)


@pytest.mark.parametrize("m", [2, BLOCK + 3])
def test_fold_sums_blocked_fold_matches_reference(m):
    """The fused fold (`_fold_blocks`, BLOCK pairs at a time) equals `ref_fold`, and the
    sums over the folded tables equal the reference sums."""
    rng = np.random.default_rng(m)
    W = _rand(rng, (8, 4 * m))
    Ej = _rand(rng, m)
    r = _rand(rng, ())
    folded = KS.ref_fold(W, r)
    for nch in (None, 1, 5):
        out = np.empty((8, 2 * m, 2), np.uint64)
        en = np.empty((m // 2, 2), np.uint64)
        r0, r1 = np.uint64(r[0]), np.uint64(r[1])
        if nch is None:
            sums = KL.e_gkr_fold_sums_s(W, r0, r1, out, SLOTS, Ej, en, False)
        else:
            sums = KL.e_gkr_fold_sums(W, r0, r1, out, SLOTS, Ej, en, False, nch)
        assert np.array_equal(out, folded), nch
        if m <= 64:
            want, want_en = KL.ref_gkr_sums(folded, folded, SLOTS, Ej, False)
            assert np.array_equal(sums, want) and np.array_equal(en, want_en)
        else:
            s2, en2 = KL.gkr_sums(folded, folded, SLOTS, Ej, False)
            assert np.array_equal(sums, s2) and np.array_equal(en, en2)


@pytest.mark.parametrize("w", [1, 3])
@pytest.mark.parametrize("n", [5, 5000])
def test_leaf_denoms_serial_parallel_and_views(w, n):
    """`leaf_denoms` (serial below SMALL, parallel above; one contiguous column read in
    place, a strided one or several stacked) against `ref_leaf_denoms`."""
    rng = np.random.default_rng(n + w)
    F = registry().field("goldilocks")
    cols = [F.random(rng, 2 * n)[::2] if k == 0 else F.random(rng, n) for k in range(w)]
    cols[-1][: min(n, 4)] = np.array([0, 1, P_INT - 1, 1 << 32], np.uint64)[: min(n, 4)]
    apow = _rand(rng, w)
    beta = _rand(rng, ())
    want = KL.ref_leaf_denoms(cols, apow, beta)
    assert np.array_equal(KL.leaf_denoms(E, cols, apow, beta), want)
    contiguous = [np.ascontiguousarray(c) for c in cols]
    out = np.empty((n, 2), np.uint64)
    KL.leaf_denoms(E, contiguous, apow, beta, out=out)
    assert np.array_equal(out, want)
    a, b = np.empty((n, 2), np.uint64), np.empty((n, 2), np.uint64)
    st = np.ascontiguousarray(np.stack(contiguous))
    KL.e_leaf_denoms(st, apow, beta, a)
    KL.e_leaf_denoms_s(st, apow, beta, b)
    assert np.array_equal(a, want) and np.array_equal(b, want)


@pytest.mark.parametrize("w", [1, 2, 3])
@pytest.mark.parametrize("n", [5, 5000])
@pytest.mark.parametrize("R", [1, 2, 4])
def test_leaf_denoms_sets_match_reference(w, n, R):
    """`leaf_denoms_sets` (all challenge sets at once, interleaved; serial and parallel)
    against `ref_leaf_denoms_sets` and against `leaf_denoms` set by set."""
    rng = np.random.default_rng(n + w + 100 * R)
    F = registry().field("goldilocks")
    cols = [F.random(rng, 2 * n)[::2] if k == 0 else F.random(rng, n) for k in range(w)]
    cols[-1][: min(n, 4)] = np.array([0, 1, P_INT - 1, 1 << 32], np.uint64)[: min(n, 4)]
    apows = [_rand(rng, w) for _ in range(R)]
    betas = [_rand(rng, ()) for _ in range(R)]
    want = KL.ref_leaf_denoms_sets(cols, np.stack(apows), np.stack(betas))
    out = np.empty((n, R, 2), np.uint64)
    assert np.array_equal(KL.leaf_denoms_sets(E, cols, apows, betas, out), want)
    for r in range(R):
        assert np.array_equal(KL.leaf_denoms(E, cols, apows[r], betas[r]), want[:, r])
    st = np.ascontiguousarray(np.stack([np.ascontiguousarray(c) for c in cols]))
    a, b = np.empty((n, R, 2), np.uint64), np.empty((n, R, 2), np.uint64)
    KL.e_leaf_denoms_sets(st, np.stack(apows), np.stack(betas), a)
    KL.e_leaf_denoms_sets_s(st, np.stack(apows), np.stack(betas), b)
    assert np.array_equal(a, want) and np.array_equal(b, want)
    if w <= 2:   # the one/two-column kernels read the columns where they lie
        cc = [np.ascontiguousarray(c) for c in cols]
        for kern in (KL.e_leaf_pair_sets, KL.e_leaf_pair_sets_s):
            a = np.empty((n, R, 2), np.uint64)
            kern(cc[0], cc[-1], w, np.stack(apows), np.stack(betas), a)
            assert np.array_equal(a, want)
        a = np.empty((n, R, 2), np.uint64)
        KL.leaf_sets_u64(cc, np.stack(apows), np.stack(betas), a)
        assert np.array_equal(a, want)


@pytest.mark.parametrize("h", [1, BLOCK + 3])
def test_frac_up_blocked_matches_reference(h):
    rng = np.random.default_rng(h)
    p, q = _rand(rng, 2 * h), _rand(rng, 2 * h)
    wp, wq = KL.ref_frac_up(p, q)
    gp, gq = KL.frac_up(E, p, q)
    assert np.array_equal(gp, wp) and np.array_equal(gq, wq)
    wp, wq = KL.ref_frac_up_unit(q)
    gp, gq = KL.frac_up(E, None, q)
    assert np.array_equal(gp, wp) and np.array_equal(gq, wq)


@pytest.mark.parametrize("m", [2, 4, 16, 128])
@pytest.mark.parametrize("w", [1, 7, BLOCK + 3])
@pytest.mark.parametrize("unit", [True, False])
def test_frac_reduce_matches_reference_and_frac_up(m, w, unit):
    """`frac_reduce` (log2(m) levels in one pass, serial and parallel) equals
    `ref_frac_reduce` and `frac_up` applied log2(m) times, with edge limbs."""
    rng = np.random.default_rng(m * 1000 + w + unit)
    q = _rand(rng, m * w)
    p = None if unit else _rand(rng, m * w)
    want = KL.ref_frac_reduce(p, q, m)
    P, Q, k = p, q, m
    while k > 1:
        P, Q = KL.frac_up(E, P, Q)
        k //= 2
    assert np.array_equal(P, want[0]) and np.array_equal(Q, want[1])
    got = KL.frac_reduce(E, p, q, m)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    if m > 2:   # every kernel path: serial, one chunk, chunk edges inside a block
        pp = q if unit else p
        for nch in (None, 1, 3):
            po, qo = np.empty((w, 2), np.uint64), np.empty((w, 2), np.uint64)
            rb = max(8, min(512, 4096 // m))
            if nch is None:
                KL.e_frac_reduce_s(pp, q, unit, m, po, qo, rb)
            else:
                KL.e_frac_reduce(pp, q, unit, m, po, qo, rb, nch)
            assert np.array_equal(po, want[0]) and np.array_equal(qo, want[1]), nch
