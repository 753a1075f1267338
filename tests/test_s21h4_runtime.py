"""The prover's runtime settings: `runtime.proving` (the cyclic collector's freeze)."""

from __future__ import annotations

import gc

import pytest

from zklora.zkcore import runtime


def test_proving_freezes_and_restores():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    keep = [[] for _ in range(10)]
    with runtime.proving():
        n = gc.get_freeze_count()
        assert n >= len(keep)
        with runtime.proving():          # nested: nothing more
            assert gc.get_freeze_count() == n
        assert gc.get_freeze_count() == n
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_proving_restores_on_error():
    gc.unfreeze()
    with pytest.raises(RuntimeError), runtime.proving():
        raise RuntimeError("x")
    assert gc.get_freeze_count() == 0


def test_proving_still_collects_cycles():
    import weakref

    class Node:
        pass

    with runtime.proving():
        a, b = Node(), Node()
        a.b, b.a = b, a
        r = weakref.ref(a)
        del a, b
        gc.collect()
        assert r() is None
