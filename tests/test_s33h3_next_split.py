"""s33h3: a later WHIR round's in-RAM codeword at a low rate is encoded with a split of
2^`NEXT_SPLIT_LOG` columns (`whir._next_split`) instead of half the domain: the same
leaves (`K.encode_leaves` does not depend on the split), the same proof."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as K
from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
P = int(F.p)
PROTO = b"test_s33h3_next_split"
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _coeffs(m: int, seed: int) -> np.ndarray:
    c = np.random.default_rng(seed).integers(0, P, size=(1 << m, 2), dtype=np.uint64)
    c.reshape(-1)[:4] = EDGE
    c.reshape(-1)[-4:] = EDGE[::-1]
    return c


@pytest.mark.parametrize("m,d,k", [(11, 22, 4), (12, 22, 4), (10, 22, 4), (11, 20, 3),
                                   (5, 16, 4), (4, 14, 4), (9, 13, 4), (8, 16, 2)])
def test_low_rate_split_same_leaves(m, d, k):
    lt = W._next_split(m, d, k)
    assert d - m >= W.NEXT_SPLIT_RATE
    assert lt == max(k, min(m, W.NEXT_SPLIT_LOG))
    c = _coeffs(m, m * 100 + d)
    want = K.encode_leaves(c, d, k)
    assert np.array_equal(K.encode_leaves(c, d, k, lt), want)
    if d <= 9:
        assert np.array_equal(want, K.encode_leaves_ref(c, d, k))


def test_small_split_against_reference():
    m, d, k = 3, 8, 2
    c = _coeffs(m, 7)
    assert np.array_equal(K.encode_leaves(c, d, k, W._next_split(m, d, k)),
                          K.encode_leaves_ref(c, d, k))


@pytest.mark.parametrize("m,d,k", [(16, 18, 4), (14, 17, 4), (20, 21, 4)])
def test_high_rate_keeps_default_split(m, d, k):
    assert W._next_split(m, d, k) == K.split_log(m, d, k)


def _prove(s, t, evs) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    com, st = s.commit(t)
    s.open(ch, [OpenItem(st, evs)])
    return com, ch.proof_bytes()


def test_commit_next_takes_the_split_same_proof(monkeypatch):
    """A proof whose later rounds encode at low rates: `_commit_next` passes
    `_next_split` (seen by a spy), and the proof is the one of the default split."""
    n = 18   # rounds (m, d) = (18, 19), (14, 17), (10, 16): the last one at rate 2^-6
    s = W.Whir(F, {"direct_vars": 0})
    rng = np.random.default_rng(33)
    t = F.random(rng, 1 << n)
    t[:4] = EDGE
    t.flags.writeable = False
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(2))]
    calls = []
    enc = K.encode_leaves

    def spy(c, d, k, log_split=None):
        calls.append((c.shape[0].bit_length() - 1, d, k, log_split))
        return enc(c, d, k, log_split)

    monkeypatch.setattr(K, "encode_leaves", spy)
    com, got = _prove(s, t, evs)
    low = [(m, d, k, lt) for m, d, k, lt in calls
           if lt is not None and d - m >= W.NEXT_SPLIT_RATE]
    assert low and all(lt == max(k, min(m, W.NEXT_SPLIT_LOG)) for m, d, k, lt in low)
    monkeypatch.setattr(W, "NEXT_SPLIT_RATE", 1 << 20)   # the former split everywhere
    calls.clear()
    com2, want = _prove(s, t, evs)
    assert all(lt is None or lt == K.split_log(m, d, k) for m, d, k, lt in calls)
    assert com2 == com
    assert got == want
    ch = VerifierChannel(Transcript(PROTO), got)
    s.verify(ch, [CheckItem(com, n, evs)])
    ch.finish()
