"""The table tree's layer above its leaves summed from the tables in row chunks
(`logup_gkr._Trees._table_above`, `TABLE_ABOVE`): the same entries as `KL.frac_up` of the
whole leaves (`_Trees._table_leaves`) at every chunk size (one row, odd, larger than the
table) and with one or two challenge sets; `_table_rows` gives the leaves' rows; the
whole leaves are built once a prove (only when the GKR reaches them), not three times;
and the proof bytes are those of `TABLE_ABOVE` False."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _arg(reps):
    return type("A", (LogUpGKR,), {"test_repetitions": reps})()


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 16])
def test_table_above_matches_frac_up_of_leaves(monkeypatch, reps, chunk):
    lk = _lookups(reps)
    monkeypatch.setattr(L, "TABLE_ABOVE", False)
    proof = S.prove_tables(_arg(reps), FIELD, lk)[2]
    monkeypatch.setattr(L, "TABLE_ABOVE", True)
    monkeypatch.setattr(L, "TABLE_CHUNK", chunk)
    seen = []
    orig = L._Trees._table_above

    def spy(self):
        p, q = orig(self)
        E = self.ctx.E
        rp, rq = KL.frac_up(E, *self._table_leaves())
        assert np.array_equal(p, rp) and np.array_equal(q, rq)
        # and the rows themselves: every row range equals the leaves' slice
        lp, lq = self._table_leaves()
        k = 1 << self.top
        rows = self.tabs.size
        for lo, hi in [(0, rows), (1, rows - 1), (rows // 2 - 1, rows // 2 + 2)]:
            if not 0 <= lo < hi <= rows:
                continue
            tp, tq = L._empty(E, (hi - lo) * k), L._empty(E, (hi - lo) * k)
            self._table_rows(lo, hi, tp, tq, {})
            assert np.array_equal(tp, lp[lo * k:hi * k])
            assert np.array_equal(tq, lq[lo * k:hi * k])
        seen.append(any(b.item is None for b in self.tabs.blocks))
        return p, q

    monkeypatch.setattr(L._Trees, "_table_above", spy)
    assert S.prove_tables(_arg(reps), FIELD, lk)[2] == proof
    assert seen and any(seen)   # padding blocks covered


@pytest.mark.parametrize("above", [False, True])
def test_table_leaves_built_once(monkeypatch, above):
    """With `TABLE_ABOVE` the whole leaves are computed once (the GKR's leaf layer),
    not at the build and again for the layer above them as well."""
    lk = _lookups(1)
    monkeypatch.setattr(L, "TABLE_ABOVE", above)
    calls = []
    orig = L._Trees._table_leaves

    def count(self):
        calls.append(1)
        return orig(self)

    monkeypatch.setattr(L._Trees, "_table_leaves", count)
    S.prove_tables(_arg(1), FIELD, lk)
    assert len(calls) == (1 if above else 3)


def test_streamed_prove_same_bytes(monkeypatch):
    """Every threshold low (streamed trees, spilled stacks): same bytes either way."""
    lk = _lookups(2)
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    monkeypatch.setattr(L, "STREAM_BYTES", 64)
    monkeypatch.setattr(L, "KEEP_LAYERS", 1)
    monkeypatch.setattr(L, "STREAM_CHUNK", 2)
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    monkeypatch.setattr(L, "TABLE_ABOVE", False)
    proof = S.prove_tables(_arg(2), FIELD, lk)[2]
    monkeypatch.setattr(L, "TABLE_ABOVE", True)
    monkeypatch.setattr(L, "TABLE_CHUNK", 5)
    assert S.prove_tables(_arg(2), FIELD, lk)[2] == proof
