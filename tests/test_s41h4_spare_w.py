"""s41h4: a streamed LogUp-GKR layer's folded stack W is the block of the held layer the
GKR has just passed (`logup_gkr._spare_of`: `layer_full` writes a layer's p and q as the
halves of one block), not the `_work` buffer, whose upper part would be faulted in fresh
while the dropped block waits for the layer's trim.  The block must never alias live
data: the proof with the spare used (and poisoned with stale values each time it is
handed out) equals the in-RAM prover's and the one without the spare."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_logup_streaming import FIELD, _lookups, _small
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry
from zklora.zkcore.testing import lookup_suite as S


def _E():
    return registry().field(FIELD).ext


def _tree(layers):
    """A FracTree whose layers j are the given (p, q) (None: absent)."""
    d = len(layers) - 1
    return L.FracTree([x[0] if x else None for x in layers],
                      [x[1] if x else None for x in layers], d, True, _E())


def _block(n, v=0):
    """(the block's address, (p, q) its halves): no reference to the block itself kept."""
    blk = np.full((2 * n, 2), v, dtype=np.uint64)
    return blk.ctypes.data, (blk[:n], blk[n:])


def _at(a):
    return None if a is None else a.ctypes.data


def test_spare_of_takes_an_unreferenced_block():
    token = L._SPARE.set([None])
    try:
        blk, pq = _block(8, 3)
        t = _tree([None, None, pq, None])
        del pq
        L._spare_of(t, 3)
        got = L._SPARE.get()[0]
        assert _at(got) == blk and got.size == 32 and (got == 3).all()
        assert t.p[2] is None and t.q[2] is None
        w = L._w_buffer(32)
        assert _at(w) == blk and w.size == 32
        assert _at(L._w_buffer(33)) != blk   # too small: `_work`
        # a smaller block later does not replace it; a larger one does
        small, pq2 = _block(4)
        t2 = _tree([None, pq2])
        del pq2
        L._spare_of(t2, 2)
        assert _at(L._SPARE.get()[0]) == blk
        big, pq3 = _block(16)
        t3 = _tree([None, None, None, pq3])
        del pq3
        L._spare_of(t3, 4)
        assert _at(L._SPARE.get()[0]) == big
    finally:
        L._SPARE.reset(token)


def test_spare_of_leaves_a_viewed_block():
    token = L._SPARE.set([None])
    try:
        blk, pq = _block(8)
        view = pq[1][2:5]   # a view still alive elsewhere: never reused
        t = _tree([None, pq])
        del pq
        L._spare_of(t, 2)
        assert L._SPARE.get()[0] is None
        assert t.p[1] is None   # dropped all the same
        # separate arrays (not one block), a layer at or below ``layer``: not taken
        t2 = _tree([None, (np.zeros((8, 2), np.uint64), np.zeros((8, 2), np.uint64))])
        L._spare_of(t2, 2)
        assert L._SPARE.get()[0] is None
        _, pq3 = _block(8)
        t3 = _tree([None, pq3])
        del pq3
        L._spare_of(t3, 1)   # layer 1 is not below 1: kept
        assert L._SPARE.get()[0] is None and t3.q[1] is not None
        del view
    finally:
        L._SPARE.reset(token)
    # outside `_layers` (no holder): nothing taken, W from `_work`
    _, pq = _block(8)
    t = _tree([None, pq])
    del pq
    L._spare_of(t, 2)
    assert t.q[1] is not None


def test_layer_full_is_one_block_same_values(monkeypatch):
    E = _E()
    rng = np.random.default_rng(5)
    depth = 5
    leaves = np.asarray(rng.integers(1, 2**40, size=(1 << depth, 2)), np.uint64)

    def rng_(lo, hi):
        return None, leaves[lo:hi]

    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    for layer in range(depth):
        p, q = L.layer_full(E, depth, True, rng_, layer)
        assert p.base is not None and p.base is q.base and p.base.size == p.size + q.size
        ref = L.build_tree(E, None, leaves)
        assert np.array_equal(p, ref.p[layer]) and np.array_equal(q, ref.q[layer]), layer


def _poison_spare(monkeypatch):
    """`_w_buffer` with the spare poisoned before it is handed out; the uses counted."""
    orig = L._w_buffer
    used = []

    def wb(count):
        a = orig(count)
        h = L._SPARE.get()
        if h is not None and h[0] is not None and np.shares_memory(a, h[0]):
            used.append(count)
        a[:] = np.uint64(0xFFFF_FFFF_FFFF_FFF0 - len(used))
        return a

    monkeypatch.setattr(L, "_w_buffer", wb)
    return used


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("stream_bytes,keep", [(64, 1), (256, 1), (1024, 0), (4096, 3),
                                               (256, 3), (256, 4), (512, 4)])
def test_spare_w_same_proof(monkeypatch, reps, stream_bytes, keep):
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    streamed = _small(monkeypatch, stream_bytes, keep)
    monkeypatch.setattr(L, "SPARE_W", False)
    with scratch.session():
        _, _, proof_off, _ = S.prove_tables(arg, FIELD, lk)
    monkeypatch.setattr(L, "SPARE_W", True)
    used = _poison_spare(monkeypatch)
    with scratch.session():
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    assert any(s > 0 for s in streamed), "no layer was streamed"
    assert proof_off == proof
    assert proof2 == proof
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)
    if reps == 1 and keep >= 3 and stream_bytes <= 512:
        # the held layer above a streamed one became its W (84m: layer 23)
        assert used, "the spare was never used"
