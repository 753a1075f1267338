"""A same-size batch's opening with bounded memory (issue 14, the 30-layer SmolLM
step's openings): above `OPEN_BYTES` the reduction sumcheck's first rounds and the
combination's first folding round stream over blocks of the tables
(`Whir._reduce_streamed`, `_Stream` with ``mu``) — the same proof bytes as the in-RAM
prover, which verify."""

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
PROTO = b"test_whir_open_mem"


def _tables(sizes, seed=0, claims=2):
    rng = np.random.default_rng(seed)
    tables = [F.random(rng, 1 << n) for n in sizes]
    cl = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, t.shape[0].bit_length() - 1) for _ in range(claims))]
          for t in tables]
    return tables, cl


def _prove(s, tables, claims):
    items, opens = [], []
    for t, evs in zip(tables, claims):
        n = t.shape[0].bit_length() - 1
        arg = t.copy()
        arg.flags.writeable = False
        com, st = s.commit(arg)
        items.append(CheckItem(com, n, evs))
        opens.append(OpenItem(st, evs))
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, opens)
    return items, ch.proof_bytes()


def _verify(s, items, proof):
    ch = VerifierChannel(Transcript(PROTO), proof)
    s.verify(ch, items)
    ch.finish()


@pytest.mark.parametrize("params,sizes,claims,session", [
    ({}, [13, 13], 2, False),                                  # one size, in RAM
    ({}, [13, 13, 13], 2, True),                               # streamed commitments
    ({"regime": "conjectured"}, [14, 9, 14, 12, 14], 3, True),  # merged continuation
    ({"folding_factor": 2}, [12, 12], 12, True),               # W folded directly
    ({"folding_factor": 2}, [12, 12], 40, True),               # W kept in a file
])
@pytest.mark.parametrize("budget", [0, 1 << 16])
def test_streamed_batch_same_bytes(params, sizes, claims, session, budget, monkeypatch):
    s = W.Whir(F, params)
    tables, cl = _tables(sizes, claims=claims)
    items, want = _prove(s, tables, cl)
    _verify(s, items, want)
    monkeypatch.setattr(W, "OPEN_BYTES", budget)
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)   # several blocks per pass
    called = []
    orig = W.Whir._reduce_streamed

    def spy(self, *a, **k):
        called.append(a[1])
        return orig(self, *a, **k)

    monkeypatch.setattr(W.Whir, "_reduce_streamed", spy)
    if session:
        with scratch.session(threshold=0):
            items2, got = _prove(s, tables, cl)
    else:
        items2, got = _prove(s, tables, cl)
    assert called
    assert got == want
    _verify(s, items2, got)


def test_graph_proof_streamed_openings_identical(reg, tmp_path, monkeypatch):
    """A graph proof whose committed tensors fill several stacks of one size (the cap
    lowered to 2^14, as 2^28 is for the 30-layer step): with every budget at 0 (the
    stack reduction's rounds all streamed, the WHIR batch's reduction and first fold
    streamed) the proof is the in-RAM one's bytes and verifies."""
    import torch

    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import stack
    from zklora.zkcore.graph import Graph

    from .conftest import backend_for

    monkeypatch.setattr(W.Whir, "max_vars", 14)
    # (tables this small would be sent as they are: WHIR-open them all)
    monkeypatch.setattr(W.Whir, "_send_directly", lambda self, ts: [False] * len(ts))
    be = backend_for(reg, "goldilocks", "whir", "logup-gkr")
    g = Graph()
    g.tensor("X", (4, 64, 64), "committed")
    g.tensor("W", (64, 64), "committed")
    g.tensor("Y", (4, 64, 64), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(0)
    wit = {"X": torch.randint(-99, 100, (4, 64, 64), generator=gen),
           "W": torch.randint(-99, 100, (64, 64), generator=gen)}
    monkeypatch.setenv("ZKLORA_SCRATCH_DIR", str(tmp_path))
    ram, sec = graphlib.prove(g, wit, be, {"t": 1})
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)
    monkeypatch.setattr(W, "OPEN_BYTES", 0)
    monkeypatch.setattr(stack, "RAM_BYTES", 0)
    monkeypatch.setattr(stack, "STREAM_VARS", 10)
    monkeypatch.setattr(stack, "CHUNK_VARS", 8)
    called = []
    orig = W.Whir._reduce_streamed

    def spy(self, ch, n, group, *a, **k):
        called.append((n, len(group)))
        return orig(self, ch, n, group, *a, **k)

    monkeypatch.setattr(W.Whir, "_reduce_streamed", spy)
    disk, _ = graphlib.prove(g, wit, be, {"t": 1})
    assert called and all(T >= 2 for _, T in called)
    assert disk == ram
    graphlib.verify(g, disk, be, {"t": 1}, sec)


def test_open_bytes_env(monkeypatch):
    """``ZKLORA_OPEN_BYTES`` overrides both budgets (prover only: the same bytes); a
    malformed value is a configuration error."""
    from zklora.zkcore.errors import ConfigError

    s = W.Whir(F, {})
    tables, cl = _tables([12, 12], claims=2)
    items, want = _prove(s, tables, cl)
    called = []
    orig = W.Whir._reduce_streamed

    def spy(self, *a, **k):
        called.append(1)
        return orig(self, *a, **k)

    monkeypatch.setattr(W.Whir, "_reduce_streamed", spy)
    monkeypatch.setenv("ZKLORA_OPEN_BYTES", "0")
    assert scratch.open_bytes(123) == 0
    _, got = _prove(s, tables, cl)
    assert called and got == want
    monkeypatch.setenv("ZKLORA_OPEN_BYTES", "")
    assert scratch.open_bytes(123) == 123
    for bad in ("lots", "-1"):
        monkeypatch.setenv("ZKLORA_OPEN_BYTES", bad)
        with pytest.raises(ConfigError):
            scratch.open_bytes(1)
