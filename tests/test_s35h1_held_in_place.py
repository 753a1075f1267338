"""s35h1: a layer that every tree holds is read in place, not streamed (`logup_gkr.
HELD_IN_PLACE`), and `_prove_layer`'s round 0 folds the tree layers straight into a
component-major stack that the later rounds fold in place (`logup_gkr.FOLD0_C`, through
`KL.multi_fold`'s ``soa`` into a slice of the stack).  Same proof bytes as the previous
paths (both switches off) and as the in-RAM prover, over thresholds that make held
layers meet the streaming condition; the fold itself against its Python twin on edge
values."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _small(monkeypatch, stream_bytes, keep, held, fold0):
    monkeypatch.setattr(L, "STREAM_BYTES", stream_bytes)
    monkeypatch.setattr(L, "KEEP_LAYERS", keep)
    monkeypatch.setattr(L, "STREAM_CHUNK", 2)
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    monkeypatch.setattr(L, "HELD_IN_PLACE", held)
    monkeypatch.setattr(L, "FOLD0_C", fold0)
    seen = []   # (layer, every tree holds it, meets the streaming size, rounds streamed)
    orig = L._streamed_rounds

    def spy(ctx, label, n, rr, trees, active, unit_leaf, slots, *a, **k):
        out = orig(ctx, label, n, rr, trees, active, unit_leaf, slots, *a, **k)
        kk = int(slots[:, 2:].max()) + 1
        seen.append((n, all(trees[i].q[n + 1] is not None for i in active),
                     kk * (16 << n) > L.STREAM_BYTES, out[0]))
        return out

    monkeypatch.setattr(L, "_streamed_rounds", spy)
    return seen


@pytest.mark.parametrize("reps,stream_bytes,keep", [
    (1, 64, 3), (1, 512, 3), (1, 4096, 0), (1, 16384, 1), (2, 256, 3), (2, 8192, 1)])
def test_held_in_place_same_bytes(monkeypatch, reps, stream_bytes, keep):
    """Every combination of the two switches sends the in-RAM prover's bytes.  These
    thresholds give layers that every tree holds (the hold layer, `_hold_layer`, or
    kept layers) but whose tables exceed `STREAM_BYTES`: without `HELD_IN_PLACE` they
    are streamed, with it none is; layers some tree does not hold are streamed either
    way."""
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    for held in (False, True):
        for fold0 in (False, True):
            seen = _small(monkeypatch, stream_bytes, keep, held, fold0)
            g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
            assert proof2 == proof, (held, fold0)
            S.verify(g2, proof2, be2, S.STATEMENT, sections2)
            held_big = [s for n, a, big, s in seen if a and big and n > 0]
            assert held_big
            assert all(s == 0 for s in held_big) if held else all(s > 0 for s in held_big)
            assert all(s > 0 for n, a, big, s in seen if big and not a and n > 0)


@pytest.mark.parametrize("reps", [None, 2])
@pytest.mark.parametrize("stream_bytes", [1 << 30, 1024, 64])
def test_switches_under_zero_knowledge(monkeypatch, reps, stream_bytes):
    """Masked layers and hidden layers (`_hidden_layer_fast`: `_prove_layer`'s ``head``,
    rounds 0 … n−2): both switches on send the bytes of both off (same seeded masks),
    and the proof verifies."""
    from unittest import mock

    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import zk

    from .test_zk_lookups import STATEMENT, _backend, _graph, _witness

    be = _backend(reps=reps)
    g, inputs = _graph(), _witness(2)
    out = []
    for on in (False, True):
        _small(monkeypatch, stream_bytes, 1, on, on)
        with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), \
                zk.session(rng=zk.MaskRng.seeded(b"same masks")):
            out.append(graphlib.prove(g, inputs, be, STATEMENT))
    assert out[0][0] == out[1][0]
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        graphlib.verify(g, out[1][0], be, STATEMENT, out[1][1])


@pytest.mark.parametrize("h", [4, 8, 64, 1 << 12, 3 << 11])
@pytest.mark.parametrize("k,a", [(2, 0), (6, 2), (10, 6)])
def test_round0_fold_into_stack_slice(h, k, a):
    """`KL.multi_fold(view, [ρ], W[a:a + 2], 0, True)` — round 0's fold of a tree's
    (2, h, 2) layer view into rows a, a + 1 of the component-major (k, 4, h/4) stack —
    equals `ref_multi_fold` (laid out as `pairs_of_c` reads it), on edge values and
    challenges, leaving the other tables' rows untouched; small and parallel paths."""
    rng = np.random.default_rng(h + k + a)
    view = rng.choice(EDGE, size=(2, h, 2))
    view[:, ::5] = rng.integers(0, P, size=view[:, ::5].shape, dtype=np.uint64)
    for rho in ([P - 1, P - 2], [0, 0], [1, 0], [0, 1], [12345, P - 1]):
        r = np.array(rho, np.uint64)
        want = KL.ref_multi_fold(view, [r])
        W = np.full((k, 4, h >> 2), 777, np.uint64)
        KL.multi_fold(view, [r], W[a:a + 2], 0, True)
        assert np.array_equal(KL.pairs_of_c(W[a:a + 2]), want)
        others = np.ones(k, bool)
        others[a:a + 2] = False
        assert (W[others] == 777).all()
        # and what the old path computed (`fold_into` into an interleaved stack)
        nxt = np.empty((2, h // 2, 2), np.uint64)
        KL.fold_into(view, r, nxt)
        assert np.array_equal(nxt, want)
