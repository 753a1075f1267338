"""The LogUp-GKR prover's bounded memory (issue 14): lookup trees hold only their upper
layers (`streamed_tree`), deeper layers are summed from the leaves in chunks
(`layer_range`), and a layer too big to hold is read in chunks by the first rounds of its
sumcheck (`_streamed_rounds`).  Same transcript: the proof bytes equal the in-RAM
prover's, with every threshold forced down to a few entries."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore import selfcheck
from zklora.zkcore.plugins import registry
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _small(monkeypatch, stream_bytes=64, keep=1):
    monkeypatch.setattr(L, "STREAM_BYTES", stream_bytes)
    monkeypatch.setattr(L, "KEEP_LAYERS", keep)
    monkeypatch.setattr(L, "STREAM_CHUNK", 2)
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    streamed = []
    orig = L._streamed_rounds

    def spy(*a, **k):
        out = orig(*a, **k)
        streamed.append(out[0])
        return out

    monkeypatch.setattr(L, "_streamed_rounds", spy)
    return streamed


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("stream_bytes,keep", [(64, 1), (1024, 0), (4096, 3), (1 << 30, 2)])
def test_streamed_prover_sends_the_same_bytes(monkeypatch, reps, stream_bytes, keep):
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    streamed = _small(monkeypatch, stream_bytes, keep)
    g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    assert proof2 == proof
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)
    if stream_bytes < 1 << 20:
        assert any(s > 0 for s in streamed), "no layer was streamed"


def test_streamed_prover_cheating_still_rejected(monkeypatch):
    """A row outside its table, proven by the streamed prover, is rejected."""
    _small(monkeypatch)
    lk = _lookups(7)
    lk[1][1][0][0].view(-1)[3] = 40  # range5 holds 0 … 31
    with selfcheck.disabled():
        g, be, proof, sections = S.prove_tables(LogUpGKR(), FIELD, lk)
    with pytest.raises(Exception, match="LogUp sums differ|does not match"):
        S.verify(g, proof, be, S.STATEMENT, sections)


@pytest.mark.parametrize("unit", [True, False])
@pytest.mark.parametrize("depth,keep", [(0, 0), (1, 0), (3, 1), (5, 2), (5, 5), (6, 9)])
def test_streamed_tree_layers_match_the_full_tree(monkeypatch, unit, depth, keep):
    """Every layer of `streamed_tree` (held, summed by `layer_range` in any slice, or
    rebuilt by `need`) equals `build_tree`'s."""
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    E = registry().field(FIELD).ext
    rng = np.random.default_rng(depth + 7 * keep)
    n = 1 << depth
    q = np.asarray(rng.integers(1, 2**62, size=(n, 2)), np.uint64)
    p = None if unit else np.asarray(rng.integers(0, 2**62, size=(n, 2)), np.uint64)
    full = L.build_tree(E, p, q)

    def leaves(lo, hi):
        return (None if unit else p[lo:hi]), q[lo:hi]

    t = L.streamed_tree(E, depth, unit, leaves, keep)
    for layer in range(depth + 1):
        size = 1 << layer
        for lo, hi in [(0, size), (size // 2, size), (0, max(1, size // 4))]:
            tp, tq = t.range(layer, lo, hi)
            assert np.array_equal(tq, full.q[layer][lo:hi])
            if not (unit and layer == depth):
                assert np.array_equal(tp, full.p[layer][lo:hi])
    for layer in range(depth + 1):
        t.need(layer)
        assert np.array_equal(t.q[layer], full.q[layer])
        if not (unit and layer == depth):
            assert np.array_equal(t.p[layer], full.p[layer])


@pytest.mark.parametrize("reps", [1, 2])
def test_streamed_prover_under_zero_knowledge(monkeypatch, reps):
    """With masks (same seed) the streamed layer prover sends the in-RAM prover's bytes,
    and the masked proof with k challenge sets verifies."""
    from zklora.zkcore import zk

    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(3)
    with zk.session(rng=zk.MaskRng.seeded(b"same masks")):
        g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    streamed = _small(monkeypatch)
    with zk.session(rng=zk.MaskRng.seeded(b"same masks")):
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    assert proof2 == proof
    assert any(s > 0 for s in streamed)
    with zk.session():
        S.verify(g2, proof2, be2, S.STATEMENT, sections2)
