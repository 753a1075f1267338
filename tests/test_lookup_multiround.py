"""Several streamed GKR rounds from one pass (`zklora.kernels.lookup_gkr`, "several
streamed rounds from one pass"): the window kernel against its pure-Python twin, and
the round sums it gives against the per-round kernel's over the folded tables."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels import sumcheck as KS
from zklora.kernels.goldilocks import P_INT
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


@pytest.mark.parametrize("m,M", [(1, 4), (2, 16), (3, 2 * KL.WBLOCK * 8 + 8 * 6)])
@pytest.mark.parametrize("want1", [False, True])
def test_window_kernel_matches_reference(m, M, want1):
    """`e_gkr_window_sums` (serial and chunked, added to a nonzero accumulator) equals
    `ref_gkr_window_sums`."""
    rng = np.random.default_rng(10 * m + want1)
    W = _rand(rng, (8, M))
    Es = [_rand(rng, M >> (i + 1)) for i in range(m)]
    wants = [want1 and i % 2 == 0 for i in range(m)]
    want = KL.ref_gkr_window_sums(W, SLOTS, Es, wants)
    for nch in (1, 3):
        acc = np.zeros_like(want)
        Eall = np.concatenate(Es)
        eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
        KL.e_gkr_window_sums(W, SLOTS, Eall, eoff, np.array(wants), acc, nch)
        assert np.array_equal(acc, want), nch
        KL.gkr_window_sums(W, SLOTS, Es, wants, acc)   # added: twice the reference
        assert np.array_equal(acc, E.add(want, want)), nch


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_window_round_sums_equal_folded_sums(m):
    """Round i's sums from the window's accumulator equal `gkr_sums` over the tables
    folded by the window's first i challenges (the proof bytes cannot change)."""
    rng = np.random.default_rng(m)
    M = 1 << (m + 3)
    W = _rand(rng, (8, M))
    Es = [_rand(rng, M >> (i + 1)) for i in range(m)]
    for want1 in (False, True):
        acc = np.zeros((len(SLOTS), 3, 2, KL.window_offsets(m)[m], 2), np.uint64)
        KL.gkr_window_sums(W, SLOTS, Es, [want1] * m, acc)
        rhos = [_rand(rng, ()) for _ in range(m)]
        Wf = W
        for i in range(m):
            got = KL.window_round_sums(acc, SLOTS, i, rhos[:i])
            want, _ = KL.gkr_sums(Wf, Wf, SLOTS, Es[i], want1)
            assert np.array_equal(got, want), (i, want1)
            Wf = KS.ref_fold(Wf, rhos[i])


@pytest.mark.parametrize("zk_on", [False, True])
@pytest.mark.parametrize("reps,window", [(1, 6), (2, 3), (2, 2)])
def test_windowed_streamed_prover_sends_the_same_bytes(monkeypatch, zk_on, reps, window):
    """The streamed layer prover with several rounds per pass (the planner told that
    passes are dear, `_windows`) sends the in-RAM prover's bytes, masked or not."""
    import contextlib

    from zklora.plugins.lookups import logup_gkr as L
    from zklora.zkcore import zk
    from zklora.zkcore.testing import lookup_suite as S

    def session():
        return zk.session(rng=zk.MaskRng.seeded(b"w")) if zk_on else contextlib.nullcontext()

    from tests.test_logup_streaming import _lookups, _small

    arg = type("A", (L.LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps + 5)
    with session():
        g, be, proof, sections = S.prove_tables(arg, "goldilocks", lk)
    streamed = _small(monkeypatch)
    monkeypatch.setattr(L, "_COST_LEAF", 1e9)
    monkeypatch.setattr(L, "WINDOW", window)
    plans = []
    orig = L._windows

    def spy(*a):
        out = orig(*a)
        plans.append(out)
        return out

    monkeypatch.setattr(L, "_windows", spy)
    with session():
        g2, be2, proof2, sections2 = S.prove_tables(arg, "goldilocks", lk)
    assert proof2 == proof
    assert any(s > 1 for s in streamed)
    assert any(m == window for p in plans for m in p), plans
    assert [sum(p) for p in plans] == [s for s in streamed if s]
    with session() if zk_on else contextlib.nullcontext():
        S.verify(g2, proof2, be2, S.STATEMENT, sections2)


@pytest.mark.parametrize("window", [2, 5])
def test_windowed_hidden_layers_match_generic(monkeypatch, window):
    """Hidden layers (zero knowledge, `ctx.hide_lookups`) streamed with several rounds per
    pass (rounds up to n−2, then the hidden last round) send the generic
    `zk.run_hidden`'s bytes (same seeded masks); verifies."""
    from unittest import mock

    from zklora.plugins.lookups import logup_gkr as L
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import zk

    from .test_zk_lookups import STATEMENT, _backend, _graph, _witness

    be = _backend(reps=2)
    g, inputs = _graph(), _witness(2)

    def prove():
        with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), \
                zk.session(rng=zk.MaskRng.seeded(b"same masks")):
            return graphlib.prove(g, inputs, be, STATEMENT)

    with mock.patch.object(L, "FAST_HIDDEN", False):
        generic = prove()
    for name, v in [("STREAM_BYTES", 64), ("KEEP_LAYERS", 1), ("STREAM_CHUNK", 2),
                    ("LAYER_CHUNK", 4), ("_COST_LEAF", 1e9), ("WINDOW", window)]:
        monkeypatch.setattr(L, name, v)
    plans = []
    orig = L._windows
    monkeypatch.setattr(L, "_windows", lambda *a: plans.append(orig(*a)) or plans[-1])
    fast = prove()
    assert any(m == window for p in plans for m in p), plans
    assert fast[0] == generic[0]
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        graphlib.verify(g, fast[0], be, STATEMENT, fast[1])
