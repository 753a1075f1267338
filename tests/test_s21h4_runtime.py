"""The prover's runtime settings: `runtime.proving` (the cyclic collector's freeze)."""

from __future__ import annotations

import gc

import pytest

from zklora.zkcore import runtime


def test_proving_freezes_and_restores(monkeypatch):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    keep = [[] for _ in range(10)]
    calls = []
    real_freeze, real_unfreeze = gc.freeze, gc.unfreeze
    monkeypatch.setattr(gc, "freeze", lambda: (calls.append("freeze"), real_freeze())[1])
    monkeypatch.setattr(gc, "unfreeze", lambda: (calls.append("unfreeze"), real_unfreeze())[1])
    with runtime.proving():
        assert gc.get_freeze_count() >= len(keep)
        assert calls == ["freeze"]
        # nested: no second freeze and no unfreeze.  (The frozen count itself may drop
        # while frozen objects are freed, e.g. by another test's leftovers, so the calls
        # are what is checked, not the count.)
        with runtime.proving():
            assert calls == ["freeze"]
        assert calls == ["freeze"]
        assert gc.isenabled()
    assert calls == ["freeze", "unfreeze"]
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
