"""Range checks' recompositions at one shared point (`zklora.zkcore.range.range_points`):
checks on tensors of different sizes share one z (each its prefix), every tensor's value
is sent once, and the verifier checks all sides at once.  Tamper tests: a limb off by
one (its lookup still passes), a value of the shared message, a flipped byte of the
bounds section; each is rejected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.op import ProverContext


def _graph():
    """Two rescales of different sizes whose outputs have wide declared ranges (two
    limbs each, both sides for the one whose width is not a power of two) plus a
    proven bound on an input."""
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-(1 << 12), 1 << 12))
    g.tensor("W", (8, 4), "committed", (-(1 << 12), 1 << 12))
    g.tensor("V", (8, 2), "committed", (-(1 << 12), 1 << 12))
    g.tensor("T", (4, 4), "virtual")
    g.tensor("U", (4, 2), "virtual")
    g.tensor("Y", (4, 4), "committed", (-(1 << 23), (1 << 23) - 1))
    g.tensor("R", (4, 4), "committed", (0, 15))
    g.tensor("Z", (4, 2), "committed", (-(1 << 22) + 3, (1 << 22) + 5))
    g.tensor("S", (4, 2), "committed", (0, 15))
    g.op("matmul", "mm", ["X", "W"], ["T"])
    g.op("rescale", "rs", ["T"], ["Y", "R"], shift=4)
    g.op("matmul", "mm2", ["X", "V"], ["U"])
    g.op("rescale", "rs2", ["U"], ["Z", "S"], shift=4)
    g.outputs = ["Y", "Z"]
    g.prove_bound("X")
    gen = torch.Generator().manual_seed(3)
    w = {n: torch.randint(-(1 << 12), (1 << 12) + 1, s, generator=gen)
         for n, s in (("X", (4, 8)), ("W", (8, 4)), ("V", (8, 2)))}
    return g, w


def _rejects(g, gold, proof, sections, match=None):
    with pytest.raises((VerificationError, ProofFormatError), match=match):
        graphlib.verify(g, proof, gold, {}, sections)


def test_shared_point_verifies_and_draws_one_point(gold, monkeypatch):
    g, w = _graph()
    labels: list[str] = []
    orig = ProverContext.challenges

    def challenges(self, label, n):
        labels.append(label)
        return orig(self, label, n)

    monkeypatch.setattr(ProverContext, "challenges", challenges)
    proof, sections = graphlib.prove(g, w, gold, {})
    graphlib.verify(g, proof, gold, {}, sections)
    assert sum(lab.endswith("/range/z") for lab in labels) == 1, labels


def test_limb_off_by_one_rejected(gold, monkeypatch):
    """Limb 1 of Z's hi side plus one at one entry (still inside its table, so only the
    recomposition can catch it)."""
    g, w = _graph()
    seen = []
    orig = ProverContext.commit_advice

    def commit_advice(self, name, values, bound=None):
        if name == "rs2/Y/hi/limb1":
            values = values.clone()
            i = int(torch.argmin(values.reshape(-1)))
            values.reshape(-1)[i] += 1
            seen.append(name)
        return orig(self, name, values, bound)

    monkeypatch.setattr(ProverContext, "commit_advice", commit_advice)
    with selfcheck.disabled():
        proof, sections = graphlib.prove(g, w, gold, {})
    assert seen
    monkeypatch.setattr(ProverContext, "commit_advice", orig)
    _rejects(g, gold, proof, sections, "recompose")


def test_shared_message_value_changed_rejected(gold, monkeypatch):
    """One value of the shared message changed (and absorbed as sent)."""
    g, w = _graph()
    orig = ProverContext.exchange

    def exchange(self, label, count, compute):
        if label.endswith("/range/values"):
            inner = compute

            def compute():
                v = np.array(inner(), copy=True)
                v[count // 2] = gold.field.ext.add(v[count // 2], gold.field.ext.scalar(1))
                return v
        return orig(self, label, count, compute)

    monkeypatch.setattr(ProverContext, "exchange", exchange)
    with selfcheck.disabled():
        proof, sections = graphlib.prove(g, w, gold, {})
    monkeypatch.setattr(ProverContext, "exchange", orig)
    _rejects(g, gold, proof, sections)


def test_bounds_bytes_flipped_rejected(gold):
    g, w = _graph()
    proof, sections = graphlib.prove(g, w, gold, {})
    (start, end), = [(s, e) for n, s, e in sections if n == "bounds"]
    assert end > start
    for pos in np.unique(np.linspace(start, end - 1, 10).astype(int)):
        bad = bytearray(proof)
        bad[pos] ^= 0x04
        _rejects(g, gold, bytes(bad), sections)
