"""The LogUp-GKR prover's streamed trees hold the deepest layer the GKR reads whole
(`logup_gkr._hold_layer`, `FracTree.need`'s ``hold``): the layers above it are reduced
from it instead of summed again from the leaves, and layers are summed straight into
their destination (``out`` of `layer_range`, `FracTree.range`, `KL.frac_reduce`,
`KL.frac_up`).  Same proof bytes as the in-RAM prover, fewer leaf computations, and the
held layers fit `STREAM_BYTES`."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore.plugins import registry
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64), ], seed)


def _small(monkeypatch, stream_bytes, keep):
    monkeypatch.setattr(L, "STREAM_BYTES", stream_bytes)
    monkeypatch.setattr(L, "KEEP_LAYERS", keep)
    monkeypatch.setattr(L, "STREAM_CHUNK", 2)
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("stream_bytes,keep", [(64, 1), (1024, 0), (4096, 3), (16384, 1)])
def test_held_layer_same_bytes_fewer_leaves(monkeypatch, reps, stream_bytes, keep):
    """Holding the deepest whole-read layer: the in-RAM prover's bytes, at most the
    leaf computations of summing every layer from the leaves (fewer where a layer is
    held above others), and never more than `STREAM_BYTES` held below a needed layer."""
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    _small(monkeypatch, stream_bytes, keep)
    held = []
    orig_fit = L._deepest_fit

    def spy(trees, layer):
        j = orig_fit(trees, layer)
        held.append(j - layer)
        assert j >= layer
        return j

    monkeypatch.setattr(L, "_deepest_fit", spy)
    L._LEAVES[0] = 0
    g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    with_hold = L._LEAVES[0]
    assert proof2 == proof
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)
    monkeypatch.setattr(L, "_deepest_fit", lambda trees, layer: layer)   # nothing held
    L._LEAVES[0] = 0
    _, _, proof3, _ = S.prove_tables(arg, FIELD, lk)
    assert proof3 == proof
    assert with_hold <= L._LEAVES[0]
    if stream_bytes >= 1024:   # a layer held below another one needed
        assert any(h > 0 for h in held) and with_hold < L._LEAVES[0]


def test_hold_layer_fits_stream_bytes():
    """`_hold_layer` picks the deepest layer whose tables over the streamed trees fit
    `STREAM_BYTES` (each tree its layer min(j, depth)), never a layer above the one
    asked for, and ignores trees that hold a layer below already."""
    E = registry().field(FIELD).ext

    def tree(depth, unit=True):
        t = L.FracTree([None] * (depth + 1), [None] * (depth + 1), depth, unit, E,
                       leaves_range=lambda lo, hi: (None, None))
        return t

    old = L.STREAM_BYTES
    try:
        L.STREAM_BYTES = 2 * 16 << 10   # p and q of 2^10 entries
        a, b = tree(14), tree(9)
        assert L._hold_layer([a], [0], 5) == 10
        # b's unit leaves (16 B each, 2^9) + a's layer 9 (32 B each): 24 KiB fit; 10 not
        assert L._hold_layer([a, b], [0, 1], 5) == 9
        assert L._hold_layer([a], [0], 12) == 12   # never above the layer asked for
        a.q[11] = np.zeros((1 << 11, 2), np.uint64)   # holds a layer below 7: ignored
        assert L._hold_layer([a, b], [0, 1], 7) == 9
        assert L._hold_layer([a], [0], 7) == 7
        L.STREAM_BYTES = 0
        assert L._hold_layer([tree(14)], [0], 5) == 5
    finally:
        L.STREAM_BYTES = old


@pytest.mark.parametrize("unit", [True, False])
@pytest.mark.parametrize("depth,keep,hold", [(5, 1, 4), (6, 2, 6), (6, 0, 3), (4, 1, 9)])
@pytest.mark.parametrize("at_build", [False, True])
def test_need_with_hold_and_range_out(monkeypatch, unit, depth, keep, hold, at_build):
    """`need` with ``hold`` (or `streamed_tree` with ``hold``, ``at_build``) keeps layer
    min(hold, depth) and reduces the layers above from it; `range` with ``out`` writes
    what it returns without it; both equal `build_tree`'s layers."""
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    E = registry().field(FIELD).ext
    rng = np.random.default_rng(depth + 11 * keep + hold)
    n = 1 << depth
    q = np.asarray(rng.integers(1, 2**62, size=(n, 2)), np.uint64)
    p = None if unit else np.asarray(rng.integers(0, 2**62, size=(n, 2)), np.uint64)
    full = L.build_tree(E, p, q)
    calls = [0]

    def leaves(lo, hi):
        calls[0] += hi - lo
        return (None if unit else p[lo:hi]), q[lo:hi]

    t = L.streamed_tree(E, depth, unit, leaves, keep, hold if at_build else None)
    assert calls[0] == n   # one pass
    for layer in range(depth + 1):
        size = 1 << layer
        for lo, hi in [(0, size), (size // 2, size)]:
            if hi <= lo:
                continue
            po = None if (unit and layer == depth) else np.empty((hi - lo, 2), np.uint64)
            qo = np.empty((hi - lo, 2), np.uint64)
            rp, rq = t.range(layer, lo, hi, (po, qo))
            assert rq is qo and np.array_equal(qo, full.q[layer][lo:hi])
            if po is not None:
                assert rp is po and np.array_equal(po, full.p[layer][lo:hi])
    calls[0] = 0
    start = min(keep, depth) + 1
    for layer in range(start, depth + 1):
        t.need(layer, hold)
        assert np.array_equal(t.q[layer], full.q[layer])
        if not (unit and layer == depth):
            assert np.array_equal(t.p[layer], full.p[layer])
    # one pass over the leaves for layers start … h (held h; none if held from the
    # build), one per layer below h
    h = min(hold, depth)
    first = 1 if h >= start and not at_build else 0
    assert calls[0] == n * (first + depth - max(h, start - 1))


@pytest.mark.parametrize("unit", [True, False])
@pytest.mark.parametrize("m", [2, 4, 16])
def test_frac_reduce_and_up_into_out(unit, m):
    """`KL.frac_reduce` / `KL.frac_up` with ``out`` write the values they return
    without it (the Python twin `ref_frac_reduce`) into the given arrays."""
    E = registry().field(FIELD).ext
    rng = np.random.default_rng(m)
    n = 64 * m
    q = np.asarray(rng.integers(1, 2**62, size=(n, 2)), np.uint64)
    p = None if unit else np.asarray(rng.integers(0, 2**62, size=(n, 2)), np.uint64)
    rp, rq = KL.ref_frac_reduce(p, q, m)
    out = (np.empty((n // m, 2), np.uint64), np.empty((n // m, 2), np.uint64))
    res = KL.frac_reduce(E, p, q, m, out)
    assert res[0] is out[0] and res[1] is out[1]
    assert np.array_equal(out[0], rp) and np.array_equal(out[1], rq)
    o2 = (np.empty((n // 2, 2), np.uint64), np.empty((n // 2, 2), np.uint64))
    up = KL.frac_up(E, p, q, o2)
    ref = KL.ref_frac_reduce(p, q, 2)
    assert up[0] is o2[0] and np.array_equal(o2[0], ref[0]) and np.array_equal(o2[1], ref[1])
    with pytest.raises(ValueError):
        KL.frac_reduce(E, p, q, m, (out[0][:-1], out[1]))

