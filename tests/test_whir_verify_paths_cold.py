"""Whir openings verified by a cold process (`zklora.kernels.goldilocks.cold`: no
numba kernel, numpy / Python-integer twins): honest proofs verify, and one changed byte
of every message kind is rejected, exactly as with the compiled kernels."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_whir import REJECT, E, _spans, flip, prove, scheme, verify
from zklora.kernels import goldilocks as G


@pytest.fixture
def cold(monkeypatch):
    monkeypatch.setattr(G, "numba_started", lambda: False)


@pytest.fixture(scope="module")
def proofs():
    out = {}
    for name, params, sizes in (("single", {"regime": "conjectured"}, [13, 12]),
                                ("batched", {"regime": "conjectured"}, [13, 13, 9, 13]),
                                ("direct", {"regime": "conjectured", "direct_vars": 10},
                                 [4, 9, 12]),
                                ("sha", {"hash": "sha256"}, [9, 12])):
        s = scheme(**params)
        items, proof, spans, _ = prove(s, sizes, claims=2, seed=len(name))
        out[name] = (s, items, proof, spans)
    return out


@pytest.mark.parametrize("name", ["single", "batched", "direct", "sha"])
def test_cold_verify_accepts_and_rejects(proofs, cold, name):
    s, items, proof, spans = proofs[name]
    assert not G.numba_started()
    verify(s, items, proof)
    labels = {lab for lab, a, b in spans if b > a}
    assert {"whir/root", "whir/leaves", "whir/paths"} <= labels
    assert ("whir/tensor" in labels) == (name == "direct")
    for label in sorted(labels):
        for a, b in _spans(spans, label)[:4]:
            for pos in sorted({a, (a + b) // 2, b - 1}):
                with pytest.raises(REJECT):
                    verify(s, items, flip(proof, pos))


def test_cold_verify_wrong_claim_rejected(proofs, cold):
    s, items, proof, _ = proofs["direct"]
    it = items[0]
    ev = it.evals[0]
    bad = type(ev)(ev.point, E.add(ev.value, np.array([1, 0], np.uint64)))
    items2 = [type(it)(it.commitment, it.num_vars, [bad] + list(it.evals[1:]))] + items[1:]
    with pytest.raises(REJECT):
        verify(s, items2, proof)
