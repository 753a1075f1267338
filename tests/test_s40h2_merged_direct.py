"""WHIR's merged continuation spills ĥ, its coefficients and ŵ with direct I/O (s40h2):
inside a scratch session the three files of `Whir._prove_merged` are written by
`scratch.Store.save` with ``direct`` (`whir.DIRECT_IO`) and read back as `scratch.Direct`
handles (positioned direct reads, no page-cache pages); the opening proof is byte for
byte that of the in-RAM prover and of buffered spills (``DIRECT_IO`` off), it verifies,
and the files are gone once read."""

from __future__ import annotations

import os

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_s40h2_merged_direct"
SIZES = [16, 13, 12]     # several sizes: the merged continuation, ĥ spilled and streamed


def _prove(s, tables, claims):
    items, opens = [], []
    for t, evs in zip(tables, claims):
        arg = t.copy()
        arg.flags.writeable = False
        com, st = s.commit(arg)
        items.append(CheckItem(com, t.shape[0].bit_length() - 1, evs))
        opens.append(OpenItem(st, evs))
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, opens)
    return items, ch.proof_bytes()


def _tables():
    rng = np.random.default_rng(5)
    tables = [F.random(rng, 1 << n) for n in SIZES]
    cl = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, t.shape[0].bit_length() - 1) for _ in range(2))]
          for t in tables]
    return tables, cl


def _takes_direct() -> bool:
    """Whether the scratch directory's file system takes ``O_DIRECT`` (not tmpfs)."""
    with scratch.session() as store:
        try:
            fd = os.open(os.path.join(store.path, "probe"),
                         os.O_WRONLY | os.O_CREAT | getattr(os, "O_DIRECT", 0), 0o600)
        except OSError:
            return False
        os.close(fd)
        return hasattr(os, "O_DIRECT")


def _spied(monkeypatch, direct_io):
    """Prove in a scratch session with ``DIRECT_IO`` = ``direct_io``: (proof, items,
    the saves (tag, direct, handle types), files left in the store after the open)."""
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)
    monkeypatch.setattr(W, "DIRECT_IO", direct_io)
    saves = []
    orig = scratch.Store.save

    def save(self, arrays, tag="a", direct=False):
        out = orig(self, arrays, tag, direct)
        saves.append((tag, direct, tuple(type(h) for h in out)))
        return out

    monkeypatch.setattr(scratch.Store, "save", save)
    s = W.Whir(F, {"regime": "conjectured"})
    assert s._merged(SIZES)
    tables, cl = _tables()
    with scratch.session(threshold=0) as store:
        items, proof = _prove(s, tables, cl)
        left = [f for f in os.listdir(store.path) if f.startswith(("whir-h", "whir-wh"))]
    monkeypatch.setattr(scratch.Store, "save", orig)
    return proof, items, saves, left


@pytest.mark.parametrize("direct_io", [True, False])
def test_merged_spills_direct_same_bytes(direct_io, monkeypatch):
    tables, cl = _tables()
    items0, want = _prove(W.Whir(F, {"regime": "conjectured"}), tables, cl)   # in RAM
    proof, items, saves, left = _spied(monkeypatch, direct_io)
    assert proof == want and [i.commitment for i in items] == [i.commitment for i in items0]
    merged = [(t, d, k) for t, d, k in saves if t in ("whir-h", "whir-hc", "whir-wh")]
    assert sorted(t for t, _, _ in merged) == ["whir-h", "whir-hc", "whir-wh"]
    assert all(d is direct_io for _, d, _ in merged)
    want_type = scratch.Direct if direct_io and _takes_direct() else scratch.Spilled
    assert all(k == (want_type,) for _, _, k in merged)
    assert not left   # made, read, discarded
    ch = VerifierChannel(Transcript(PROTO), proof)
    W.Whir(F, {"regime": "conjectured"}).verify(ch, items)
    ch.finish()
