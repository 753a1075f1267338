"""Prover memory (issue 14, memory part): the per-proof scratch store is removed however
a proof ends, spilled Ligero state gives byte-identical commitments and openings, and
stacked tensors share one buffer with their commitment (no per-element copies)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments.ligero import Ligero
from zklora.zkcore import graph as graphlib
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.errors import ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .conftest import backend_for


@pytest.fixture(scope="module")
def F(reg):
    return reg.field("goldilocks")


def _dirs(root) -> list[str]:
    return sorted(p for p in os.listdir(root) if p.startswith("zklora-scratch-"))


# -- the scratch store ----------------------------------------------------------------


def test_session_removes_directory(tmp_path):
    with scratch.session(str(tmp_path), threshold=0) as st:
        assert scratch.current() is st and os.path.isdir(st.path)
        h = st.save([np.arange(10, dtype=np.uint64), np.ones((3, 4), np.uint8)])
        assert h[1].offset == 80 and h[1].shape == (3, 4)
        assert np.array_equal(h[0].read_rows([7, 2]), [7, 2])
        assert np.array_equal(h[1].load(), np.ones((3, 4), np.uint8))
        with scratch.session() as inner:     # nested: the same store
            assert inner is st
        assert os.path.isdir(st.path)
    assert scratch.current() is None and _dirs(tmp_path) == []
    with pytest.raises(ProverError, match="gone"):
        h[0].read_rows([0])


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_session_removed_on_failure(tmp_path, exc):
    with pytest.raises(exc):
        with scratch.session(str(tmp_path), threshold=0) as st:
            st.save([np.zeros(1000, np.uint64)])
            assert len(_dirs(tmp_path)) == 1
            raise exc("boom")
    assert scratch.current() is None and _dirs(tmp_path) == []


def test_threshold_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "123")
    with scratch.session(str(tmp_path)) as st:
        assert st.threshold == 123 and st.wants(123) and not st.wants(122)
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "lots")
    from zklora.zkcore.errors import ConfigError
    with pytest.raises(ConfigError, match="ZKLORA_SPILL_BYTES"):
        scratch.Store(str(tmp_path))


# -- Ligero: spilled state ------------------------------------------------------------


def _opening(scheme, F, tables, rng, spill: str | None):
    """Commit every table (inside a spilling session if ``spill``), open two random
    claims per table; returns (commitments, proof bytes, states' spilled flags)."""
    E = F.ext
    evals = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
              for r in (E.random(rng, t.shape[0].bit_length() - 1) for _ in range(2))]
             for t in tables]

    def run():
        coms, states = zip(*(scheme.commit(t) for t in tables))
        ch = ProverChannel(Transcript(b"test/memory", "blake3"))
        scheme.open(ch, [OpenItem(s, e) for s, e in zip(states, evals)])
        return list(coms), ch.proof_bytes(), [s.spilled is not None for s in states], evals

    if spill is None:
        return run()
    with scratch.session(spill, threshold=0):
        return run()


@pytest.mark.parametrize("chunk", [None, 4096])  # one slab; many slabs and column blocks
def test_spilled_ligero_is_identical(F, tmp_path, monkeypatch, chunk):
    from zklora.plugins.commitments import ligero
    if chunk:
        monkeypatch.setattr(ligero, "CHUNK_BYTES", chunk)
    scheme = Ligero(F)
    rng = np.random.default_rng(5)
    sizes = (7, 12, 16)  # 7 is opened directly (nothing to spill)
    tables = [rng.integers(0, P_INT, 1 << n, dtype=np.uint64) for n in sizes]
    c_ram, p_ram, s_ram, evals = _opening(scheme, F, tables, np.random.default_rng(1), None)
    c_disk, p_disk, s_disk, _ = _opening(scheme, F, tables, np.random.default_rng(1),
                                         str(tmp_path))
    assert c_ram == c_disk and p_ram == p_disk
    assert s_ram == [False] * 3 and s_disk == [False, True, True]
    assert _dirs(tmp_path) == []
    ch = VerifierChannel(Transcript(b"test/memory", "blake3"), p_disk)
    scheme.verify(ch, [CheckItem(c, n, e) for c, n, e in zip(c_disk, sizes, evals)])
    ch.finish()


def test_spill_threshold_keeps_small_state_in_ram(F, tmp_path):
    scheme = Ligero(F)
    t = np.random.default_rng(2).integers(0, P_INT, 1 << 14, dtype=np.uint64)
    with scratch.session(str(tmp_path), threshold=1 << 40):
        _, st = scheme.commit(t)
    assert st.spilled is None and st.encoded is not None


def test_read_only_table_is_shared_writable_is_copied(F):
    scheme = Ligero(F)
    t = np.random.default_rng(3).integers(0, P_INT, 1 << 12, dtype=np.uint64)
    _, st = scheme.commit(t)
    assert not np.shares_memory(st.matrix, t)
    ro = t.copy()
    ro.flags.writeable = False
    com, st = scheme.commit(ro)
    assert np.shares_memory(st.matrix, ro) and com == scheme.commit(t)[0]


# -- graph proofs -----------------------------------------------------------------------


def _matmul(reg):
    be = backend_for(reg, "goldilocks", "ligero", "logup-gkr")
    g = Graph()
    g.tensor("X", (4, 64, 64), "committed")
    g.tensor("W", (64, 32), "committed")
    g.tensor("Y", (4, 64, 32), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(0)
    wit = {"X": torch.randint(-99, 100, (4, 64, 64), generator=gen),
           "W": torch.randint(-99, 100, (64, 32), generator=gen)}
    return g, wit, be


def test_graph_proof_spilled_identical_and_cleaned(reg, tmp_path, monkeypatch):
    g, wit, be = _matmul(reg)
    monkeypatch.setenv("ZKLORA_SCRATCH_DIR", str(tmp_path))
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", str(1 << 40))
    ram, sec = graphlib.prove(g, wit, be, {"t": 1})
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    saved = []
    orig = scratch.Store.save

    def save(self, arrays, tag="a"):
        saved.append(self.path)
        return orig(self, arrays, tag)

    monkeypatch.setattr(scratch.Store, "save", save)
    disk, _ = graphlib.prove(g, wit, be, {"t": 1})
    assert saved and disk == ram
    assert _dirs(tmp_path) == []
    graphlib.verify(g, disk, be, {"t": 1}, sec)


def test_failing_proof_removes_scratch(reg, tmp_path, monkeypatch):
    g, wit, be = _matmul(reg)
    monkeypatch.setenv("ZKLORA_SCRATCH_DIR", str(tmp_path))
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    seen = []

    def fail(self, ch, items):
        seen.append(_dirs(tmp_path))
        raise ProverError("injected failure in the opening")

    monkeypatch.setattr(Ligero, "open", fail)
    with pytest.raises(ProverError, match="injected"):
        graphlib.prove(g, wit, be, {"t": 1})
    assert len(seen) == 1 and len(seen[0]) == 1     # the store existed with spilled state
    assert _dirs(tmp_path) == []


def test_stacked_tables_are_views_of_the_stack(reg):
    """A stacked tensor's field table is a read-only view of its stack's vector, which
    the commitment keeps by reference: one copy of each committed element."""
    g, wit, be = _matmul(reg)
    seen = {}
    orig = graphlib._run_lookups

    def spy(ctx, backend, book):
        seen["ctx"] = ctx
        return orig(ctx, backend, book)

    import unittest.mock as mock
    with mock.patch.object(graphlib, "_run_lookups", spy):
        graphlib.prove(g, wit, be, {"t": 1})
    ctx = seen["ctx"]
    for st in ctx.committer.stacks:
        assert not st.table.flags.writeable
        assert np.shares_memory(st.state.matrix, st.table)
        for name in st.names:
            assert np.shares_memory(ctx.table(name), st.table), name
