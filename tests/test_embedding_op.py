"""Embedding op: completeness under both fields, tamper rejection of the one-hot advice,
the output and the ids, flipped proof bytes, and the out-of-vocabulary error."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.embedding import add_embedding
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected, bump

from .conftest import backend_for

N, V, D = 8, 16, 4


def emb_graph():
    g = Graph()
    g.tensor("ids", (N,), "committed", (0, V - 1))
    g.tensor("tab", (V, D), "committed", (-1000, 1000))
    h = add_embedding(g, "emb", "ids", "tab")
    y = g.tensor("Y", (N, D), "committed")
    g.op("scale", "y", [h], [y], c=3)  # a committed output downstream of the virtual H
    g.outputs = ["Y"]
    return g


def wit(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"ids": torch.randint(0, V, (N,), generator=gen),
            "tab": torch.randint(-1000, 1001, (V, D), generator=gen)}


@pytest.fixture(params=["goldilocks", "bls12-381-fr"])
def be(request, reg):
    return backend_for(reg, request.param, "plain", "")


def test_embedding_forward_is_row_lookup(reg):
    w = wit()
    vals = graphlib.forward(emb_graph(), w, reg)
    assert torch.equal(vals["emb/H"], w["tab"][w["ids"]])
    assert torch.equal(vals["emb/onehot"].sum(1), torch.ones(N, dtype=torch.int64))
    assert torch.equal(vals["emb/onehot"].argmax(1), w["ids"])


@pytest.mark.parametrize("seed", [0, 1])
def test_embedding_complete(be, seed):
    g = emb_graph()
    stream, sections = graphlib.prove(g, wit(seed), be, {})
    graphlib.verify(g, stream, be, {}, sections)


def _move_one(values):
    """A well-formed one-hot row pointing at the wrong token (H made consistent)."""
    oh = values["emb/onehot"]
    j = int(oh[2].argmax())
    oh[2, j] = 0
    oh[2, (j + 1) % V] = 1
    values["emb/H"][2] = values["tab"][(j + 1) % V]
    values["Y"][2] = 3 * values["emb/H"][2]


def _non_boolean(values):
    """Row sum 1 and Σ u·OH[n, u] = ids[n] kept, only booleanity violated:
    e_(j−1) − e_j + e_(j+1), with H (and Y) made consistent."""
    ids, oh, tab = values["ids"], values["emb/onehot"], values["tab"]
    n = int(torch.nonzero((ids > 0) & (ids < V - 1))[0])
    j = int(ids[n])
    oh[n, j - 1] += 1
    oh[n, j] -= 2
    oh[n, j + 1] += 1
    values["emb/H"][n] = tab[j - 1] - tab[j] + tab[j + 1]
    values["Y"][n] = 3 * values["emb/H"][n]


@pytest.mark.parametrize("tamper", [
    bump("emb/onehot", 5), bump("emb/onehot", 0, -1), bump("Y", 3), bump("ids", 4),
    _move_one, _non_boolean,
], ids=["onehot+1", "onehot-1", "Y", "ids", "wrong-row", "non-boolean"])
def test_embedding_tampered_rejected(be, tamper):
    msg = assert_rejected(emb_graph(), wit(), be, {}, tamper)
    assert msg != "prover could not produce a proof", msg


def test_embedding_proof_bytes_tampered(be):
    g = emb_graph()
    stream, sections = graphlib.prove(g, wit(), be, {})
    for pos in range(0, len(stream), max(1, len(stream) // 30)):
        bad = bytearray(stream)
        bad[pos] ^= 0x08
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), be, {}, sections)


def test_embedding_token_out_of_vocab(reg):
    w = wit()
    w["ids"][3] = V
    g = emb_graph()
    g.tensors["ids"] = attrs_evolve_bound(g.tensors["ids"])
    with pytest.raises(ProverError, match=r"ids.*token id 16.*\[0, 16\)"):
        graphlib.forward(g, w, reg)


def attrs_evolve_bound(spec):
    import attrs
    return attrs.evolve(spec, bound=None)  # let the op itself catch the bad id
