"""s43h4: the LogUp-GKR fill kernels sum four small leaves of one table as one polynomial
(`KL._v_poly4`, two: `KL._v_pair2`; `KL._fr_block_p`, `KL.POLY4`): (f'(β), f(β)) for
f = Π (Y − v_i) with exact 64-bit coefficients.  The lane kernels against the Python twin
`KL.ref_poly4` and the pair-and-merge reference (`KL.ref_frac_reduce`) on edge values;
the four fill kernels with ``poly`` on against off and against the Python twins
(`KL.ref_fill_reduce`) on plans mixing small width-1 pieces of several tables, values at
and past 2^16, other combiners, wider tables, padding rows and gaps, over m, block sizes,
chunk counts and odd lengths; the wrappers' switch; and a prover's bytes with the switch
on = off."""

from __future__ import annotations

import numpy as np
import pytest
from numba import typed

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P

from .test_s38h1_fill_window import _tables

LIM = 1 << KL.POLY_BITS


def _vals(rng, n):
    """n values < 2^16 with the edges (0, 1, 2^16 − 1, runs of equal values)."""
    v = rng.integers(0, LIM, n, dtype=np.uint64)
    v[: min(n, 8)] = [0, 1, LIM - 1, LIM - 1, LIM - 2, 0, 7, 7][: min(n, 8)]
    return v


def test_v_poly4_matches_twins():
    """`_v_poly4` = `ref_poly4` = the leaves' pairs-and-merge fraction sum, lane by lane,
    for β random and at the edges (0, p − 1, a base element)."""
    rng = np.random.default_rng(1)
    n = 67
    V = np.stack([_vals(rng, n) for _ in range(4)])
    V[:, 9] = LIM - 1            # every value the largest: e0 = (2^16 − 1)^4
    V[:, 10] = 0
    V[:, 11] = [0, LIM - 1, 0, LIM - 1]
    betas = [tuple(int(x) for x in rng.integers(0, P, 2, dtype=np.uint64)),
             (0, 0), (P - 1, P - 1), (5, 0), (P - 1, 1), (0, P - 1)]
    for beta in betas:
        BT = np.array([[[beta[0], beta[1]]]], np.uint64)
        C = KL._poly4_consts(BT)
        O = np.zeros((4, n), np.uint64)
        KL._v_poly4(V[0], V[1], V[2], V[3], C[0], O[0], O[1], O[2], O[3], n)
        O2 = np.zeros((4, n), np.uint64)
        KL._v_pair2(V[0], V[1], C[0], O2[0], O2[1], O2[2], O2[3], n)
        for i in range(n):
            p, q = KL.ref_poly4([V[k, i] for k in range(4)], beta)
            assert (int(O[0, i]), int(O[1, i])) == p, (beta, i)
            assert (int(O[2, i]), int(O[3, i])) == q, (beta, i)
            p, q = KL.ref_poly4([V[k, i] for k in range(2)], beta)
            assert (int(O2[0, i]), int(O2[1, i])) == p, (beta, i)
            assert (int(O2[2, i]), int(O2[3, i])) == q, (beta, i)
        # against the fraction tree of the four leaves β − v (`ref_frac_reduce`)
        leaves = np.array([[(beta[0] - int(V[k, i])) % P, beta[1]] for k in range(4)
                           for i in range(n)], np.uint64)
        tp, tq = KL.ref_frac_reduce(None, leaves, 4)
        assert np.array_equal(tp.T, O[:2]) and np.array_equal(tq.T, O[2:]), beta


def test_ref_poly4_is_the_fraction_sum():
    """The twin's (f'(β), f(β)) is Σ_i Π_(k≠i) (β − v_k), Π_k (β − v_k)."""
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 4, 5):
        vals = [int(x) for x in rng.integers(0, P, n, dtype=np.uint64)]
        beta = tuple(int(x) for x in rng.integers(0, P, 2, dtype=np.uint64))
        leaves = [((beta[0] - v) % P, beta[1]) for v in vals]
        q = (1, 0)
        for lf in leaves:
            q = KL._ref_mul(q, lf)
        p = (0, 0)
        for i in range(n):
            t = (1, 0)
            for k, lf in enumerate(leaves):
                if k != i:
                    t = KL._ref_mul(t, lf)
            p = KL._ref_add(p, t)
        assert KL.ref_poly4(vals, beta) == (p, q)


def _plan(rng, R=1):
    """Segments over 0 … 1400: small width-1 pieces of tables 0 and 1 (the poly path),
    one with a value 2^16 (not small), one of values all 2^16 − 1, a width-1 table with
    a combiner other than (1, 0) (table 2), wider tables (3: width 2, 4: width 3 with a
    base combiner), padding rows and gaps (unit leaves)."""
    segs = [  # (start, length, width, table, values)
        (0, 300, 1, 0, "small"), (300, 40, 1, 1, "small"), (340, 1, 0, 0, "pad"),
        (341, 59, 1, 0, "big16"), (400, 100, 1, 1, "small"), (500, 60, 2, 3, "any"),
        (560, 90, 1, 2, "small"), (650, 50, 1, 0, "max"), (700, 20, 3, 4, "small"),
        (730, 270, 1, 0, "small"), (1000, 2, 0, 0, "pad"), (1010, 300, 1, 1, "small"),
        (1310, 60, 1, 0, "any"), (1370, 20, 1, 0, "small")]
    starts = np.array([s[0] for s in segs], np.int64)
    ends = np.array([s[0] + s[1] for s in segs], np.int64)
    kind = np.array([KL.SEG_PAD if s[4] == "pad" else KL.SEG_COLS for s in segs], np.int64)
    widths = np.array([s[2] for s in segs], np.int64)
    tix = np.array([s[3] for s in segs], np.int64)
    cols = []
    for (_st, ln, w, _t, what) in segs:
        cc = []
        for _ in range(w):
            if what == "any":
                c = rng.integers(0, P, ln, dtype=np.uint64)
            elif what == "max":
                c = np.full(ln, LIM - 1, np.uint64)
            else:
                c = _vals(rng, ln)
                if what == "big16":
                    c[ln // 2] = LIM
            cc.append(np.ascontiguousarray(c))
        cols.append(cc)
    Lst = typed.List()
    colptr = np.zeros(len(segs), np.int64)
    for i, cc in enumerate(cols):
        colptr[i] = len(Lst)
        for c in cc:
            Lst.append(c)
    AP = rng.integers(0, P, (5, R, KL.FILL_WIDTH, 2), dtype=np.uint64)
    AP[:, :, 0] = (1, 0)             # draw_combiners' first combiner
    AP[2, :, 0] = (3, 0)             # width 1, combiner (3, 0): not a poly piece
    AP[4, :, :, 1] = 0               # base combiners
    BT = rng.integers(0, P, (5, R, 2), dtype=np.uint64)
    PADV = rng.integers(0, P, (len(segs), R, 2), dtype=np.uint64)
    return (starts, ends, kind, tix, widths, colptr, Lst, AP, BT, PADV), cols


# (xlo, wx, stepx, m): pieces in one table (poly), across tables, past the segments
SHAPES = [(0, 100, 100, 4), (0, 300, 300, 4), (730, 67, 70, 4), (0, 175, 175, 8),
          (1, 87, 175, 8), (0, 80, 90, 16), (5, 43, 43, 16), (0, 350, 350, 4),
          (0, 300, 300, 2), (730, 67, 70, 2), (1000, 150, 150, 2), (3, 33, 44, 32)]


@pytest.mark.parametrize("R", [1, 2])
def test_fill_reduce_poly_matches_reference(R):
    rng = np.random.default_rng(10 + R)
    args, cols = _plan(rng, R)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, wx, stepx, m in SHAPES:
        wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, R, starts, ends, kind, tix, widths,
                                    cols, AP, BT, PADV)
        for nch, rbx in ((1, 512), (3, 16), (2, 7), (5, 64), (1, 1)):
            for poly in (True, False):
                pout = np.zeros((wx * R, 2), np.uint64)
                qout = np.zeros((wx * R, 2), np.uint64)
                KL.e_fill_reduce(xlo, wx, stepx, m, *args, pout, qout, rbx, nch, poly)
                assert np.array_equal(pout, wp) and np.array_equal(qout, wq), \
                    (xlo, wx, stepx, m, nch, rbx, poly)


def test_fill_reduce_fold_poly_matches_reference():
    """`e_fill_reduce_fold` with ``poly`` = the reference's entries folded
    (`KL.ref_multi_fold`) in the component-major layout."""
    rng = np.random.default_rng(20)
    args, cols = _plan(rng)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, wx, stepx, m, j in ((0, 128, 300, 4, 1), (730, 64, 70, 4, 2),
                                 (0, 160, 175, 8, 3), (0, 96, 96, 16, 1),
                                 (0, 256, 300, 2, 1), (730, 64, 70, 2, 2)):
        wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, 1, starts, ends, kind, tix, widths,
                                    cols, AP, BT, PADV)
        rhos = [tuple(int(x) for x in rng.integers(0, P, 2, dtype=np.uint64))
                for _ in range(j)]
        rr = np.array(rhos, np.uint64).reshape(j, 2)
        fold = KL.ref_multi_fold(np.stack([wp, wq]).astype(np.uint64), rhos)
        for poly in (True, False):
            for rbx, nch in ((32, 1), (64, 3), (512, 2)):
                if rbx % (2 << j):
                    continue
                out = np.zeros((2, 4, (wx >> j) // 2 + 1), np.uint64)
                at = 2
                KL.e_fill_reduce_fold(xlo, wx, stepx, m, *args, rr, out, 0, 1, at, rbx,
                                      nch, poly)
                for f in range(2):
                    got = np.zeros((wx >> j, 2), np.uint64)
                    for y in range(wx >> j):
                        e = at + y
                        got[y] = out[f, 2 * (e & 1):2 * (e & 1) + 2, e >> 1]
                    assert np.array_equal(got, fold[f]), (xlo, wx, m, j, poly, rbx, nch, f)


@pytest.mark.parametrize("m", [2, 4, 8])
def test_fill_sums_poly_match(m):
    """`e_fill_gkr_sums` and `e_fill_window_sums` with ``poly`` = without = the
    chunk-buffer kernels over the Python twins' tables."""
    rng = np.random.default_rng(30 + m)
    args, cols = _plan(rng)
    xa, xb, wx, stepx = {2: (0, 730, 64, 70), 4: (0, 730, 64, 70), 8: (0, 1, 80, 175)}[m]
    W, slots = _tables(args, cols, xa, xb, wx, stepx, m)
    E = rng.integers(0, P, (wx >> 1, 2), dtype=np.uint64)
    sc, _ = KL.gkr_sums(W, W, slots, E, True)
    for poly in (True, False):
        for xblk, nch in ((wx, 1), (16, 3), (2, 2)):
            acc = np.zeros((1, 3, 2, 2), np.uint64)
            KL.e_fill_gkr_sums(xa, xb, wx, stepx, m, *args, slots.copy(), E, True, acc,
                               xblk, nch, poly)
            assert np.array_equal(acc, sc), (poly, xblk, nch)
    nw = 2
    Es = [rng.integers(0, P, (wx >> (i + 1), 2), dtype=np.uint64) for i in range(nw)]
    want1 = [True, False]
    ref = np.zeros((1, 3, 2, KL.window_offsets(nw)[nw], 2), np.uint64)
    KL.gkr_window_sums(W, slots, Es, want1, ref)
    Eall = KL._eall(Es)
    eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
    for poly in (True, False):
        for xblk, nch in ((wx, 1), (16, 2)):
            acc = np.zeros_like(ref)
            KL.e_fill_window_sums(xa, xb, wx, stepx, m, *args, slots.copy(), Eall, eoff,
                                  np.array(want1), acc, xblk, nch, poly)
            assert np.array_equal(acc, ref), (poly, xblk, nch)


def test_wrappers_switch(monkeypatch):
    """The wrappers pass `KL.POLY4` to the kernels: on and off give the same entries,
    and the switch reaches the kernel (a spy on the ``poly`` argument)."""
    rng = np.random.default_rng(40)
    args, cols = _plan(rng)
    plan = (*args[:6], KL.col_table([c for cc in cols for c in cc]), *args[7:])
    seen = []
    orig = KL.e_fill_reduce

    def spy(*a):
        seen.append(a[-1])
        return orig(*a)

    monkeypatch.setattr(KL, "e_fill_reduce", spy)
    outs = []
    for on in (True, False):
        monkeypatch.setattr(KL, "POLY4", on)
        pout = np.zeros((300, 2), np.uint64)
        qout = np.zeros((300, 2), np.uint64)
        KL.fill_reduce(0, 300, 300, 4, plan, pout, qout)
        outs.append((pout, qout))
    assert seen == [True, False]
    assert all(np.array_equal(a, b) for a, b in zip(outs[0], outs[1]))


@pytest.mark.parametrize("stream_bytes,keep", [(256, 1), (1024, 0)])
def test_prover_bytes_poly_on_off(monkeypatch, stream_bytes, keep):
    """A small lookup argument streamed through the fill kernels (m ≥ 2 pieces) proves
    the same bytes with `KL.POLY4` on and off, and verifies."""
    from zklora.plugins.lookups.logup_gkr import LogUpGKR
    from zklora.zkcore.testing import lookup_suite as S

    from .test_s35h1_held_in_place import _lookups, _small

    arg = type("A", (LogUpGKR,), {"test_repetitions": 1})()
    lk = _lookups(1)
    calls = []   # (kernel, m, poly) of the fill kernels taking m (m ≥ 2: `_fr_block_p`)

    def spy_of(name, mi):
        f = getattr(KL, name)

        def spy(*a):
            calls.append((name, int(a[mi]), bool(a[-1])))
            return f(*a)
        return spy

    for name, mi in (("e_fill_reduce", 3), ("e_fill_reduce_fold", 3),
                     ("e_fill_window_sums", 4), ("e_fill_gkr_sums", 4)):
        monkeypatch.setattr(KL, name, spy_of(name, mi))
    proofs = []
    for on in (False, True):
        _small(monkeypatch, stream_bytes, keep, True, True)
        monkeypatch.setattr(KL, "POLY4", on)
        calls.clear()
        g, be, proof, sections = S.prove_tables(arg, "goldilocks", lk)
        S.verify(g, proof, be, S.STATEMENT, sections)
        proofs.append(proof)
        assert any(m >= 2 for _, m, _ in calls), calls
        assert all(p == on for _, _, p in calls), calls
    assert proofs[0] == proofs[1]
