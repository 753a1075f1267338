"""The whir prover's bounded-memory path (issue 14): inside a scratch session a large
table is committed streamed (coefficients, codeword and Merkle levels in scratch files,
the table kept by reference) and its first folding round read a block at a time; the
commitments and the opening proofs are byte for byte those of the in-RAM prover, they
verify, a tampered one is rejected, and the files are gone after the session."""

from __future__ import annotations

import os

import numpy as np
import pytest

from zklora.kernels import ntt
from zklora.kernels import whir as K
from zklora.kernels import whir_eq as QE
from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_whir_memory"


def _prove(s, tables, claims, read_only):
    items, opens = [], []
    for t, evs in zip(tables, claims):
        n = t.shape[0].bit_length() - 1
        arg = t.copy()
        if read_only:
            arg.flags.writeable = False
        com, st = s.commit(arg)
        items.append(CheckItem(com, n, evs))
        opens.append(OpenItem(st, evs))
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, opens)
    return items, ch.proof_bytes(), [o.state for o in opens]


def _verify(s, items, proof):
    ch = VerifierChannel(Transcript(PROTO), proof)
    s.verify(ch, items)
    ch.finish()


def _tables(sizes, seed=0, claims=2):
    rng = np.random.default_rng(seed)
    tables = [F.random(rng, 1 << n) for n in sizes]
    cl = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, t.shape[0].bit_length() - 1) for _ in range(claims))]
          for t in tables]
    return tables, cl


@pytest.mark.parametrize("params,sizes", [
    ({}, [13]),                                         # one size: the state's own chain
    ({"regime": "conjectured"}, [13, 9, 13, 12]),       # several sizes, same-size batch
    ({"regime": "conjectured", "folding_factor": 2}, [14, 10]),
    ({"rate_log": 2, "first_shrink": 1}, [12]),
    ({"regime": "conjectured"}, [16, 13, 12]),          # merged: ĥ spilled and streamed
])
def test_streamed_prover_gives_the_same_bytes(params, sizes, monkeypatch):
    # small blocks, so every streamed pass runs over several of them
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)
    s = W.Whir(F, params)
    tables, cl = _tables(sizes)
    items, want, states = _prove(s, tables, cl, read_only=True)
    assert all(st.coeffs is not None for st in states)
    _verify(s, items, want)
    tags = []
    orig = scratch.Store.save

    def save(self, arrays, tag="a", **kw):
        tags.append(tag)
        return orig(self, arrays, tag, **kw)

    monkeypatch.setattr(scratch.Store, "save", save)
    with scratch.session(threshold=0) as store:
        items2, got, states = _prove(s, tables, cl, read_only=True)
        big = [st for st in states if st.n >= W.STREAM_MIN_VARS]
        assert big and all(st.coeffs is None for st in big)
        # the read-only table is kept by reference, not copied
        assert all(not st.table.flags.owndata for st in big)
        path = store.path
        assert os.listdir(path)
        if sizes == [16, 13, 12]:
            assert {"whir-h", "whir-hc", "whir-wh"} <= set(tags)
            assert s._merged(sizes) and not any(  # ĥ's files: made, used, discarded
                f.startswith(("whir-h-", "whir-wh-")) for f in os.listdir(path))
    assert not os.path.exists(path)
    assert [i.commitment for i in items2] == [i.commitment for i in items]
    assert got == want
    _verify(s, items2, got)


def test_streamed_proof_tamper_rejected(monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)
    s = W.Whir(F, {"regime": "conjectured"})
    tables, cl = _tables([13])
    with scratch.session(threshold=0):
        items, proof, _ = _prove(s, tables, cl, read_only=True)
    _verify(s, items, proof)
    for pos in (len(proof) // 3, len(proof) // 2, len(proof) - 20):
        bad = bytearray(proof)
        bad[pos] ^= 0x10
        with pytest.raises((VerificationError, ProofFormatError)):
            _verify(s, items, bytes(bad))
    # a changed table entry gives another commitment, and its claims do not verify
    t2 = tables[0].copy()
    t2[5] = (t2[5] + np.uint64(1)) % np.uint64(P_INT)
    with scratch.session(threshold=0):
        items2, proof2, _ = _prove(s, [t2], cl, read_only=False)
    assert items2[0].commitment != items[0].commitment
    with pytest.raises((VerificationError, ProofFormatError)):
        _verify(s, items2, proof2)


def test_streamed_commit_refuses_non_canonical_values():
    s = W.Whir(F, {})
    t = np.zeros(1 << 13, dtype=np.uint64)
    t[4000] = np.uint64(P_INT)
    with scratch.session(threshold=0), pytest.raises(ProverError, match=">= p"):
        s.commit(t)


def test_streamed_kernels_match_encode_leaves():
    """Mobius in two passes, the column encoding and `twist_dft_block` in blocks give
    `mobius` and `encode_leaves`; `eq_rows` gives the rows of `eq_combination`."""
    rng = np.random.default_rng(3)
    m, d, k = 12, 14, 3
    t = F.random(rng, 1 << m)
    lt = K.split_log(m, d, k)
    T = 1 << lt
    x = t.copy()
    K.mobius_low(x, lt)
    C = x.reshape(-1, T).copy()
    for t0 in range(0, T, 8):
        y = np.ascontiguousarray(C[:, t0:t0 + 8])
        K.mobius_high(y.reshape(-1), 3)
        C[:, t0:t0 + 8] = y
    assert np.array_equal(C.reshape(-1), K.mobius(t))
    enc = ntt.rs_encode(np.ascontiguousarray(C.T), d - m)
    out = np.zeros(((1 << d) >> k, 1 << k), dtype=np.uint64)
    wa = ntt.powers(ntt.root_of_unity(d), enc.shape[0])
    for a0 in range(0, enc.shape[0], 5):
        K.twist_dft_block(enc[a0:a0 + 5], a0, d, k, lt, wa, out)
    assert np.array_equal(out, K.encode_leaves(C.reshape(-1), d, k))
    # ``local``: a block's G runs of leaves in a buffer of its own
    S, G = enc.shape[0], T >> k
    loc = np.zeros_like(out)
    for a0 in range(0, S, 4):
        rows = min(4, S - a0)
        buf = np.zeros((G * rows, 1 << k), dtype=np.uint64)
        K.twist_dft_block(enc[a0:a0 + rows], a0, d, k, lt, wa, buf, local=True)
        for g in range(G):
            loc[a0 + g * S:a0 + g * S + rows] = buf[g * rows:(g + 1) * rows]
    assert np.array_equal(loc, out)
    pts = E.random(rng, 3 * m).reshape(3, m, 2)
    cf = E.random(rng, 3).reshape(3, 2)
    full = np.empty((1 << m, 2), dtype=np.uint64)
    QE.eq_combination(full, pts, cf, overwrite=True)
    A, B, a = QE.eq_split(pts, cf)
    step = 1 << (a + 1)
    rows = np.concatenate([QE.eq_rows(A, B, a, lo, lo + step)
                           for lo in range(0, 1 << m, step)])
    assert np.array_equal(rows, full)
    with pytest.raises(ValueError):
        QE.eq_rows(A, B, a, 1, 1 + step)


def test_graph_proof_with_whir_spilled_identical(reg, tmp_path, monkeypatch):
    """A graph proof under the whir commitment: everything spilled (the stack streamed
    in small blocks) gives the in-RAM proof's bytes, it verifies, and the scratch
    directory is gone afterwards."""
    import torch

    from zklora.zkcore import graph as graphlib
    from zklora.zkcore.graph import Graph

    from .conftest import backend_for

    be = backend_for(reg, "goldilocks", "whir", "logup-gkr")
    g = Graph()
    g.tensor("X", (4, 64, 64), "committed")
    g.tensor("W", (64, 32), "committed")
    g.tensor("Y", (4, 64, 32), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(0)
    wit = {"X": torch.randint(-99, 100, (4, 64, 64), generator=gen),
           "W": torch.randint(-99, 100, (64, 32), generator=gen)}
    monkeypatch.setenv("ZKLORA_SCRATCH_DIR", str(tmp_path))
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", str(1 << 40))
    ram, sec = graphlib.prove(g, wit, be, {"t": 1})
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)
    streamed = []
    orig = W.Whir._commit_streamed

    def spy(self, t, store):
        st = orig(self, t, store)
        streamed.append(st.n)
        return st

    monkeypatch.setattr(W.Whir, "_commit_streamed", spy)
    disk, _ = graphlib.prove(g, wit, be, {"t": 1})
    assert streamed and disk == ram
    assert not [p for p in os.listdir(tmp_path) if p.startswith("zklora-scratch-")]
    graphlib.verify(g, disk, be, {"t": 1}, sec)
