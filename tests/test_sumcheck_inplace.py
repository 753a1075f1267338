"""The generic sumcheck prover's first rounds read in place (`sumcheck._block_pass`): a
list of tables larger than `_SMALL_TABLE` is summed a block at a time (each block folded
at the challenges so far) for the first s rounds (`STREAM_BYTES`, `STREAM_ROUNDS`), then
folded into the first buffer (N/2^s rows), never stacked at full size.  Same proof bytes
as the stacked first round and as the unfused prover, with and without a mask, over
several blocks, one to four streamed rounds, with base and extension tables."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

E = GOLDILOCKS.ext

TERMS = [((1, 0), (0, 1, 2)), ((4, 4), (0, 3)), ((1, 2), (2,)), ((3, 0), (1, 1, 3, 4))]


class _State:
    """A stand-in mask state: fixed pseudo-random round values, nothing bound."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.vals = {}

    def round(self, j, degree):
        if j not in self.vals:
            self.vals[j] = E.random(self.rng, degree + 1)
        return self.vals[j]

    def bind(self, j, r):
        pass


def _mask():
    return sumcheck.Mask(rho=np.array([5, 7], np.uint64), finish=lambda p: E.scalar(0),
                         state=_State(11))


def _instance(nv, base):
    rng = np.random.default_rng(nv * 7 + len(base))
    tables = [GOLDILOCKS.random(rng, 1 << nv) if i in base else E.random(rng, 1 << nv)
              for i in range(5)]
    terms = [(np.array(c, np.uint64), fs) for c, fs in TERMS]
    # the true claim: Σ_x Σ_t c_t Π f(x), by the field's own round (g(0) + g(1))
    st = np.stack([E.embed(t) if t.ndim == 1 else t for t in tables])
    starts, factors, coeffs, degree = sumcheck._norm_terms(E, terms)
    g = E.sc_round(st, starts, factors, coeffs, degree)
    return tables, terms, E.add(g[0], g[1])


def _prove(tables, terms, claim, *, fused=True, mask=False):
    old = sumcheck.FUSED
    sumcheck.FUSED = fused
    try:
        ch = ProverChannel(Transcript("inplace"))
        point, finals = sumcheck.prove(ch, E, tables, terms, claim, public=(0,),
                                       mask=_mask() if mask else None)
    finally:
        sumcheck.FUSED = old
    return ch.proof_bytes(), point, finals


@pytest.mark.parametrize("nv", [11, 12, 14])
@pytest.mark.parametrize("base", [(), (0, 2, 3), (0, 1, 2, 3, 4)])
@pytest.mark.parametrize("block", [None, 16 * 5 * 64])
@pytest.mark.parametrize("mask", [False, True])
@pytest.mark.parametrize("streamed", [1, 2, 4])
def test_first_rounds_in_place_same_bytes(monkeypatch, nv, base, block, mask, streamed):
    monkeypatch.setattr(sumcheck, "STACK_BYTES", 0)   # read in place at any size
    if block is not None:   # several blocks of 64 pairs' rows
        monkeypatch.setattr(sumcheck, "FIRST_BLOCK_BYTES", block)
    # s streamed rounds: the first buffer fits once k·N·16/2^s ≤ STREAM_BYTES
    monkeypatch.setattr(sumcheck, "STREAM_BYTES", 5 * (16 << nv) >> streamed)
    assert sumcheck._streamed_rounds(5, nv) == streamed
    tables, terms, claim = _instance(nv, base)
    keep = [t.copy() for t in tables]
    calls = []
    first = sumcheck._block_pass
    monkeypatch.setattr(sumcheck, "_block_pass",
                        lambda *a, **kw: calls.append(1) or first(*a, **kw))
    got, p1, f1 = _prove(tables, terms, claim, mask=mask)
    assert len(calls) == streamed + 1
    stack = np.ascontiguousarray(np.stack([E.embed(t) if t.ndim == 1 else t for t in tables]))
    want, p2, f2 = _prove(stack, terms, claim, mask=mask)       # stacked first round
    old, p3, f3 = _prove(tables, terms, claim, fused=False, mask=mask)   # unfused rounds
    assert got == want == old
    assert np.array_equal(p1, p2) and np.array_equal(p1, p3)
    assert all(np.array_equal(a, b) for a, b in zip(f1, f2))
    assert all(np.array_equal(a, b) for a, b in zip(tables, keep))   # read only
    if not mask:
        ch = VerifierChannel(Transcript("inplace"), got)
        sumcheck.verify(ch, E, nv, 5, terms, claim, public={0: f1[0]})
        ch.finish()


def test_first_rounds_in_place_to_the_last_round(monkeypatch):
    """Every round streamed (s = n): the last fold is the materialised (k, 1, 2) stack."""
    monkeypatch.setattr(sumcheck, "STACK_BYTES", 0)
    monkeypatch.setattr(sumcheck, "STREAM_BYTES", 0)
    monkeypatch.setattr(sumcheck, "STREAM_ROUNDS", 64)
    monkeypatch.setattr(sumcheck, "_SMALL_TABLE", 4)
    for nv in (3, 4):
        tables, terms, claim = _instance(nv, (1,))
        assert sumcheck._streamed_rounds(5, nv) == nv
        for mask in (False, True):
            got, p1, f1 = _prove(tables, terms, claim, mask=mask)
            old, p2, f2 = _prove(tables, terms, claim, fused=False, mask=mask)
            assert got == old and all(np.array_equal(a, b) for a, b in zip(f1, f2))


def test_first_rounds_in_place_rejects_a_bad_witness(monkeypatch):
    from zklora.zkcore.errors import ProverError

    monkeypatch.setattr(sumcheck, "STACK_BYTES", 0)
    tables, terms, claim = _instance(12, (1,))
    with pytest.raises(ProverError):
        _prove(tables, terms, E.add(claim, E.scalar(1)))


@pytest.mark.parametrize("nv", [11, 13])
@pytest.mark.parametrize("base", [(), (0, 2, 3), (0, 1, 2, 3, 4)])
def test_small_list_stacked_same_bytes(monkeypatch, nv, base):
    """A list whose stack fits `STACK_BYTES` is stacked at once (no `_block_pass`): the
    same bytes, point and finals as read in place (STACK_BYTES = 0) and as unfused."""
    tables, terms, claim = _instance(nv, base)
    keep = [t.copy() for t in tables]
    calls = []
    first = sumcheck._block_pass
    monkeypatch.setattr(sumcheck, "_block_pass",
                        lambda *a, **kw: calls.append(1) or first(*a, **kw))
    assert 5 * (16 << nv) <= sumcheck.STACK_BYTES
    got, p1, f1 = _prove(tables, terms, claim)
    assert not calls
    monkeypatch.setattr(sumcheck, "STACK_BYTES", 0)
    want, p2, f2 = _prove(tables, terms, claim)
    assert calls
    old, p3, f3 = _prove(tables, terms, claim, fused=False)
    assert got == want == old
    assert np.array_equal(p1, p2) and np.array_equal(p1, p3)
    assert all(np.array_equal(a, b) for a, b in zip(f1, f2))
    assert all(np.array_equal(a, b) for a, b in zip(tables, keep))   # read only
