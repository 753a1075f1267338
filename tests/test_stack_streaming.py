"""The streaming prover of the stacked-claim reduction (`stack._prove_streaming`, issue
14): the same proof bytes as the in-RAM batched sumcheck, several stacks of one size
batched, a stack read through ``read_range`` (on disk), and the verifier still rejects a
wrong claimed value."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from zklora.zkcore import mle, scratch, selfcheck, stack
from zklora.zkcore.errors import ProverError, VerificationError
from zklora.zkcore.op import ProverContext, VerifierContext
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel


def _case(reg, sizes, seed, claims_per=2):
    F = reg.field("goldilocks")
    E = F.ext
    lay = stack.StackLayout(sizes)
    rng = np.random.default_rng(seed)
    tables = [F.from_ints(rng.integers(-50, 50, s)) for s in sizes]
    S = lay.stack(F, tables)
    S.flags.writeable = False
    claims = []
    for i, t in enumerate(tables):
        for _ in range(claims_per):
            r = E.random(rng, lay.block(i).num_vars)
            claims.append(lay.claim(E, i, r, mle.evaluate(E, t, r, base=True)))
    return F, E, lay, S, claims


def _prove(F, stacks):
    pch = ProverChannel(Transcript(b"t"))
    out = stack.reduce_many(ProverContext(F, pch, {}, {}, {}, None), stacks, label="x")
    return out, pch.proof_bytes()


def _verify(F, shapes, data):
    vch = VerifierChannel(Transcript(b"t"), data)
    out = stack.reduce_many(VerifierContext(F, vch, {}, {}, None), shapes, label="x")
    vch.finish()
    return out


@pytest.mark.parametrize("chunk,rounds", [(3, 2), (4, 1), (5, 4), (7, 6)])
def test_streaming_same_bytes(reg, monkeypatch, chunk, rounds):
    F, E, lay, S, claims = _case(reg, [2, 64, 1, 8, 8, 32], 1)
    _, F2, lay2, S2, claims2 = _case(reg, [64, 32, 16, 4], 2, claims_per=3)
    assert lay.num_vars == lay2.num_vars == 7
    _, _, lay3, S3, claims3 = _case(reg, [4, 2, 1], 5)
    stacks = [(7, claims, S), (7, claims2, S2), (lay3.num_vars, claims3, S3)]
    ref, ref_bytes = _prove(F, stacks)
    monkeypatch.setattr(stack, "STREAM_VARS", 5)
    monkeypatch.setattr(stack, "CHUNK_VARS", chunk)
    monkeypatch.setattr(stack, "STREAM_ROUNDS", rounds)
    got, data = _prove(F, stacks)
    assert data == ref_bytes
    for (r, v), (r2, v2) in zip(ref, got):
        assert E.equal(r, r2) and E.equal(v, v2)
    checked = _verify(F, [(K, cl, None) for K, cl, _ in stacks], data)
    for (r, v), (r2, v2) in zip(got, checked):
        assert E.equal(r, r2) and E.equal(v, v2)
    assert E.equal(mle.evaluate(E, S2, got[1][0], base=True), got[1][1])


def test_streaming_reads_a_spilled_stack(reg, monkeypatch):
    F, E, lay, S, claims = _case(reg, [64, 32, 16, 8, 4, 2, 1, 1], 3)
    ref, ref_bytes = _prove(F, [(lay.num_vars, claims, S)])
    monkeypatch.setattr(stack, "STREAM_VARS", 4)
    monkeypatch.setattr(stack, "CHUNK_VARS", 4)
    with scratch.session(threshold=0) as store:
        (h,) = store.save([S])
        got, data = _prove(F, [(lay.num_vars, claims, h)])
    assert data == ref_bytes


def test_streaming_wrong_value(reg, monkeypatch):
    F, E, lay, S, claims = _case(reg, [64, 32, 16, 8], 4)
    monkeypatch.setattr(stack, "STREAM_VARS", 5)
    monkeypatch.setattr(stack, "CHUNK_VARS", 3)
    bad = list(claims)
    bad[3] = attrs.evolve(bad[3], value=E.add(bad[3].value, E.scalar(1)))
    with pytest.raises(ProverError):
        _prove(F, [(lay.num_vars, bad, S)])
    with selfcheck.disabled():
        ((r, v),), data = _prove(F, [(lay.num_vars, bad, S)])
    try:
        ((r2, v2),) = _verify(F, [(lay.num_vars, bad, None)], data)
    except VerificationError:
        return
    assert not E.equal(mle.evaluate(E, S, r2, base=True), v2)


@pytest.mark.parametrize("budget", [0, 1 << 9, 1 << 12])
def test_streaming_more_rounds_under_a_budget(reg, monkeypatch, budget):
    """`RAM_BYTES`: more streamed rounds while the folded tables would exceed it (the
    30-layer step's stacks of 2^28) — the same bytes."""
    F, E, lay, S, claims = _case(reg, [2, 64, 1, 8, 8, 32], 1)
    _, _, lay2, S2, claims2 = _case(reg, [64, 32, 16, 4], 2, claims_per=3)
    stacks = [(7, claims, S), (7, claims2, S2)]
    ref, ref_bytes = _prove(F, stacks)
    monkeypatch.setattr(stack, "STREAM_VARS", 5)
    monkeypatch.setattr(stack, "CHUNK_VARS", 6)
    monkeypatch.setattr(stack, "STREAM_ROUNDS", 1)
    monkeypatch.setattr(stack, "RAM_BYTES", budget)
    seen = []

    class _SpyNp:
        """numpy for `stack` alone, `empty` recorded: patching the numpy module itself
        would also reach numba, which compiles `np.empty` calls of kernels whose cached
        signature does not match while the spy is in place (and fails)."""

        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def empty(shape, *a, **k):
            if isinstance(shape, tuple) and len(shape) == 3 and shape[0] == 4:
                seen.append(shape[1])
            return np.empty(shape, *a, **k)

    monkeypatch.setattr(stack, "np", _SpyNp())
    with scratch.session(threshold=0):
        got, data = _prove(F, stacks)
    monkeypatch.setattr(stack, "np", np)
    assert data == ref_bytes
    # the folded tables: 2^(7 − k) entries, k the first round whose 2·2·16·2^(7−k)
    # bytes fit the budget (at most CHUNK_VARS − 1 = 5 rounds)
    k = 1
    while k < 5 and 64 * (128 >> k) > budget:
        k += 1
    assert seen[0] == 128 >> k   # (then the folds' own arrays)
    checked = _verify(F, [(K, cl, None) for K, cl, _ in stacks], data)
    for (r, v), (r2, v2) in zip(got, checked):
        assert E.equal(r, r2) and E.equal(v, v2)


@pytest.mark.parametrize("direct", [0, 1 << 10])
@pytest.mark.parametrize("chunk,rounds", [(3, 2), (6, 5)])
def test_streaming_w_folded_directly_or_from_files(reg, monkeypatch, direct, chunk, rounds):
    """W's chunks computed already folded in each pass (`_w_chunk` with ``rs``: blocks
    larger and smaller than 2^j, a block holding the chunk) or, above `DIRECT_W_CLAIMS`,
    kept in scratch files and folded — the same bytes as the in-RAM prover."""
    F, E, lay, S, claims = _case(reg, [2, 64, 1, 8, 8, 32], 1)
    _, _, lay2, S2, claims2 = _case(reg, [64, 32, 16, 4], 2, claims_per=3)
    stacks = [(7, claims, S), (7, claims2, S2)]
    ref, ref_bytes = _prove(F, stacks)
    monkeypatch.setattr(stack, "STREAM_VARS", 5)
    monkeypatch.setattr(stack, "CHUNK_VARS", chunk)
    monkeypatch.setattr(stack, "STREAM_ROUNDS", rounds)
    monkeypatch.setattr(stack, "DIRECT_W_CLAIMS", direct)
    with scratch.session(threshold=0):
        got, data = _prove(F, stacks)
    assert data == ref_bytes
