"""s38h1: a streamed layer's window pass sums a planned lookup tree's slot from its
leaves block by block in cache (`KL.e_fill_window_sums`, `logup_gkr.FILL_WINDOW`): the
kernel against its Python twins (`KL.ref_fill_reduce` / `KL.ref_fill_segments` for the
two halves, then `KL.ref_gkr_window_sums`, and the chunk-buffer kernel
`KL.gkr_window_sums`) over leaves an entry, window lengths, block sizes, chunk counts and
X = 1 choices; the wrapper declining; and the prover's bytes with the switch on = off
(= the in-RAM prover's), the fused window pass taken."""

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


def _tables(args, cols, xa, xb, wx, stepx, m):
    """The chunk's stack (rows p0, p1, q0, q1; m = 1: q0, q1) and its slots, by the
    Python twins."""
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    if m == 1:
        q = [KL.ref_fill_segments(x, x + wx, 1, starts, ends, kind, tix, widths, cols, AP,
                                  BT, PADV).reshape(wx, 2) for x in (xa, xb)]
        return np.stack(q), np.array([[-1, -1, 0, 1]], np.int64)
    pq = [KL.ref_fill_reduce(x, wx, stepx, m, 1, starts, ends, kind, tix, widths, cols, AP,
                             BT, PADV) for x in (xa, xb)]
    W = np.stack([pq[0][0], pq[1][0], pq[0][1], pq[1][1]]).astype(np.uint64)
    return W, np.array([[0, 1, 2, 3]], np.int64)


def _es(rng, wx, nw):
    Es = [rng.integers(0, P, (wx >> (i + 1), 2), dtype=np.uint64) for i in range(nw)]
    Es[0][:2] = [(0, 0), (1, 0)]
    return Es


@pytest.mark.parametrize("m", [1, 2, 4, 8])
@pytest.mark.parametrize("nw", [2, 3])
def test_fill_window_sums_match_reference(m, nw):
    """The kernel adds the chunk-buffer path's sums (= the Python reference's) to acc,
    over block sizes (one block … many, the last short), chunk counts, X = 1 or not."""
    rng = np.random.default_rng(10 * m + nw)
    args, cols = _args(rng, 1)
    xa, xb, wx, stepx = (0, 128, 64, 64) if m > 1 else (3, 131, 128, 0)
    if m > 1:
        xa, xb, wx, stepx = 0, 37, 32, 16   # halves overlap the segments' gaps, pads
    W, slots = _tables(args, cols, xa, xb, wx, stepx, m)
    NB = KL.window_offsets(nw)[nw]
    for want1 in ([False] * nw, [True] + [False] * (nw - 1), [True] * nw):
        Es = _es(rng, wx, nw)
        base = rng.integers(0, P, (1, 3, 2, NB, 2), dtype=np.uint64)
        want = base.copy()
        KL.gkr_window_sums(W, slots, Es, want1, want)
        if nw == 2 and m <= 2:   # the Python twin (slow): a few shapes
            chk = np.zeros_like(base)
            KL.gkr_window_sums(W, slots, Es, want1, chk)
            assert np.array_equal(KL.ref_gkr_window_sums(W, slots, Es, want1), chk)
        Eall = np.ascontiguousarray(np.concatenate(Es), np.uint64)
        eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
        lslots = slots.copy()
        for xblk, nch in ((wx, 1), (1 << nw, 1), (1 << nw, 3), (2 << nw, 2), (16, 5),
                          (wx // 2, 2), (3 << nw, 2)):
            if xblk % (1 << nw):
                continue
            acc = base.copy()
            KL.e_fill_window_sums(xa, xb, wx, stepx, m, *args, lslots, Eall, eoff,
                                  np.array(want1, np.bool_), acc, xblk, nch)
            assert np.array_equal(acc, want), (m, nw, want1, xblk, nch)
        acc = base.copy()
        assert KL.fill_window_sums(xa, xb, wx, stepx, m, args, Es, want1, acc)
        assert np.array_equal(acc, want)


def test_fill_window_sums_wrapper():
    """`KL.fill_window_sums` adds nothing and says False where the kernel does not apply
    (two sets; one round; wx not a multiple of 2^m; m not a power of two; a `SEG_SKIP`
    segment; E of the wrong length), else adds as the chunk-buffer kernel."""
    rng = np.random.default_rng(3)
    args, cols = _args(rng, 1)
    args2, _ = _args(rng, 2)
    skip = list(args)
    skip[2] = args[2].copy()
    skip[2][3] = KL.SEG_SKIP
    Es = _es(rng, 64, 2)
    acc = np.full((1, 3, 2, 4, 2), 777, np.uint64)
    assert not KL.fill_window_sums(0, 64, 64, 64, 2, args2, Es, [False] * 2, acc)
    assert not KL.fill_window_sums(0, 64, 64, 64, 2, args, Es[:1], [False], acc[:, :, :, :1])
    assert not KL.fill_window_sums(0, 64, 62, 64, 2, args, Es, [False] * 2, acc)
    assert not KL.fill_window_sums(0, 64, 64, 64, 3, args, Es, [False] * 2, acc)
    assert not KL.fill_window_sums(0, 64, 64, 64, 2, tuple(skip), Es, [False] * 2, acc)
    assert not KL.fill_window_sums(0, 64, 64, 64, 2, args, [Es[0], Es[0]], [False] * 2, acc)
    assert (acc == 777).all()
    W, slots = _tables(args, cols, 0, 64, 64, 64, 2)
    want = acc.copy()
    KL.gkr_window_sums(W, slots, Es, [True, False], want)
    assert KL.fill_window_sums(0, 64, 64, 64, 2, args, Es, [True, False], acc, xblk=16)
    assert np.array_equal(acc, want)


@pytest.mark.parametrize("stream_bytes,keep", [(256, 1), (1024, 3), (4096, 1), (512, 0)])
def test_fill_window_same_bytes(monkeypatch, stream_bytes, keep):
    """`FILL_WINDOW` on sends the bytes of off and of the in-RAM prover, the proof
    verifies; on, the fused window pass (`KL.fill_window_sums`) is taken, off never."""
    from zklora.zkcore.testing import lookup_suite as S

    arg = type("A", (LogUpGKR,), {"test_repetitions": 1})()
    lk = _lookups(1)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    taken = []
    orig = KL.fill_window_sums

    def spy(*a, **k):
        ok = orig(*a, **k)
        taken.append(ok)
        return ok

    monkeypatch.setattr(KL, "fill_window_sums", spy)
    for on in (False, True):
        _small(monkeypatch, stream_bytes, keep, True, True)
        monkeypatch.setattr(L, "FILL_WINDOW", on)
        taken.clear()
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
        assert proof2 == proof, on
        S.verify(g2, proof2, be2, S.STATEMENT, sections2)
        assert any(taken) == on, (on, taken)
