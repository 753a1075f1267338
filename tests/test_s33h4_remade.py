"""s33h4: a pending table the prover's context can make again from its witness value is
held as that recipe (`committer._Remade`, `ProverContext._remake`) and written straight
into the stack at `flush`, instead of being staged in a scratch file and copied from it.
The stack, its commitment and the transcript must be those of the staged path (the
committer without the hook), for tables in RAM and spilled, edge values included."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch
from zklora.zkcore.committer import STAGE, Committer, _Remade
from zklora.zkcore.errors import ProverError
from zklora.zkcore.op import ProverContext, TensorSpec
from zklora.zkcore.transcript import ProverChannel, Transcript

from .conftest import backend_for


@pytest.fixture(scope="module")
def micro_step():
    from .test_llama_train import micro

    return micro(1)

I64 = torch.int64
# int64 edges: 0, 1, -1 (p − 1), -2 (p − 2), 2^63 − 1, −2^63, 2, -3
EDGES = torch.tensor([0, 1, -1, -2, 2**63 - 1, -2**63, 2, -3], dtype=I64)


def _values(nonneg_only: bool = False) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    out = {}
    for k, n in enumerate([4, 16, 16, 64, 256, 1024, 16, 4096, 2]):
        if k % 3 == 0 and not nonneg_only:     # negatives: `F.from_ints`' copy
            v = torch.randint(-2**62, 2**62, (n,), generator=g, dtype=I64)
            v[:min(n, 6)] = EDGES[:min(n, 6)]
        else:                                   # non-negative: the int64 view
            v = torch.randint(0, 2**62, (n,), generator=g, dtype=I64)
            v[:min(n, 3)] = torch.tensor([0, 1, 2**63 - 1], dtype=I64)[:min(n, 3)]
        out[f"t{k}"] = v.reshape(2, n // 2) if n > 2 else v
    return out


def _run(be, vals: dict, hook: bool, spill: bool = False, extra=None):
    """Commit every value through a ProverContext (its table, as graph's commitments
    do) plus one field advice, then flush: (committer, channel, ctx)."""
    F = be.field
    specs = {n: TensorSpec(n, tuple(v.shape), "committed") for n, v in vals.items()}
    w = graphlib.Witness({n: v.clone() for n, v in vals.items()})
    if spill:
        w.spill(list(w), force=True)
    c = Committer(be.scheme, True)
    ch = ProverChannel(Transcript(b"s33h4", "blake3"))
    ctx = ProverContext(F, ch, dict(specs), {}, w, c)
    if not hook:
        c.remake = None
    for n in vals:
        c.commit(ch, specs[n], ctx.table(n))
    ctx.commit_field_advice("inv", F.from_ints(torch.arange(1, 33)))
    if extra is not None:
        extra(c, ch, ctx)
    pending = list(c._pending)
    c.flush(ch)
    return c, ch, ctx, pending


@pytest.mark.parametrize("spill", [False, True])
def test_remade_tables_stack_like_staged_ones(reg, spill):
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    vals = _values()
    ref_c, ref_ch, _, _ = _run(be, vals, hook=False)           # no session: RAM
    with scratch.session(threshold=STAGE * 3 * 128) as store:   # staged path
        st_c, st_ch, _, st_pending = _run(be, vals, hook=False, spill=spill)
        assert any(scratch.is_mapped(t) for _, t in st_pending)
        assert not any(type(t) is _Remade for _, t in st_pending)
        st_table = np.array(st_c.stacks[0].table)
    with scratch.session(threshold=STAGE * 3 * 128) as store:
        c, ch, ctx, pending = _run(be, vals, hook=True, spill=spill)
        kinds = {s.name: type(t) is _Remade for s, t in pending}
        assert kinds == {**{n: True for n in vals}, "inv": False}
        table = np.array(c.stacks[0].table)
        assert np.array_equal(table, st_table)
        assert np.array_equal(table, np.asarray(ref_c.stacks[0].table))
        # every tensor's table is a view of the stack again, with its values
        for n, v in vals.items():
            t = ctx._tables[n]
            assert scratch.is_mapped(t)
            assert np.array_equal(t, F.from_ints(v.reshape(-1)))
        assert [f for f in os.listdir(store.path) if f.startswith("stage")] == []
    assert ch.proof_bytes() == st_ch.proof_bytes() == ref_ch.proof_bytes()
    assert c.stacks[0].commitment == ref_c.stacks[0].commitment


def test_edge_values_remade(reg):
    """0, 1, p − 1, p − 2 (and the int64 extremes) come out of a remade table as the
    field elements `from_ints` gives."""
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    p = int(F.modulus) if hasattr(F, "modulus") else 2**64 - 2**32 + 1
    with scratch.session(threshold=0):
        c, ch, ctx, pending = _run(be, {"e": EDGES.clone()}, hook=True)
        (s, t), = [(s, t) for s, t in pending if s.name == "e"]
        got = [int(x) for x in np.asarray(t)]
        assert got == [0, 1, p - 1, p - 2, 2**63 - 1, p - 2**63, 2, p - 3]
        k, i = c.where["e"]
        b = c.stacks[k].layout.block(i)
        assert [int(x) for x in np.asarray(c.stacks[k].table)[b.offset:b.offset + 8]] == got


def test_remake_only_for_the_contexts_own_value_table(reg):
    """A table that is not the context's cached table of a value (a copy, a field
    advice) and anything outside a scratch session keeps the old path."""
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    vals = {"a": torch.arange(16, dtype=I64), "b": torch.arange(16, dtype=I64) * 3}

    def extra(c, ch, ctx):
        spec = TensorSpec("c", (16,), "committed")
        ctx.specs["c"] = spec
        c.commit(ch, spec, F.from_ints(torch.arange(16)))     # no value behind it

    with scratch.session(threshold=0):
        ctx_c = None

        def copy_commit(c, ch, ctx):
            nonlocal ctx_c
            extra(c, ch, ctx)
            ctx_c = ctx

        _, _, _, pending = _run(be, vals, hook=True, extra=copy_commit)
        kinds = {s.name: type(t) is _Remade for s, t in pending}
        assert kinds == {"a": True, "b": True, "inv": False, "c": False}
    _, _, _, pending = _run(be, vals, hook=True)   # no session
    assert not any(type(t) is _Remade for _, t in pending)


def test_remade_size_mismatch_is_reported(reg):
    be = backend_for(reg, "goldilocks", "plain")
    vals = {"a": torch.arange(16, dtype=I64)}
    with scratch.session(threshold=0):
        w = graphlib.Witness(dict(vals))
        c = Committer(be.scheme, True)
        ch = ProverChannel(Transcript(b"s33h4", "blake3"))
        spec = TensorSpec("a", (32,), "committed")
        ctx = ProverContext(be.field, ch, {"a": spec}, {}, w, c)
        c.commit(ch, spec, ctx.table("a"))
        assert type(c._pending[0][1]) is _Remade
        with pytest.raises(ProverError, match="table of 16 entries, 32 declared"):
            c.flush(ch)


def test_step_with_remade_tables_is_the_same(reg, micro_step):
    """A whole proof: the hook on (default) and off give the same bytes, inside a
    session that spills and stages everything."""
    spec, g, inputs, res, st = micro_step
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    with scratch.session(threshold=0) as store:
        ref = graphlib.prove(g, inputs, be, st)
    orig = ProverContext._remake, Committer.commit_remade
    try:   # the staged path
        ProverContext._remake = lambda self, name, table: None
        Committer.commit_remade = lambda self, ch, spec, make: False
        with scratch.session(threshold=0):
            staged = graphlib.prove(g, inputs, be, st)
    finally:
        ProverContext._remake, Committer.commit_remade = orig
    assert ref == staged and not os.path.exists(store.path)


@pytest.mark.parametrize("spill", [False, True])
def test_advice_committed_remade(reg, spill, monkeypatch):
    """`commit_advice` inside a session defers a recipe (`Committer.commit_remade`), not
    a table (none is made before the stack): the same stack and transcript as
    committing its table (edge values, a negative one included); outside a session,
    the table as before."""
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    vals = _values()
    made: list[str] = []
    real = ProverContext._make_table
    monkeypatch.setattr(ProverContext, "_make_table",
                        lambda self, n: made.append(n) or real(self, n))

    def run(lazy: bool):
        made.clear()
        w = graphlib.Witness()
        c = Committer(be.scheme, True)
        ch = ProverChannel(Transcript(b"s33h4", "blake3"))
        ctx = ProverContext(F, ch, {}, {}, w, c)
        if not lazy:
            c.remake = None
        for n, v in vals.items():
            ctx.commit_advice(n, v.clone())
        if spill:
            w.spill(list(w), force=True)
        if lazy and scratch.current() is not None:
            assert made == []
        pending = list(c._pending)
        c.flush(ch)
        return c, ch, ctx, pending

    with scratch.session(threshold=STAGE * 3 * 128):
        ref_c, ref_ch, _, ref_pending = run(False)
        assert not any(type(t) is _Remade for _, t in ref_pending)
        ref_table = np.array(ref_c.stacks[0].table)
    with scratch.session(threshold=STAGE * 3 * 128):
        c, ch, ctx, pending = run(True)
        assert all(type(t) is _Remade for _, t in pending)
        assert all(n not in ctx._tables or scratch.is_mapped(ctx._tables[n]) for n in vals)
        assert np.array_equal(np.array(c.stacks[0].table), ref_table)
        for n, v in vals.items():
            assert np.array_equal(ctx.table(n), F.from_ints(v.reshape(-1)))
    assert ch.proof_bytes() == ref_ch.proof_bytes()
    _, _, _, pending = run(True)   # no session
    assert not any(type(t) is _Remade for _, t in pending)


def test_remade_table_of_another_length_is_refused():
    r = _Remade(lambda: np.zeros(8, np.uint64), 16)
    with pytest.raises(ProverError, match="remade with"):
        np.asarray(r)
    assert np.asarray(_Remade(lambda: np.arange(16, dtype=np.uint64), 16)).shape == (16,)


def test_range_limbs_read_each_tensor_once(reg, monkeypatch):
    """One range check's self-check and limbs read X once (`range._ReadOnce`), and the
    limbs are those of `_limb` reading X itself: edge values lo, lo + 1, hi − 1, hi."""
    from zklora.zkcore import range as rangelib

    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    F = be.field
    lo, hi = -(1 << 20) + 3, (1 << 21) - 5
    g = torch.Generator().manual_seed(3)
    x = torch.randint(lo, hi + 1, (4, 256), generator=g, dtype=I64)
    x.view(-1)[:4] = torch.tensor([lo, lo + 1, hi - 1, hi])
    y = torch.randint(0, 1 << 12, (256,), generator=g, dtype=I64)
    y[:2] = torch.tensor([0, (1 << 12) - 1])
    specs = {"x": TensorSpec("x", (4, 256), "committed"),
             "y": TensorSpec("y", (256,), "committed")}
    with scratch.session(threshold=0):
        w = graphlib.Witness({"x": x.clone(), "y": y.clone()})
        c = Committer(be.scheme, True)
        ch = ProverChannel(Transcript(b"s33h4", "blake3"))
        ctx = ProverContext(F, ch, dict(specs), {}, w, c)
        reads: list[str] = []
        real = ProverContext.value
        monkeypatch.setattr(ProverContext, "value",
                            lambda self, n: reads.append(n) or real(self, n))
        checks = [rangelib.RangeCheck("x", lo, hi, "rx", 8),
                  rangelib.RangeCheck("y", 0, (1 << 12) - 1, "ry", 8)]
        pending = rangelib.range_limbs(ctx, checks)
        assert sorted(reads) == ["x", "y"]
        monkeypatch.setattr(ProverContext, "value", real)
        names = [(rc, side, j, n) for rc, sides in pending for side, ns in sides
                 for j, n in enumerate(ns)]
        assert any(rc.tensor == "x" for rc, _, _, _ in names)
        for rc, side, j, n in names:
            B, limbs, _ = rangelib._plan(F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
            off = rangelib._offsets(limbs)[j]
            want = rangelib._limb(ctx, rc.tensor, rc.lo, rc.hi, side, off, limbs[j])
            assert torch.equal(ctx.value(n), want)
        assert torch.equal(ctx.value("x"), x)   # X itself untouched


def test_commit_remade_by_name(reg):
    """`ProverContext.commit_remade(name)` (a committed value, as graph's commitment
    loop may call it): a recipe, no table made before the flush, same stack as the
    table; False outside a session."""
    be = backend_for(reg, "goldilocks", "plain")
    F = be.field
    vals = _values()
    ref_c, ref_ch, _, _ = _run(be, vals, hook=False)
    with scratch.session(threshold=0):
        specs = {n: TensorSpec(n, tuple(v.shape), "committed") for n, v in vals.items()}
        w = graphlib.Witness({n: v.clone() for n, v in vals.items()})
        c = Committer(be.scheme, True)
        ch = ProverChannel(Transcript(b"s33h4", "blake3"))
        ctx = ProverContext(F, ch, dict(specs), {}, w, c)
        assert all(ctx.commit_remade(n) for n in vals)
        assert ctx._tables == {} and all(type(t) is _Remade for _, t in c._pending)
        ctx.commit_field_advice("inv", F.from_ints(torch.arange(1, 33)))
        c.flush(ch)
        assert np.array_equal(np.array(c.stacks[0].table), np.asarray(ref_c.stacks[0].table))
    assert ch.proof_bytes() == ref_ch.proof_bytes()
    w = graphlib.Witness({n: v.clone() for n, v in vals.items()})
    c = Committer(be.scheme, True)
    ctx = ProverContext(F, ProverChannel(Transcript(b"s33h4", "blake3")), dict(specs), {},
                        w, c)
    assert not ctx.commit_remade("t0") and c._pending == []
