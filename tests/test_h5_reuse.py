"""The scratch store's reusable work arrays (`Store.buffer`: the streamed WHIR encoding's
tile rows and codewords, `_commit_streamed`'s row blocks, kept over a phase) across
calls: several streamed commitments and openings of different sizes in one scratch
session — each finding the previous call's bytes (scribbled over) in those arrays —
give the same commitments and proofs as the in-RAM prover, and no state aliases one."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_h5_reuse"


def _open(s, st, evs) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


def _scribble(store) -> None:
    for a in store._bufs.values():
        a[...] = 0x5A5A5A5A5A5A5A5A if a.dtype == np.uint64 else 1


@pytest.mark.parametrize("budget", [0, 1 << 16, 1 << 30])   # tiles on file / some / all held
def test_reused_buffers_same_commitments_and_proofs(budget, monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several tiles and row blocks
    monkeypatch.setattr(W, "_DIO_ALIGN", 512)
    monkeypatch.setattr(scratch, "working_budget", lambda c, *a, **k: min(c, budget))
    s = W.Whir(F, {"direct_vars": 0})
    rng = np.random.default_rng(budget % 97)
    cases = []
    for n in (15, 13, 16, 14):   # growing and shrinking: buffers grown and reused
        t = F.random(rng, 1 << n)
        t.flags.writeable = False
        evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
               for r in (E.random(rng, n) for _ in range(2))]
        com, st = s.commit(t)
        cases.append((n, t, evs, com, _open(s, st, evs)))   # the in-RAM prover
    with scratch.session(threshold=0) as store:
        for _n, t, evs, com, want in cases:
            com2, st2 = s.commit(t)
            assert isinstance(st2.tree.leaves, W._BlockLeaves)
            assert com2 == com
            _scribble(store)   # the state must not alias a work array
            assert _open(s, st2, evs) == want
            _scribble(store)   # nor the next call depend on what was left there
    for n, _t, evs, com, want in cases:
        ch = VerifierChannel(Transcript(PROTO), want)
        s.verify(ch, [CheckItem(com, n, evs)])
        ch.finish()
