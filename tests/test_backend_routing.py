"""The prover's sumcheck calls the compute backend (issue 17, docs/gpu.md "What is
routed"), and a backend cannot change a proof byte.

The ``cuda-emu`` row is the ``cuda`` backend's glue and CUDA kernel text compiled for the
host (tests/cuda_emu.py): proofs made with it must equal the ``cpu`` backend's byte for
byte.  A counting backend shows that the routed call sites really reach the backend.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from zklora.plugins.backends.cpu import CpuBackend
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import backend as B
from zklora.zkcore import graph as graphlib
from zklora.zkcore import sumcheck
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from . import cuda_emu
from .conftest import backend_for
from .test_rescale_op import rescale_graph, wit

E = GOLDILOCKS.ext


@pytest.fixture(scope="module")
def emu():
    if cuda_emu.CXX is None:
        pytest.skip("no C++ compiler for the CUDA host emulation")
    return registry().backend("cuda")(cp=cuda_emu.cupy, partials=1000)


class Counting(CpuBackend):
    """The cpu backend, counting the routed operations it serves."""

    name = "counting"

    def __init__(self):
        self.calls: Counter = Counter()

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if name in ("p2_sums", "p2_fold_sums", "pair_sums", "fold_tables", "sc_round",
                    "sc_fold", "fold_base", "borrow", "edot", "evec_mat", "eq_table"):
            object.__getattribute__(self, "calls")[name] += 1
        return attr


def _instance(degree: int, nv: int, base_tables: bool, seed: int = 0):
    """Tables and terms of a product sumcheck (degree 2: the pairwise fast path; others:
    the generic rounds), with its claim."""
    rng = np.random.default_rng(100 * degree + nv + (7 if base_tables else 0) + seed)
    ntab = 4
    if base_tables:
        tables = [GOLDILOCKS.random(rng, 1 << nv) for _ in range(ntab)]
    else:
        tables = [E.random(rng, 1 << nv) for _ in range(ntab)]
    if degree == 2:
        terms = [(E.scalar(3), (0, 1)), (E.random(rng, 1)[0], (2, 3)), (E.scalar(1), (1, 1))]
    else:
        terms = [(E.scalar(1), tuple(range(degree))), (E.scalar(5), (3,))]
    lifted = [E.embed(t) if base_tables else t for t in tables]
    claim = E.scalar(0)
    for x in range(1 << nv):
        claim = E.add(claim, sumcheck.combine(E, terms, [t[x] for t in lifted]))
    return tables, terms, claim


def _prove(tables, terms, claim, be=None):
    ch = ProverChannel(Transcript("routing"))
    if be is None:
        sumcheck.prove(ch, E, tables, terms, claim)
    else:
        with B.use(be):
            sumcheck.prove(ch, E, tables, terms, claim)
    return ch.proof_bytes()


CASES = [(2, 3, False), (2, 11, False), (2, 11, True), (2, 12, True), (3, 5, False),
         (3, 11, True), (1, 4, False)]


@pytest.mark.parametrize("degree,nv,base_tables", CASES)
def test_sumcheck_same_bytes_on_emulated_cuda(emu, degree, nv, base_tables):
    tables, terms, claim = _instance(degree, nv, base_tables)
    cpu = _prove(tables, terms, claim)
    assert _prove(tables, terms, claim, emu) == cpu
    ch = VerifierChannel(Transcript("routing"), cpu)
    sumcheck.verify(ch, E, nv, len(tables), terms, claim)
    ch.finish()


def test_sumcheck_calls_the_backend():
    be = Counting()
    for degree, nv, base_tables in [(2, 3, False), (2, 11, True), (3, 5, False)]:
        tables, terms, claim = _instance(degree, nv, base_tables)
        assert _prove(tables, terms, claim, be) == _prove(tables, terms, claim)
    for op in ("p2_sums", "pair_sums", "fold_tables", "sc_round", "sc_fold"):
        assert be.calls[op] > 0, f"the prover never called the backend's {op}"


def test_bls_field_stays_off_the_backend():
    """The BLS12-381 scalar field is not a backend field: its sumchecks never reach it."""
    from zklora.plugins.fields.bls12_381 import BLS12_381_FR as F

    rng = np.random.default_rng(5)
    tables = [F.random(rng, 8) for _ in range(3)]
    terms = [(F.scalar(1), (0, 1, 2))]
    claim = F.scalar(0)
    for x in range(8):
        claim = F.add(claim, sumcheck.combine(F, terms, [t[x] for t in tables]))
    be = Counting()
    with B.use(be):
        sumcheck.prove(ProverChannel(Transcript("bls")), F, tables, terms, claim)
    assert not be.calls


def test_graph_proof_same_bytes_on_emulated_cuda(emu, reg):
    """A matmul + rescale + range-lookup graph: the same proof on cpu and emulated cuda."""
    pb = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    g = rescale_graph()
    cpu, st = graphlib.prove(g, wit(), pb, {})
    with B.use(emu):
        assert graphlib.prove(g, wit(), pb, {})[0] == cpu
    graphlib.verify(g, cpu, pb, {}, st)


@pytest.mark.parametrize("base", [False, True])
@pytest.mark.parametrize("nv", [1, 3, 12])
def test_mle_evaluate_and_bind_routed(emu, base, nv):
    """`mle.evaluate` and `mle.bind` give the field's values on every backend, and reach
    the backend."""
    from zklora.zkcore import mle

    rng = np.random.default_rng(nv + 50 * base)
    t = GOLDILOCKS.random(rng, 1 << nv) if base else E.random(rng, 1 << nv)
    r = E.random(rng, nv)
    lifted = E.embed(t) if base else t
    want = E.dot(lifted, mle.eq_table(E, r))  # the definition: Σ t(x)·eq(r, x)
    k = max(1, nv // 2)
    want_bound = lifted
    for j in range(k):
        want_bound = E.sc_fold(want_bound[None], r[j])[0]
    counting = Counting()
    for be in (counting, emu):
        with B.use(be):
            assert E.equal(mle.evaluate(E, t, r, base=base), want)
            got = mle.bind(E, t, r[:k], base=base)
            assert np.array_equal(np.asarray(got, np.uint64), np.asarray(want_bound, np.uint64))
    assert counting.calls["edot"] > 0 and counting.calls["eq_table"] > 0
    assert counting.calls["fold_base" if base else "sc_fold"] > 0
