"""`_MerkleBlocks` gives a level's written pages back only once `MERKLE_HELD_BYTES`
of them are mapped (s24h4): the level files and root do not depend on when pages are
given back, and equal `merkle.build` over all the leaves."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import merkle
from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry


@pytest.mark.parametrize("held", [0, 1, 3000, 40_000, 1 << 30])
@pytest.mark.parametrize("G,S,per", [(4, 64, 16), (8, 256, 32), (1, 512, 64), (16, 32, 32)])
def test_levels_same(monkeypatch, held, G, S, per):
    monkeypatch.setattr(W, "MERKLE_HELD_BYTES", held)
    whir = W.Whir(registry().field("goldilocks"), {})
    digest = W.digest_bytes(whir.cfg.security_bits)
    rng = np.random.default_rng(G * S + per)
    p = np.uint64(0xFFFFFFFF00000001)
    # leaf a + g·S: row a of run g; edge values in the rows
    leaves = rng.integers(0, 2**63, size=(G * S, 4), dtype=np.uint64) % p
    leaves[:3, 0] = [0, 1, int(p) - 1]
    leaves[-1, :] = int(p) - 2
    with scratch.session() as store:
        L = G * S
        mk = W._MerkleBlocks(whir, store, L, per, digest)
        for a0 in range(0, S, per):
            block = leaves.reshape(G, S, 4)[:, a0:a0 + per].reshape(G * per, 4)
            mk.add(np.ascontiguousarray(block), a0, S)
        handles, root, skip = mk.finish()
        want = merkle.build(merkle.hash_leaves(leaves, whir.cfg.hash, digest), whir.cfg.hash)
        assert root == merkle.root(want)
        for lvl, h in zip(range(skip, len(want)), handles):
            assert np.array_equal(h.load().reshape(-1, digest), want[lvl].reshape(-1, digest))
