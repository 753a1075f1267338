"""s39h3: a streamed layer's window of ONE round (84m's layers 23, 24) sums a planned
lookup tree's slot from its leaves block by block in cache (`KL.e_fill_gkr_sums`,
`logup_gkr.FILL_WINDOW1`): the kernel against the chunk-buffer kernel `KL.gkr_sums` and
the Python twin `KL.ref_gkr_sums` over the tables built by the Python twins
(`KL.ref_fill_reduce` / `KL.ref_fill_segments`), over leaves an entry, block sizes, chunk
counts and X = 1 choices; the wrapper declining; and the prover's bytes with the switch on
= off (= the in-RAM prover's), the fused one-round pass taken."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR

from .test_h3_fill_reduce_lanes import _args
from .test_s35h1_held_in_place import _lookups, _small
from .test_s38h1_fill_window import _tables

FIELD = "goldilocks"


def _shape(m):
    # halves over the segments' gaps and padding rows (m = 1: the leaves themselves)
    return (3, 131, 128, 0) if m == 1 else (0, 37, 32, 16)


@pytest.mark.parametrize("m", [1, 2, 4, 8])
def test_fill_gkr_sums_match_reference(m):
    """The kernel adds the chunk-buffer kernel's sums (= the Python twin's) to acc, over
    block sizes (one block … many, the last short), chunk counts, X = 1 or not."""
    rng = np.random.default_rng(70 + m)
    args, cols = _args(rng, 1)
    xa, xb, wx, stepx = _shape(m)
    W, slots = _tables(args, cols, xa, xb, wx, stepx, m)
    for want1 in (False, True):
        E = rng.integers(0, P, (wx >> 1, 2), dtype=np.uint64)
        E[:2] = [(0, 0), (1, 0)]
        base = rng.integers(0, P, (1, 3, 2, 2), dtype=np.uint64)
        sc, _ = KL.gkr_sums(W, W, slots, E, want1)
        ref, _ = KL.ref_gkr_sums(W, W, slots, E, want1)
        assert np.array_equal(sc, ref)
        want = ((base.astype(object) + sc.astype(object)) % P).astype(np.uint64)
        for xblk, nch in ((wx, 1), (2, 1), (2, 3), (4, 2), (6, 2), (16, 5), (wx // 2, 2),
                          (10, 4), (2 * wx, 1)):
            acc = base.copy()
            KL.e_fill_gkr_sums(xa, xb, wx, stepx, m, *args, slots.copy(),
                               np.ascontiguousarray(E), want1, acc, xblk, nch)
            assert np.array_equal(acc, want), (m, want1, xblk, nch)
        acc = base.copy()
        assert KL.fill_gkr_sums(xa, xb, wx, stepx, m, args, E, want1, acc)
        assert np.array_equal(acc, want)


def test_fill_gkr_sums_wide_rows():
    """Blocks longer than the fill's `KL.FILL_RB` rows (several fill pieces a block, the
    last piece short): m = 1 over 1500 leaf rows (the segments, then unit rows past
    them), m = 2 over 600 entries a half."""
    rng = np.random.default_rng(5)
    args, cols = _args(rng, 1)
    for m, (xa, xb, wx, stepx) in ((1, (0, 1500, 1500, 0)), (2, (0, 1200, 600, 600))):
        W, slots = _tables(args, cols, xa, xb, wx, stepx, m)
        E = rng.integers(0, P, (wx >> 1, 2), dtype=np.uint64)
        sc, _ = KL.gkr_sums(W, W, slots, E, True)
        for xblk in (0, 1100, 1024, 512, 2 * wx):
            acc = np.zeros((1, 3, 2, 2), np.uint64)
            assert KL.fill_gkr_sums(xa, xb, wx, stepx, m, args, E, True, acc, xblk)
            assert np.array_equal(acc, sc), (m, xblk)


def test_fill_gkr_sums_wrapper():
    """`KL.fill_gkr_sums` adds nothing and says False where the kernel does not apply
    (two sets; wx odd; m not a power of two; a `SEG_SKIP` segment; E of the wrong
    length; acc of the wrong shape)."""
    rng = np.random.default_rng(3)
    args, cols = _args(rng, 1)
    args2, _ = _args(rng, 2)
    skip = list(args)
    skip[2] = args[2].copy()
    skip[2][3] = KL.SEG_SKIP
    E = rng.integers(0, P, (32, 2), dtype=np.uint64)
    acc = np.full((1, 3, 2, 2), 777, np.uint64)
    assert not KL.fill_gkr_sums(0, 64, 64, 64, 2, args2, E, False, acc)
    assert not KL.fill_gkr_sums(0, 64, 63, 64, 2, args, E, False, acc)
    assert not KL.fill_gkr_sums(0, 64, 64, 64, 3, args, E, False, acc)
    assert not KL.fill_gkr_sums(0, 64, 64, 64, 2, tuple(skip), E, False, acc)
    assert not KL.fill_gkr_sums(0, 64, 64, 64, 2, args, E[:16], False, acc)
    big = np.full((1, 3, 2, 1, 2), 777, np.uint64)
    assert not KL.fill_gkr_sums(0, 64, 64, 64, 2, args, E, False, big)
    assert (acc == 777).all() and (big == 777).all()
    W, slots = _tables(args, cols, 0, 64, 64, 64, 2)
    sc, _ = KL.gkr_sums(W, W, slots, E, False)
    assert KL.fill_gkr_sums(0, 64, 64, 64, 2, args, E, False, acc, xblk=16)
    assert np.array_equal(acc, (sc.astype(object) + 777) % P)


@pytest.mark.parametrize("stream_bytes,keep,window", [
    (256, 1, 1), (1024, 3, 1), (4096, 1, 1), (512, 0, 1), (1024, 1, 2)])
def test_fill_window1_same_bytes(monkeypatch, stream_bytes, keep, window):
    """`FILL_WINDOW1` on sends the bytes of off and of the in-RAM prover, the proof
    verifies; with windows of one round (`WINDOW` = 1) the fused one-round pass
    (`KL.fill_gkr_sums`) is taken when on, never when off."""
    from zklora.zkcore.testing import lookup_suite as S

    arg = type("A", (LogUpGKR,), {"test_repetitions": 1})()
    lk = _lookups(1)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    taken = []
    orig = KL.fill_gkr_sums

    def spy(*a, **k):
        ok = orig(*a, **k)
        taken.append(ok)
        return ok

    monkeypatch.setattr(KL, "fill_gkr_sums", spy)
    for on in (False, True):
        _small(monkeypatch, stream_bytes, keep, True, True)
        monkeypatch.setattr(L, "WINDOW", window)
        monkeypatch.setattr(L, "FILL_WINDOW1", on)
        taken.clear()
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
        assert proof2 == proof, on
        S.verify(g2, proof2, be2, S.STATEMENT, sections2)
        if window == 1:
            assert any(taken) == on, (on, taken)
        else:
            assert not taken or on
