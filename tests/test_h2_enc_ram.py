"""The streamed WHIR encoding's column codewords held in RAM up to `ENC_RAM_BYTES`
(`Whir._encode_streamed`): none, some or all of the tiles in RAM, the rest through the
tiled scratch file, give the same commitment and the same proof as the in-RAM prover;
the leaves are hashed from the row blocks (`_MerkleBlocks`, runs of several groups) into
the same tree as `merkle.build`."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import merkle
from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_h2_enc_ram"


def _open(s, st, evs) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


@pytest.mark.parametrize("held", ["none", "one", "all"])
@pytest.mark.parametrize("params,n", [
    ({}, 15),                          # the next codeword (extension) spills too
    ({"folding_factor": 2, "rate_log": 2}, 13),
])
def test_enc_held_in_ram_same_proof(held, params, n, monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several tiles and row blocks
    s = W.Whir(F, {"direct_vars": 0, **params})
    rng = np.random.default_rng(n)
    t = F.random(rng, 1 << n)
    t.flags.writeable = False
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(2))]
    com, st = s.commit(t)
    want = _open(s, st, evs)                        # the in-RAM prover
    tiles = []
    enc = W.Whir._encode_streamed

    def spy(self, store, columns, m, d, k, lt, ncomp, cb, encoded=None):
        S = (1 << d) >> lt
        tiles.append(((1 << lt) // cb, 8 * S * ncomp * cb))
        return enc(self, store, columns, m, d, k, lt, ncomp, cb, encoded)

    monkeypatch.setattr(W.Whir, "_encode_streamed", spy)
    cap = {"none": 0, "all": 1 << 40}
    if held == "one":   # one tile of the first (largest) encoding
        monkeypatch.setattr(scratch, "working_budget", lambda c, *a, **k: c)
        pl = s.plan(n)
        r0 = pl.rounds[0]
        lt = W.K.split_log(n, r0.d, r0.k)
        T, R = 1 << lt, 1 << (n - lt)
        cb = W._tile_cols(T, R, (1 << r0.d) >> lt, 1, 1 << r0.k)
        assert T // cb > 1
        monkeypatch.setattr(W, "ENC_RAM_BYTES", 8 * ((1 << r0.d) >> lt) * cb)
    else:
        monkeypatch.setattr(scratch, "working_budget", lambda c, *a, **k: cap[held])
    with scratch.session(threshold=0):
        com2, st2 = s.commit(t)
        assert isinstance(st2.tree.leaves, scratch.Spilled)
        got = _open(s, st2, evs)
    assert tiles and tiles[0][0] > 1
    assert com2 == com
    assert got == want
    ch = VerifierChannel(Transcript(PROTO), got)
    s.verify(ch, [CheckItem(com, n, evs)])
    ch.finish()


@pytest.mark.parametrize("G,S,P,width", [(1, 64, 8, 16), (4, 32, 8, 32), (8, 16, 16, 64),
                                         (2, 8, 1, 16)])
def test_merkle_blocks_same_tree(G, S, P, width):
    rng = np.random.default_rng(G * S + P)
    L = G * S
    leaves = rng.integers(0, 1 << 62, size=(L, width // 8), dtype=np.uint64)
    s = W.Whir(F, {})
    digest = W.digest_bytes(s.cfg.security_bits)
    full = merkle.build(merkle.hash_leaves(leaves, s.cfg.hash, digest), s.cfg.hash)
    with scratch.session(threshold=0) as store:
        mk = W._MerkleBlocks(s, store, L, P, digest)
        for a0 in range(0, S, P):   # row block a0: the runs [a0 + g·S, a0 + g·S + P)
            out = np.concatenate([leaves[a0 + g * S:a0 + g * S + P] for g in range(G)])
            mk.add(out, a0, S)
        handles, root, skip = mk.finish()
        assert root == merkle.root(full)
        assert skip == min(W.MERKLE_SKIP, L.bit_length() - 1)
        for lvl, h in enumerate(handles, start=skip):
            with h.mapped() as mm:
                assert np.array_equal(np.asarray(mm), full[lvl])


@pytest.mark.parametrize("budget", ["0", str(48 << 13), ""])
@pytest.mark.parametrize("params,n", [({}, 15), ({"folding_factor": 2, "rate_log": 2}, 13),
                                      ({"folding_factor": 3}, 14)])
def test_fold_streamed_held_passes_same_proof(budget, params, n, monkeypatch):
    """`_fold_streamed` keeps a pass's folded blocks when they fit the openings' budget
    (``ZKLORA_OPEN_BYTES``: never, from the second pass on at 2^15, the default):
    the same proof as the in-RAM prover."""
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)   # several blocks per pass
    monkeypatch.setenv("ZKLORA_OPEN_BYTES", budget)
    s = W.Whir(F, {"direct_vars": 0, **params})
    rng = np.random.default_rng(n + 1)
    t = F.random(rng, 1 << n)
    t.flags.writeable = False
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(3))]
    com, st = s.commit(t)
    want = _open(s, st, evs)
    calls = []
    fs = W.Whir._fold_streamed

    def spy(self, ch, rd, stream):
        calls.append(rd.k)
        return fs(self, ch, rd, stream)

    monkeypatch.setattr(W.Whir, "_fold_streamed", spy)
    with scratch.session(threshold=0):
        com2, st2 = s.commit(t)
        got = _open(s, st2, evs)
    assert calls
    assert com2 == com
    assert got == want


def test_fold_streamed_held_passes_read_the_table_less(monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 14)
    monkeypatch.setattr(W, "SPLIT_MSG_TERMS", -1)   # the passes (s26h3: else one pass)
    s = W.Whir(F, {"direct_vars": 0})
    rng = np.random.default_rng(5)
    t = F.random(rng, 1 << 15)
    t.flags.writeable = False
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True)) for r in [E.random(rng, 15)]]
    reads = []
    rb, bv = W._read_base, W._base_view

    def spy(table, lo, hi):
        reads.append(hi - lo)
        return rb(table, lo, hi)

    def spy_view(table, lo, hi):   # a kernel-only block: the table's own pages
        f, src = bv(table, lo, hi)
        if src is not None:        # (else `_read_base` copied it and counted it)
            reads.append(hi - lo)
        return f, src

    monkeypatch.setattr(W, "_read_base", spy)
    monkeypatch.setattr(W, "_base_view", spy_view)
    out = {}
    for budget in ("0", str(48 << 13), str(1 << 30)):
        monkeypatch.setenv("ZKLORA_OPEN_BYTES", budget)
        reads.clear()
        with scratch.session(threshold=0):
            _, st = s.commit(t)
            out[budget] = (_open(s, st, evs), sum(reads))
    assert len({p for p, _ in out.values()}) == 1
    n0, n1, n2 = (r for _, r in out.values())
    assert n0 > n1 > n2 > 0
