"""The table tree's leaves are written once (`logup_gkr._Trees._table_leaves`: q an
uninitialised array, the tables' blocks and the padding blocks (1) each written, instead
of E.ones = a zeroed array and a filled one written over; p zeros): the same leaves as
the zeros / ones reference twin below, with padding blocks and one or two challenge
sets, and the same proof bytes as the in-RAM prover with every stack spilled and every
threshold low."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore import mle
from zklora.zkcore.lookup import table_field_columns
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _reference(self):
    """The leaves as before: p zeros, q ones, the tables' blocks written over."""
    E, F = self.ctx.E, self.ctx.F
    k = 1 << self.top
    p = E.zeros(self.tabs.size * k)
    q = E.ones(self.tabs.size * k)
    pv = p.reshape((self.tabs.size, k) + E.elem_shape)
    qv = q.reshape((self.tabs.size, k) + E.elem_shape)
    for b in self.tabs.blocks:
        if b.item is None:
            continue
        c = self.cs[b.item]
        w = c.table.width
        sl = slice(b.offset, b.offset + (1 << b.num_vars))
        tcols = table_field_columns(F, c.table)
        m_E = mle.lift(E, self.ctx.table(c.m), base=True)
        for rep in range(k):
            apow, beta = self.coefs[rep][:w], self.betas[rep][b.item]
            if k == 1:
                KL.leaf_denoms(E, tcols, apow, beta, out=q[sl])
            else:
                qv[sl, rep] = KL.leaf_denoms(E, tcols, apow, beta)
            pv[sl, rep] = m_E
    return p, q


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("spill", [False, True])
def test_table_leaves_match_reference(monkeypatch, reps, spill):
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)   # in RAM, defaults
    seen = []
    orig = L._Trees._table_leaves

    def spy(self):
        p, q = orig(self)
        rp, rq = _reference(self)
        assert np.array_equal(p, rp) and np.array_equal(q, rq)
        seen.append(any(b.item is None for b in self.tabs.blocks))
        return p, q

    monkeypatch.setattr(L._Trees, "_table_leaves", spy)
    if spill:
        monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")             # every stack a map
        monkeypatch.setattr(L, "STREAM_BYTES", 64)
        monkeypatch.setattr(L, "KEEP_LAYERS", 1)
        monkeypatch.setattr(L, "STREAM_CHUNK", 2)
        monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    assert proof2 == proof
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)
    assert seen and any(seen), "no table tree with padding blocks"
