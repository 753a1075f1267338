"""Stacks in scratch files (issue 14): `StackLayout.stack_from` builds the same vector
on disk as in RAM and frees the tables it copies; `scratch.drop` gives a map's pages
back; the files go with the session, also when the proof fails."""

from __future__ import annotations

import gc
import os
import weakref

import numpy as np
import pytest

from zklora.zkcore import scratch, stack


def _rss_file_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no RssFile in /proc/self/status")


def test_stack_from_on_disk_equals_in_ram(reg):
    F = reg.field("goldilocks")
    sizes = [64, 8, 32, 1, 2, 8]
    lay = stack.StackLayout(sizes)
    rng = np.random.default_rng(0)
    tables = [F.from_ints(rng.integers(-9, 9, s)) for s in sizes]
    ref = lay.stack(F, tables)
    refs = [weakref.ref(t) for t in tables]
    with scratch.session(threshold=0) as store:
        got = lay.stack_from(F, list(tables))
        assert scratch.is_mapped(got) and not got.flags.writeable
        assert np.array_equal(np.asarray(got), ref)
        path = store.path
        assert os.listdir(path)
    ram = lay.stack_from(F, list(tables))   # no session: in RAM, read-only
    assert not scratch.is_mapped(ram) and not ram.flags.writeable
    assert np.array_equal(ram, ref)
    assert not os.path.exists(path)
    # stack_from drops its list's references as it copies
    lst = tables
    del tables
    with scratch.session(threshold=0):
        lay.stack_from(F, lst)
        assert all(t is None for t in lst)
        gc.collect()
        assert all(r() is None for r in refs)


def test_drop_gives_pages_back():
    m = 1 << 20
    with scratch.session(threshold=0) as store:   # 128 MiB of uint64, 16 parts
        mm = store.build((16 * m,), np.uint64,
                         ((k * m, np.arange(k * m, (k + 1) * m, dtype=np.uint64))
                          for k in range(16)))
        base = _rss_file_mib()
        assert int(mm.sum(dtype=np.uint64)) == (16 * m) * (16 * m - 1) // 2
        assert _rss_file_mib() > base + 100
        scratch.drop(mm[5:])          # a view: its map is found
        assert _rss_file_mib() < base + 50
        view = mm[3:10]
        assert list(view[:2]) == [3, 4]
        scratch.release()
    assert not os.path.exists(store.path)


def test_scratch_removed_on_failure():
    with pytest.raises(RuntimeError):
        with scratch.session(threshold=0) as store:
            store.build((16,), np.uint64, [(4, np.ones(4, np.uint64))])
            raise RuntimeError("boom")
    assert not os.path.exists(store.path)
    scratch.drop(np.zeros(3))         # not a map: nothing happens


def test_remove_only_its_own_maps():
    with scratch.session(threshold=0) as store:
        mm = store.build((8,), np.uint64, [(0, np.arange(8, dtype=np.uint64))])
        store.remove(mm[2:])          # a view: its file stays
        assert os.path.exists(mm.filename) and list(mm[2:4]) == [2, 3]
        store.remove(mm)
        assert not os.path.exists(mm.filename)
        assert list(mm[:2]) == [0, 1]   # still readable while referenced


@pytest.mark.slow
def test_proof_with_everything_on_disk_is_the_same(reg, monkeypatch):
    """A segmented training step proven with every table staged, every stack a scratch
    map and the stack reduction streamed gives the in-RAM proof's bytes, and verifies;
    the scratch directory is gone afterwards."""
    from zklora.zkcore import graph as graphlib

    from .conftest import backend_for
    from .test_llama_train import micro

    spec, g, inputs, res, st = micro(1)
    be = backend_for(reg, "goldilocks", "ligero", "logup-gkr")
    ref, sections = graphlib.prove(g, inputs, be, st)
    monkeypatch.setattr(stack, "STREAM_VARS", 4)
    monkeypatch.setattr(stack, "CHUNK_VARS", 3)
    seen = []
    real = scratch.Store.build

    def build(self, *a, **k):
        seen.append(k.get("tag"))
        return real(self, *a, **k)

    monkeypatch.setattr(scratch.Store, "build", build)
    with scratch.session(threshold=0) as store:
        out, sec = graphlib.prove(g, inputs, be, st)
    assert {"stage", "stack"} <= set(seen)
    assert out == ref and sec == sections
    assert not os.path.exists(store.path)
    graphlib.verify(g, out, be, st, sec)
