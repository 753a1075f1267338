"""The lookup argument's resident set (issue 14): the column tables it reads (views of
the mapped stacks) give their pages back range by range as the leaves are written
(`scratch.drop_pages`), the trees are dropped and the heap trimmed once the GKR is done,
a streamed chunk reads a bounded number of leaves — and none of it changes a byte."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore import scratch
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _file_mib() -> float:
    """Resident file-backed pages of this process (statm ``shared``), MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[2]) * 4096 / 2**20


@pytest.mark.skipif(not hasattr(np, "memmap"), reason="no memory maps")
def test_drop_pages_gives_back_only_the_view(tmp_path):
    n = 1 << 22                                   # 64 MiB of (n, 2) uint64
    with scratch.session(str(tmp_path)) as s:
        mm = s.build((n, 2), np.uint64, [(0, np.arange(2 * n, dtype=np.uint64).reshape(n, 2))])
        total = int(np.asarray(mm).sum(dtype=np.uint64))
        before = _file_mib()
        scratch.drop_pages(np.asarray(mm)[: n // 2].reshape(-1))   # a plain view of half
        half = _file_mib()
        assert before - half > 24                 # about 32 MiB went back …
        assert half - _file_mib() < 1             # … and nothing else did
        scratch.drop_pages(np.asarray(mm)[n // 2 + 1: n - 1])
        assert half - _file_mib() > 24
        assert int(np.asarray(mm).sum(dtype=np.uint64)) == total  # read again: same values
        scratch.drop_pages(np.ones(8))            # not a map: nothing
        scratch.drop_pages(np.asarray(mm)[::-1][3:5])  # reversed view, inside the map
        assert np.array_equal(np.asarray(mm)[:4].reshape(-1), np.arange(8, dtype=np.uint64))


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


@pytest.mark.parametrize("reps", [1, 2])
def test_mapped_columns_are_given_back_same_bytes(monkeypatch, reps):
    """Every stack spilled (columns are views of maps): the leaves' writer gives each
    column range (at least `DROP_BYTES` long) back after the last challenge set read it,
    and the proof is the in-RAM one's."""
    arg = type("A", (LogUpGKR,), {"test_repetitions": reps})()
    lk = _lookups(reps)
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", str(1 << 40))
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    dropped = []
    orig = scratch.drop_pages

    def spy(a):
        if sys._getframe(1).f_code.co_name == "_fill":   # the leaves' writer
            dropped.append(scratch.is_mapped(a))
        orig(a)

    monkeypatch.setattr(scratch, "drop_pages", spy)
    monkeypatch.setattr(L, "DROP_BYTES", 0)   # every range (the test's are short)
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "0")
    g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    assert proof2 == proof
    assert dropped and any(dropped), "no mapped column range was given back"
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)


def test_trees_dropped_after_the_gkr(monkeypatch):
    """The prover's trees are forgotten (and the heap trimmed) before the leaf checks."""
    closed = []
    orig = L._Trees.close

    def spy(self):
        orig(self)
        closed.append(self._trees)

    monkeypatch.setattr(L._Trees, "close", spy)
    S.prove_tables(LogUpGKR(), FIELD, _lookups(5))
    assert closed == [None]


def test_streamed_chunk_reads_bounded_leaves(monkeypatch):
    """A streamed round's chunk of a layer above the leaves reads about `LAYER_CHUNK`
    leaves of a tree at once (fewer pairs per chunk than `STREAM_CHUNK`; never fewer
    than 2^(s+1) pairs), same bytes."""
    lk = _lookups(9)
    g, be, proof, sections = S.prove_tables(LogUpGKR(), FIELD, lk)
    monkeypatch.setattr(L, "STREAM_BYTES", 1 << 14)
    monkeypatch.setattr(L, "KEEP_LAYERS", 1)
    monkeypatch.setattr(L, "STREAM_CHUNK", 1 << 10)
    monkeypatch.setattr(L, "LAYER_CHUNK", 16)
    # no layer held below a needed one (`_deepest_fit`): every streamed layer is summed
    # from the leaves here
    monkeypatch.setattr(L, "_deepest_fit", lambda trees, layer: layer)
    # the chunked path: the fused window passes (`FILL_WINDOW`, `FILL_WINDOW1`) sum a
    # planned tree's slots from the leaves in cache blocks and read no layer chunk
    # (their block bound: tests/test_s38h1_fill_window.py, test_s39h3_fill_gkr_sums.py)
    monkeypatch.setattr(L, "FILL_WINDOW", False)
    monkeypatch.setattr(L, "FILL_WINDOW1", False)
    widest, streamed, inside = [], [], []
    orig, rounds = L.layer_range, L._streamed_rounds

    def spy(E, depth, unit, leaves_range, layer, lo, hi, out=None):
        if inside:   # a streamed round's chunk
            widest.append((hi - lo) << (depth - layer))
        return orig(E, depth, unit, leaves_range, layer, lo, hi, out)

    def spy_rounds(*a, **k):
        inside.append(1)
        try:
            out = rounds(*a, **k)
        finally:
            inside.pop()
        streamed.append(out[0])
        return out

    monkeypatch.setattr(L, "layer_range", spy)
    monkeypatch.setattr(L, "_streamed_rounds", spy_rounds)
    g2, be2, proof2, sections2 = S.prove_tables(LogUpGKR(), FIELD, lk)
    assert proof2 == proof
    assert max(streamed) > 0 and max(streamed) <= 3
    # STREAM_CHUNK pairs of a layer 2^f above the leaves would read 2^10·2^f leaves
    assert widest and max(widest) <= 16 << (max(streamed) + 1)
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)
