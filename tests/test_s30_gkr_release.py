"""The LogUp-GKR prover releases a tree's layers as soon as its GKR is done
(`logup_gkr._release`, called from `_layers` once a tree's leaf claim is out) and gives
the layer's freed tables back after each layer (`scratch.trim`): prover-side memory
only, so the proof bytes equal those of a prover that keeps every finished tree, and
no finished tree holds a layer when the GKR ends."""

from __future__ import annotations

import pytest

from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _lookups(seed=0):
    # groups of different depths, so some trees finish while others go on
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _spy_trees(monkeypatch) -> list:
    """Capture every tree list `_Trees` builds."""
    seen: list = []
    orig = L._Trees.__call__

    def call(self):
        out = orig(self)
        if not any(out is s for s in seen):
            seen.append(out)
        return out

    monkeypatch.setattr(L._Trees, "__call__", call)
    return seen


def _held(trees) -> int:
    return sum(x is not None for t in trees for x in list(t.p) + list(t.q))


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("stream_bytes,keep", [(None, None), (1024, 0)])
def test_finished_trees_released_same_bytes(monkeypatch, reps, stream_bytes, keep):
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    if stream_bytes is not None:
        monkeypatch.setattr(L, "STREAM_BYTES", stream_bytes)
        monkeypatch.setattr(L, "KEEP_LAYERS", keep)
    seen = _spy_trees(monkeypatch)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    S.verify(g, proof, be, S.STATEMENT, sections)
    assert seen and all(_held(ts) == 0 for ts in seen)   # every tree finished, released
    # a prover that keeps finished trees (the old behaviour) sends the same bytes
    monkeypatch.setattr(L, "_release", lambda tree: None)
    seen.clear()
    _, _, proof_kept, _ = S.prove_tables(arg, FIELD, lk)
    assert proof_kept == proof
    assert any(_held(ts) > 0 for ts in seen)   # ... and would hold layers at the end
