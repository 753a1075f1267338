"""Element-wise ops (add, sub, scale, lincomb, hadamard): integer forward, completeness
with broadcasting on both fields, and soundness (tampered witness, proof bytes,
statement)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
import torch

from zklora.zkcore import mle
from zklora.zkcore.einsum import broadcast, sub_point
from zklora.zkcore.errors import ProverError, VerificationError, ZkLoraError
from zklora.zkcore.graph import Backend, Graph, forward, prove, verify
from zklora.zkcore.plugins import registry

FIELDS = ["goldilocks", "bls12-381-fr"]
STATEMENT = {"test": "elementwise"}


def backend(fname: str) -> Backend:
    reg = registry()
    F = reg.field(fname)
    return Backend(F, reg.commitment("plain")(F), None, reg)


@contextmanager
def lenient_prover(be: Backend):
    """A cheating prover: the honest prover refuses a bad witness (its sumcheck checks
    its own round sums); disabling the challenge field's equality lets it send the
    proof anyway, so that the *verifier* is what is tested."""
    E = be.field.ext
    E.equal = lambda a, b: True
    try:
        yield
    finally:
        del E.equal


def prove_verify(g: Graph, inputs, be: Backend, values=None, statement=STATEMENT):
    proof, sec = prove(g, inputs, be, STATEMENT, values=values)
    verify(g, proof, be, statement, sec)
    return proof, sec


def assert_tamper_rejected(g: Graph, inputs, be: Backend, tensor: str, index: int = 0):
    """One element of ``tensor`` off by one (after forward) ⇒ the verifier rejects."""
    values = forward(g, inputs, be.registry)
    v = values[tensor].clone().reshape(-1)
    v[index % v.numel()] += 1
    values[tensor] = v.reshape(values[tensor].shape)
    with lenient_prover(be):
        proof, sec = prove(g, inputs, be, STATEMENT, values=values)
    with pytest.raises(VerificationError):
        verify(g, proof, be, STATEMENT, sec)


def rand(shape, lo=-1000, hi=1000, seed=0):
    return torch.randint(lo, hi, tuple(shape), generator=torch.Generator().manual_seed(seed))


def binary_graph(op: str, s1, s2, so, **params) -> Graph:
    g = Graph()
    g.tensor("X1", s1, "committed")
    g.tensor("X2", s2, "committed")
    g.tensor("Y", so, "committed")
    g.op(op, "n", ["X1", "X2"], ["Y"], **params)
    g.outputs = ["Y"]
    return g


# -- helpers -----------------------------------------------------------------------------


def test_coords_and_fold_match_brute_force():
    F = registry().field("goldilocks")
    E = F.ext
    rng = np.random.default_rng(1)
    out = (2, 4, 8)
    x = rand((2, 1, 8), seed=3)
    r = E.random(rng, mle.num_vars(out))
    xb = x.expand(out).contiguous()
    want = mle.evaluate(E, F.from_ints(xb.reshape(-1)), r, base=True)
    (term,), letters, sizes = broadcast([x.shape], out)
    got = mle.evaluate(E, F.from_ints(x.reshape(-1)), sub_point(r, letters, term, sizes),
                       base=True)
    assert E.equal(want, got)
    with pytest.raises(ValueError, match="does not broadcast"):
        broadcast([(3, 8)], out)


# -- forward ------------------------------------------------------------------------------


def test_forward_semantics():
    reg = registry()
    g = binary_graph("hadamard", (4, 1), (1, 8), (4, 8))
    a, b = rand((4, 1)), rand((1, 8), seed=1)
    vals = forward(g, {"X1": a, "X2": b}, reg)
    assert torch.equal(vals["Y"], a * b)
    g = binary_graph("sub", (4, 8), (8,), (4, 8))
    a, b = rand((4, 8)), rand((8,), seed=1)
    assert torch.equal(forward(g, {"X1": a, "X2": b}, reg)["Y"], a - b)
    g = Graph()
    g.tensor("X", (4, 8), "committed")
    g.tensor("Y", (4, 8), "committed")
    g.op("scale", "s", ["X"], ["Y"], c=-7)
    g.outputs = ["Y"]
    assert torch.equal(forward(g, {"X": a}, reg)["Y"], -7 * a)


def test_forward_overflow_is_clear():
    g = binary_graph("hadamard", (2,), (2,), (2,))
    big = torch.tensor([1 << 40, 1], dtype=torch.int64)
    with pytest.raises(ProverError, match="n: result may reach"):
        forward(g, {"X1": big, "X2": big}, registry())


# -- completeness ---------------------------------------------------------------------------

LIN_CASES = [
    ("add", (4, 8), (4, 8), (4, 8), {}),
    ("add", (2, 4, 8), (8,), (2, 4, 8), {}),
    ("add", (2, 1, 8), (1, 4, 1), (2, 4, 8), {}),
    ("sub", (4, 8), (4, 1), (4, 8), {}),
    ("lincomb", (2, 8), (1, 8), (2, 8), {"coeffs": [3, -5]}),
]

HAD_CASES = [
    ((4, 8), (4, 8), (4, 8)),
    ((2, 4, 8), (8,), (2, 4, 8)),        # RMSNorm's γ: broadcast over rows
    ((2, 4, 8), (2, 4, 1), (2, 4, 8)),   # a per-row scalar
    ((2, 1, 8), (1, 4, 1), (2, 4, 8)),   # both broadcast
    ((4, 1), (1, 8), (4, 8)),            # outer product: a 0-variable sumcheck
    ((1,), (1,), (1,)),
]


@pytest.mark.parametrize("fname", FIELDS)
@pytest.mark.parametrize("case", LIN_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_linear_complete(fname, case):
    op, s1, s2, so, params = case
    g = binary_graph(op, s1, s2, so, **params)
    prove_verify(g, {"X1": rand(s1, seed=1), "X2": rand(s2, seed=2)}, backend(fname))


@pytest.mark.parametrize("fname", FIELDS)
@pytest.mark.parametrize("case", HAD_CASES, ids=str)
def test_hadamard_complete(fname, case):
    s1, s2, so = case
    g = binary_graph("hadamard", s1, s2, so)
    prove_verify(g, {"X1": rand(s1, seed=1), "X2": rand(s2, seed=2)}, backend(fname))


@pytest.mark.parametrize("seed", range(4))
def test_random_shapes_chain(seed):
    """A chain hadamard → add → scale → sub on random broadcast shapes (virtual middles)."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 4))
    out = tuple(int(2 ** rng.integers(0, 3)) for _ in range(nd))
    s1 = tuple(d if rng.random() < 0.7 else 1 for d in out)
    s2 = tuple(d if rng.random() < 0.7 else 1 for d in out)[int(rng.integers(0, nd)):]
    g = Graph()
    for n, s in (("A", s1), ("B", s2), ("C", out)):
        g.tensor(n, s, "committed")
    g.tensor("H", out, "virtual")
    g.tensor("S", out, "virtual")
    g.tensor("T", out, "virtual")
    g.tensor("Y", out, "committed")
    g.op("hadamard", "h", ["A", "B"], ["H"])
    g.op("add", "a", ["H", "C"], ["S"])
    g.op("scale", "s", ["S"], ["T"], c=3)
    g.op("sub", "d", ["T", "A"], ["Y"])
    g.outputs = ["Y"]
    inputs = {"A": rand(s1, seed=seed), "B": rand(s2, seed=seed + 9), "C": rand(out, seed=7)}
    be = backend("goldilocks")
    prove_verify(g, inputs, be)
    vals = forward(g, inputs, be.registry)
    a = inputs["A"]
    assert torch.equal(vals["Y"], 3 * (a * inputs["B"] + inputs["C"]) - a)
    for t in ("A", "B", "C", "Y"):
        assert_tamper_rejected(g, inputs, be, t, index=int(rng.integers(0, 64)))


# -- soundness ------------------------------------------------------------------------------


@pytest.mark.parametrize("fname", FIELDS)
@pytest.mark.parametrize("op,s1,s2,so,params", [
    ("add", (2, 4), (4,), (2, 4), {}),
    ("sub", (2, 4), (2, 4), (2, 4), {}),
    ("lincomb", (2, 4), (2, 1), (2, 4), {"coeffs": [2, 7]}),
    ("hadamard", (2, 4), (4,), (2, 4), {}),
    ("hadamard", (2, 1), (1, 4), (2, 4), {}),
])
@pytest.mark.parametrize("tensor", ["X1", "X2", "Y"])
def test_tamper_witness(fname, op, s1, s2, so, params, tensor):
    g = binary_graph(op, s1, s2, so, **params)
    inputs = {"X1": rand(s1, seed=1), "X2": rand(s2, seed=2)}
    for index in (0, 5):
        assert_tamper_rejected(g, inputs, backend(fname), tensor, index)


@pytest.mark.parametrize("fname", FIELDS)
def test_tamper_scale(fname):
    g = Graph()
    g.tensor("X", (2, 4), "committed")
    g.tensor("Y", (2, 4), "committed")
    g.op("scale", "s", ["X"], ["Y"], c=5)
    g.outputs = ["Y"]
    inputs = {"X": rand((2, 4))}
    be = backend(fname)
    prove_verify(g, inputs, be)
    for t in ("X", "Y"):
        assert_tamper_rejected(g, inputs, be, t, 3)


def test_honest_prover_refuses_bad_witness():
    g = binary_graph("hadamard", (2, 4), (2, 4), (2, 4))
    inputs = {"X1": rand((2, 4), seed=1), "X2": rand((2, 4), seed=2)}
    be = backend("goldilocks")
    values = forward(g, inputs, be.registry)
    values["Y"] = values["Y"] + 1
    with pytest.raises(ProverError):
        prove(g, inputs, be, STATEMENT, values=values)


@pytest.mark.parametrize("op", ["add", "hadamard"])
def test_tamper_proof_bytes_and_statement(op):
    g = binary_graph(op, (4, 8), (8,), (4, 8))
    inputs = {"X1": rand((4, 8), seed=1), "X2": rand((8,), seed=2)}
    be = backend("goldilocks")
    proof, sec = prove_verify(g, inputs, be)
    (start, end) = next((s, e) for name, s, e in sec if name.startswith("op:"))
    assert end > start
    for pos in range(start, end, max(1, (end - start) // 7)):
        bad = bytearray(proof)
        bad[pos] ^= 1
        with pytest.raises(ZkLoraError):
            verify(g, bytes(bad), be, STATEMENT, sec)
    with pytest.raises(VerificationError):
        verify(g, proof, be, {"test": "other"}, sec)


def test_scale_by_zero_rejected():
    g = Graph()
    g.tensor("X", (2,), "committed")
    g.tensor("Y", (2,), "committed")
    g.op("scale", "s", ["X"], ["Y"], c=0)
    g.outputs = ["Y"]
    with pytest.raises(ProverError, match="zero mod p"):
        prove(g, {"X": torch.tensor([1, 2])}, backend("goldilocks"), STATEMENT)


def test_bad_broadcast_graph_rejected_by_verifier():
    g = binary_graph("hadamard", (2, 4), (2, 4), (2, 4))
    inputs = {"X1": rand((2, 4), seed=1), "X2": rand((2, 4), seed=2)}
    be = backend("goldilocks")
    proof, sec = prove(g, inputs, be, STATEMENT)
    g2 = binary_graph("hadamard", (2, 4), (4, 4), (2, 4))
    with pytest.raises(VerificationError):
        verify(g2, proof, be, STATEMENT, sec)
