"""s36h4: a streamed layer's fold pass sums a planned lookup tree's chunk from its leaves
and folds it in the same kernel (`KL.e_fill_reduce_fold`, `logup_gkr.FOLD_FILL`): the
kernel against its Python twins (`KL.ref_fill_reduce` then `KL.ref_multi_fold`, laid out
component-major as `KL.pairs_of_c` reads it) over block sizes, chunk counts, fold
depths and offsets, edge challenges, the other rows untouched; and the prover's bytes
with the switch on = off (and = the in-RAM prover's) over thresholds that stream layers
with a fold pass, the fused path taken."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR

from .test_h3_fill_reduce_lanes import _args
from .test_s35h1_held_in_place import _lookups, _small

FIELD = "goldilocks"
RHOS = [(P - 1, P - 2), (0, 0), (1, 0), (0, 1), (12345, P - 1), (P - 2, P - 1),
        (987654321987, 31337)]


def _want(args, cols, xlo, wx, stepx, m, rhos):
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, 1, starts, ends, kind, tix, widths,
                                cols, AP, BT, PADV)
    return (KL.ref_multi_fold(wp.reshape(1, wx, 2), rhos)[0],
            KL.ref_multi_fold(wq.reshape(1, wx, 2), rhos)[0])


@pytest.mark.parametrize("j", [1, 2, 3])
@pytest.mark.parametrize("xlo,wx,stepx,m", [(0, 256, 256, 2), (3, 128, 160, 4),
                                            (1, 64, 64, 8), (0, 512, 37, 2)])
def test_fill_reduce_fold_matches_reference(j, xlo, wx, stepx, m):
    rng = np.random.default_rng(j * 100 + m)
    args, cols = _args(rng, 1)
    for t in range(2):
        rhos = [np.array(RHOS[(t * 3 + i + j) % len(RHOS)], np.uint64) for i in range(j)]
        wp, wq = _want(args, cols, xlo, wx, stepx, m, rhos)
        nout = wx >> j
        for at in (0, 2, 16):
            for nch, rbx in ((1, 2 << j), (2, 16), (3, 64), (1, 512), (5, 512)):
                if rbx % (2 << j):
                    continue
                k, fp, fq = 7, 2, 5
                out = np.full((k, 4, (at + nout) // 2 + 3), 777, np.uint64)
                rr = np.ascontiguousarray(np.array(rhos, np.uint64).reshape(j, 2))
                KL.e_fill_reduce_fold(xlo, wx, stepx, m, *args, rr, out, fp, fq, at, rbx,
                                      nch)
                c = slice(at // 2, (at + nout) // 2)
                assert np.array_equal(KL.pairs_of_c(out[fp:fp + 1, :, c])[0], wp), \
                    (j, at, nch, rbx)
                assert np.array_equal(KL.pairs_of_c(out[fq:fq + 1, :, c])[0], wq)
                rest = np.ones(out.shape, bool)
                rest[[fp, fq], :, c] = False
                assert (out[rest] == 777).all()


def test_fill_reduce_fold_wrapper_declines():
    """`KL.fill_reduce_fold` writes nothing and says False where the fused kernel does
    not apply (two sets; wx or ``at`` not aligned to the fold), else folds as the
    kernel."""
    rng = np.random.default_rng(7)
    args, cols = _args(rng, 1)
    args2, _ = _args(rng, 2)
    rhos = [np.array(RHOS[4], np.uint64), np.array(RHOS[6], np.uint64)]
    out = np.full((4, 4, 64), 777, np.uint64)
    assert not KL.fill_reduce_fold(0, 64, 64, 2, args2, rhos, out, 0, 2, 0)
    assert not KL.fill_reduce_fold(0, 60, 64, 2, args, rhos, out, 0, 2, 0)
    assert not KL.fill_reduce_fold(0, 64, 64, 2, args, rhos, out, 0, 2, 1)
    assert not KL.fill_reduce_fold(0, 64, 64, 2, args, [], out, 0, 2, 0)
    assert (out == 777).all()
    assert KL.fill_reduce_fold(0, 64, 64, 2, args, rhos, out, 1, 3, 4)
    wp, wq = _want(args, cols, 0, 64, 64, 2, rhos)
    assert np.array_equal(KL.pairs_of_c(out[1:2, :, 2:10])[0], wp)
    assert np.array_equal(KL.pairs_of_c(out[3:4, :, 2:10])[0], wq)


@pytest.mark.parametrize("reps,stream_bytes,keep,taken", [
    (1, 256, 1, True), (1, 1024, 3, True), (1, 4096, 1, True), (2, 1024, 3, False)])
def test_fold_fill_same_bytes(monkeypatch, reps, stream_bytes, keep, taken):
    """`FOLD_FILL` on sends the bytes of off and of the in-RAM prover, the proof
    verifies; with one challenge set the fused fold is taken for the planned lookup
    trees (the table tree's rows beside them through the chunk buffer), with two sets
    it declines (`fill_reduce_fold`: R = 2)."""
    from zklora.zkcore.testing import lookup_suite as S

    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    fused = []
    orig = L.FracTree.range_fold

    def spy(*a, **k):
        ok = orig(*a, **k)
        fused.append(ok)
        return ok

    monkeypatch.setattr(L.FracTree, "range_fold", spy)
    for on in (False, True):
        _small(monkeypatch, stream_bytes, keep, True, True)
        monkeypatch.setattr(L, "FOLD_FILL", on)
        fused.clear()
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
        assert proof2 == proof, on
        S.verify(g2, proof2, be2, S.STATEMENT, sections2)
        assert any(fused) == (on and taken)
        assert not on or not taken or not all(fused)   # some rows by the chunk buffer
