"""Rescale op: completeness and tamper rejection (Y, R, and the range of R)."""

from __future__ import annotations

import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected

from .conftest import backend_for

S = 8


def rescale_graph():
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-255, 255))
    g.tensor("W", (8, 4), "committed", (-255, 255))
    g.tensor("T", (4, 4), "virtual")
    g.tensor("Y", (4, 4), "committed", (-2048, 2047))
    g.tensor("R", (4, 4), "committed", (0, (1 << S) - 1))
    g.op("matmul", "mm", ["X", "W"], ["T"])
    g.op("rescale", "rs", ["T"], ["Y", "R"], shift=S)
    g.outputs = ["Y"]
    return g


def wit(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"X": torch.randint(-255, 256, (4, 8), generator=gen),
            "W": torch.randint(-255, 256, (8, 4), generator=gen)}


@pytest.fixture(params=[("goldilocks", "logup-gkr"), ("bls12-381-fr", "logup-gkr"),
                        ("goldilocks", "tlookup"), ("bls12-381-fr", "tlookup")])
def be(request, reg):
    return backend_for(reg, request.param[0], "plain", request.param[1])


def test_rescale_complete(be):
    g = rescale_graph()
    stream, sections = graphlib.prove(g, wit(), be, {})
    graphlib.verify(g, stream, be, {}, sections)


@pytest.mark.parametrize("which", ["Y", "R", "Y+R"])
def test_rescale_tampered_witness_rejected(be, which):
    """Y off by one, R off by one, or (Y+1, R−2^s) — the same X but R out of range:
    a cheating prover's proof is rejected by the verifier."""

    def tamper(values):
        if which in ("Y", "Y+R"):
            values["Y"].reshape(-1)[3] += 1
        if which == "R":
            values["R"].reshape(-1)[3] += 1
        if which == "Y+R":
            values["R"].reshape(-1)[3] -= 1 << S

    msg = assert_rejected(rescale_graph(), wit(), be, {}, tamper)
    assert msg and ("LogUp" in msg or "sumcheck" in msg or "matmul" in msg), msg


def test_rescale_proof_bytes_tampered(be):
    g = rescale_graph()
    stream, sections = graphlib.prove(g, wit(), be, {})
    for pos in range(0, len(stream), max(1, len(stream) // 40)):
        bad = bytearray(stream)
        bad[pos] ^= 0x10
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), be, {}, sections)
