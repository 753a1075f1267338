"""The streamed passes claim by claim on the unfolded stack (`stack._SegPass`,
`whir_eq.seg_dots`, `stack.SEG_PASSES`): the same proof bytes as the in-RAM prover and
as the W-chunk passes, with claims sharing points across blocks, several claims on a
block, blocks smaller than the pass (through W), blocks over several chunks, small
tiles and pieces; the claims' runs kept over the passes (`whir_eq.SegRuns`) or made
again each pass."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir_eq as QE
from zklora.zkcore import mle, scratch, stack
from zklora.zkcore.op import ProverContext, VerifierContext
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel


def _case(reg, sizes, seed):
    F = reg.field("goldilocks")
    E = F.ext
    lay = stack.StackLayout(sizes)
    rng = np.random.default_rng(seed)
    tables = [F.from_ints(rng.integers(-50, 50, s)) for s in sizes]
    S = lay.stack(F, tables)
    S.flags.writeable = False
    shared = {}   # one point per size, used by every item of that size, plus own points
    claims = []
    for i, t in enumerate(tables):
        n = lay.block(i).num_vars
        if n not in shared:
            shared[n] = E.random(rng, n)
        for r in (shared[n], E.random(rng, n)):
            claims.append(lay.claim(E, i, r, mle.evaluate(E, t, r, base=True)))
    return F, E, S, claims


def _prove(F, stacks):
    pch = ProverChannel(Transcript(b"t"))
    out = stack.reduce_many(ProverContext(F, pch, {}, {}, {}, None), stacks, label="x")
    return out, pch.proof_bytes()


@pytest.mark.parametrize("chunk,rounds,tile,piece", [(3, 2, 8, 1 << 13), (5, 4, 2, 4),
                                                     (6, 5, 3, 8), (7, 6, 8, 16)])
@pytest.mark.parametrize("keep", [True, False])
def test_seg_passes_same_bytes(reg, monkeypatch, chunk, rounds, tile, piece, keep):
    F, E, S, claims = _case(reg, [2, 64, 1, 8, 8, 32, 4, 4, 4], 3)
    _, _, S2, claims2 = _case(reg, [64, 16, 16, 16, 4], 4)
    stacks = [(7, claims, S), (7, claims2, S2)]
    ref, ref_bytes = _prove(F, stacks)
    monkeypatch.setattr(stack, "STREAM_VARS", 5)
    monkeypatch.setattr(stack, "CHUNK_VARS", chunk)
    monkeypatch.setattr(stack, "STREAM_ROUNDS", rounds)
    monkeypatch.setattr(QE, "SEG_TILE_VARS", tile)
    monkeypatch.setattr(QE, "SEG_PIECE", piece)
    if not keep:   # the runs never fit: every pass reads S (`seg_dots`)
        monkeypatch.setattr(QE.SegRuns, "nbytes", staticmethod(lambda grp, gT: 1 << 62))
    for passes in (0, 1, 8):
        monkeypatch.setattr(stack, "SEG_PASSES", passes)
        with scratch.session(threshold=0):
            got, data = _prove(F, stacks)
        assert data == ref_bytes
        for (r, v), (r2, v2) in zip(ref, got):
            assert E.equal(r, r2) and E.equal(v, v2)
    vch = VerifierChannel(Transcript(b"t"), ref_bytes)
    stack.reduce_many(VerifierContext(F, vch, {}, {}, None),
                      [(K, cl, None) for K, cl, _ in stacks], label="x")
    vch.finish()
