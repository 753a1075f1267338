"""s37h4: a streamed layer's fold pass writes a planned lookup tree's unit leaves (its
leaf layer, one leaf an entry) straight into lanes and folds them in the same kernel
(`KL.e_fill_fold`, `logup_gkr.FOLD_LEAVES`): the kernel against its Python twins
(`KL.ref_fill_segments` then `KL.ref_multi_fold`, laid out component-major as
`KL.pairs_of_c` reads it) over block sizes, chunk counts, fold depths, offsets and edge
challenges, the other rows untouched; the wrapper declining; and the prover's bytes with
the switch on = off (and = the in-RAM prover's), the fused leaf fold taken."""

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


def _want(args, cols, xlo, wx, rhos):
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    w = KL.ref_fill_segments(xlo, xlo + wx, 1, starts, ends, kind, tix, widths, cols, AP,
                             BT, PADV).reshape(1, wx, 2)
    return KL.ref_multi_fold(w, rhos)[0]


@pytest.mark.parametrize("j", [1, 2, 3])
@pytest.mark.parametrize("xlo,wx", [(0, 256), (3, 128), (37, 64), (81, 160)])
def test_fill_fold_matches_reference(j, xlo, wx):
    """Leaves over column segments (every combiner kind), padding rows and gaps (1)."""
    rng = np.random.default_rng(j * 100 + xlo)
    args, cols = _args(rng, 1)
    if wx % (2 << j):
        pytest.skip("wx not aligned")
    for t in range(2):
        rhos = [np.array(RHOS[(t * 3 + i + j) % len(RHOS)], np.uint64) for i in range(j)]
        want = _want(args, cols, xlo, wx, rhos)
        nout = wx >> j
        for at in (0, 2, 16):
            for nch, rbx in ((1, 2 << j), (2, 16), (3, 64), (1, 512), (5, 512), (2, 32)):
                if rbx % (2 << j):
                    continue
                k, fq = 7, 5
                out = np.full((k, 4, (at + nout) // 2 + 3), 777, np.uint64)
                rr = np.ascontiguousarray(np.array(rhos, np.uint64).reshape(j, 2))
                KL.e_fill_fold(xlo, wx, *args, rr, out, fq, at, rbx, nch)
                c = slice(at // 2, (at + nout) // 2)
                assert np.array_equal(KL.pairs_of_c(out[fq:fq + 1, :, c])[0], want), \
                    (j, at, nch, rbx)
                rest = np.ones(out.shape, bool)
                rest[fq, :, c] = False
                assert (out[rest] == 777).all()


def test_fill_fold_wrapper():
    """`KL.fill_fold` writes nothing and says False where the kernel does not apply (two
    sets; wx or ``at`` not aligned; no challenge; a `SEG_SKIP` segment), else folds as
    the kernel (its own chunk count)."""
    rng = np.random.default_rng(7)
    args, cols = _args(rng, 1)
    args2, _ = _args(rng, 2)
    skip = list(args)
    skip[2] = args[2].copy()
    skip[2][3] = KL.SEG_SKIP
    rhos = [np.array(RHOS[4], np.uint64), np.array(RHOS[6], np.uint64)]
    out = np.full((4, 4, 64), 777, np.uint64)
    assert not KL.fill_fold(0, 64, args2, rhos, out, 2, 0)
    assert not KL.fill_fold(0, 60, args, rhos, out, 2, 0)
    assert not KL.fill_fold(0, 64, args, rhos, out, 2, 1)
    assert not KL.fill_fold(0, 64, args, [], out, 2, 0)
    assert not KL.fill_fold(0, 64, tuple(skip), rhos, out, 2, 0)
    assert (out == 777).all()
    assert KL.fill_fold(8, 248, args, rhos, out, 3, 4)
    want = _want(args, cols, 8, 248, rhos)
    assert np.array_equal(KL.pairs_of_c(out[3:4, :, 2:2 + 31])[0], want)
    assert (out[:3] == 777).all()


@pytest.mark.parametrize("stream_bytes,keep", [(256, 1), (1024, 3), (4096, 1)])
def test_fold_leaves_same_bytes(monkeypatch, stream_bytes, keep):
    """`FOLD_LEAVES` on sends the bytes of off and of the in-RAM prover, the proof
    verifies; on, the fused leaf fold (`KL.fill_fold`) is taken for the planned lookup
    trees' leaf layer, off never."""
    from zklora.zkcore.testing import lookup_suite as S

    arg = type("A", (LogUpGKR,), {"test_repetitions": 1})()
    lk = _lookups(1)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    taken = []
    orig = KL.fill_fold

    def spy(*a, **k):
        ok = orig(*a, **k)
        taken.append(ok)
        return ok

    monkeypatch.setattr(KL, "fill_fold", spy)
    for on in (False, True):
        _small(monkeypatch, stream_bytes, keep, True, True)
        monkeypatch.setattr(L, "FOLD_LEAVES", on)
        taken.clear()
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
        assert proof2 == proof, on
        S.verify(g2, proof2, be2, S.STATEMENT, sections2)
        assert any(taken) == on, (on, taken)
