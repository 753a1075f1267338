"""Scratch bytes of the whir prover (issue 14): a table committed streamed inside a
scratch session keeps its codeword's leaves (2× the table's 8 bytes an element, rate
1/2) and the Merkle levels from `MERKLE_SKIP` up — no coefficient file, no lowest
Merkle levels — and the opening deletes the codewords it commits once they are queried;
the proof is byte for byte the in-RAM prover's (no session) and verifies."""

from __future__ import annotations

import os

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_whir_scratch"


def _files(path: str) -> dict[str, int]:
    """Bytes of the store's files by kind."""
    out: dict[str, int] = {}
    for f in os.listdir(path):
        kind = f.rsplit("-", 1)[0]
        out[kind] = out.get(kind, 0) + os.path.getsize(os.path.join(path, f))
    return out


def _table(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = F.random(rng, 1 << n)
    t.flags.writeable = False      # kept by reference (the kernel's stacked vector)
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(2))]
    return t, evs


def _open(s, st, evs) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


@pytest.mark.parametrize("params,n", [
    ({}, 16),                          # unique regime: the next codeword spills too
    ({"regime": "conjectured"}, 14),   # OOD values from the coefficients, then freed
    ({"folding_factor": 2, "rate_log": 2}, 13),
    ({"hash": "sha256"}, 16),          # extension leaves hashed as whole rows
])
def test_streamed_scratch_bytes_and_same_proof(params, n, monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several blocks per pass
    s = W.Whir(F, {"direct_vars": 0, **params})
    t, evs = _table(n)
    com, st = s.commit(t)
    want = _open(s, st, evs)                       # the in-RAM prover
    N, rho = 1 << n, s.cfg.rate_log
    with scratch.session(threshold=0) as store:
        com2, st2 = s.commit(t)
        assert st2.coeffs is None and isinstance(st2.tree.leaves, scratch.Spilled)
        held = _files(store.path)
        # the codeword's leaves (8·2^ρ bytes an element) and the upper Merkle levels
        assert set(held) == {"whir-leaves", "whir-merkle"}
        assert held["whir-leaves"] == 8 * N << rho
        digest = W.digest_bytes(s.cfg.security_bits)
        leaves = (N << rho) >> s.cfg.folding_factor
        assert held["whir-merkle"] <= 2 * digest * (leaves >> W.MERKLE_SKIP)
        assert sum(held.values()) <= (8 << rho) * N * 1.1   # ≤ 2.2× the table at ρ = 1
        # everything written, transient files included: coefficients (8 B), column
        # codewords and leaves (2 × 8·2^ρ B), Merkle
        assert store.bytes_written <= (8 + (16 << rho)) * N * 1.05
        got = _open(s, st2, evs)
        assert _files(store.path) == held          # the opening's own files are gone
        path = store.path
    assert not os.path.exists(path)
    assert com2 == com
    assert got == want
    item = CheckItem(com, n, evs)
    ch = VerifierChannel(Transcript(PROTO), got)
    s.verify(ch, [item])
    ch.finish()
    bad = bytearray(got)
    bad[len(got) // 2] ^= 0x04
    with pytest.raises((VerificationError, ProofFormatError)):
        ch = VerifierChannel(Transcript(PROTO), bytes(bad))
        s.verify(ch, [item])
        ch.finish()


def test_tree_paths_recompute_the_lowest_levels():
    """`Tree.paths` of a spilled tree (levels from `MERKLE_SKIP` up) is `open_multi` of
    the whole tree, for scattered, adjacent and boundary leaves."""
    from zklora.kernels import merkle
    s = W.Whir(F, {})
    rng = np.random.default_rng(5)
    L, Kl = 1 << 9, 16
    leaves = rng.integers(0, 1 << 62, size=(L, Kl), dtype=np.uint64)
    digest = W.digest_bytes(s.cfg.security_bits)
    full = merkle.build(merkle.hash_leaves(leaves, "blake3", digest), "blake3")
    with scratch.session(threshold=0) as store:
        h = store.save([leaves], tag="whir-leaves")[0]
        levels, root, skip = s._merkle_streamed(store, h, L, Kl * 8, digest)
        assert skip == W.MERKLE_SKIP and len(levels) == 10 - skip
        assert root == merkle.root(full)
        tree = W.Tree(h, levels, skip, "blake3", digest)
        for idx in ([0], [L - 1], [3, 4, 5, 17, 200, 511], list(range(0, L, 7))):
            idx = np.array(idx, dtype=np.int64)
            assert tree.paths(idx) == merkle.open_multi(full, idx)
            assert np.array_equal(tree.rows(idx), leaves[idx])


@pytest.mark.parametrize("terms", [0, 100])
def test_streamed_weights_kept_or_recomputed_same_proof(terms, monkeypatch):
    """The streamed first round's weight table: kept in a scratch file (more terms than
    `W_RECOMPUTE_TERMS`) or recomputed in every pass — the same proof either way."""
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)
    monkeypatch.setattr(W, "W_RECOMPUTE_TERMS", terms)
    monkeypatch.setattr(W, "SPLIT_MSG_TERMS", -1)   # the passes (s26h3: W's row sums need no W)
    s = W.Whir(F, {"direct_vars": 0})
    t, evs = _table(14, seed=3)
    com, st = s.commit(t)
    want = _open(s, st, evs)
    made = []
    with scratch.session(threshold=0) as store:
        orig = store.create

        def create(shape, dtype, tag="w"):
            made.append(tag)
            return orig(shape, dtype, tag)

        monkeypatch.setattr(store, "create", create)
        _, st2 = s.commit(t)
        assert _open(s, st2, evs) == want
    assert ("whir-w" in made) == (terms == 0)
