"""The prover's sumcheck, MLE evaluations and ligero commitments call the compute
backend (issue 17, docs/gpu.md "What is routed"), and a backend cannot change a proof
byte.

The ``cuda-emu`` row is the ``cuda`` backend's glue and CUDA kernel text compiled for the
host (tests/cuda_emu.py): proofs made with it must equal the ``cpu`` backend's byte for
byte.  A counting backend shows that the routed call sites really reach the backend.
"""

from __future__ import annotations

import contextlib
from collections import Counter

import numpy as np
import pytest

from zklora.plugins.backends.cpu import CpuBackend
from zklora.plugins.commitments.ligero import Layout, Ligero
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import backend as B
from zklora.zkcore import graph as graphlib
from zklora.zkcore import mle, scratch, sumcheck, zk
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
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
                    "sc_fold", "fold_base", "borrow", "edot", "evec_mat", "eq_table",
                    "mat_evec", "rs_encode", "blake3_rows", "merkle_levels", "fetch"):
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


# -- ligero ----------------------------------------------------------------------------------

#: table sizes: opened directly (2^6), queried with one-chunk leaves (2^12, 2^16: rows of
#: 64 and 256 bytes), and 2^14 with a forced layout of 2^10 rows (leaves of 8 KiB: the
#: BLAKE3 chunk tree)
LIGERO_NS = (6, 12, 14, 16)


def _ligero(be, *, hash: str = "blake3", zk_seed: bytes | None = None, spill: bool = False,
            claims: int = 2):
    """Commit to the `LIGERO_NS` tables and open each at ``claims`` points, with ``be`` in
    force (None: the default, cpu); returns (check items, proof bytes, scheme)."""
    F = GOLDILOCKS
    s = Ligero(F, {"hash": hash})
    s._layouts[14] = Layout(14, 4, 2, False)
    rng = np.random.default_rng(17)
    tables = [F.random(rng, 1 << n) for n in LIGERO_NS]
    points = [[F.ext.random(rng, n) for _ in range(claims)] for n in LIGERO_NS]
    with contextlib.ExitStack() as stack:
        if be is not None:
            stack.enter_context(B.use(be))
        if zk_seed is not None:
            stack.enter_context(zk.session(rng=zk.MaskRng.seeded(zk_seed)))
        if spill:
            stack.enter_context(scratch.session(threshold=1))
        done = [s.commit(t) for t in tables]
        if spill:
            assert all(st.spilled is not None for _, st in done[1:])
        evs = [[Evaluation(r, mle.evaluate(F.ext, t, r, base=True)) for r in pts]
               for t, pts in zip(tables, points)]
        ch = ProverChannel(Transcript("ligero-routing"))
        s.open(ch, [OpenItem(st, e) for (_, st), e in zip(done, evs)])
        proof = ch.proof_bytes()
    items = [CheckItem(com, n, e) for (com, _), n, e in zip(done, LIGERO_NS, evs)]
    return items, proof, s


def _ligero_verify(items, proof, s, hiding: bool = False) -> None:
    with zk.session() if hiding else contextlib.nullcontext():
        ch = VerifierChannel(Transcript("ligero-routing"), proof)
        s.verify(ch, items)
        ch.finish()


@pytest.mark.parametrize("mode", ["plain", "sha256", "spilled", "hiding"])
def test_ligero_same_bytes_on_emulated_cuda(emu, mode):
    """Commitments and a batched opening made with the emulated cuda backend equal the
    cpu backend's byte for byte (binding in RAM and spilled to scratch files, a SHA-256
    tree, the hiding variant with a seeded mask stream) and verify on the CPU."""
    kw = {"hash": "sha256"} if mode == "sha256" else {"spill": True} if mode == "spilled" \
        else {"zk_seed": b"routing"} if mode == "hiding" else {}
    items, proof, s = _ligero(None, **kw)
    items_emu, proof_emu, _ = _ligero(emu, **kw)
    assert [it.commitment for it in items_emu] == [it.commitment for it in items]
    assert proof_emu == proof
    _ligero_verify(items, proof, s, hiding=mode == "hiding")
    if mode == "plain":  # 8 KiB leaves went through the chunk-tree kernels
        assert emu._fns["b3_chunk_cvs"].calls > 0 and emu._fns["b3_parent_cvs"].calls > 0
        assert emu._fns["gl_ntt_dif_stages"].calls > 0


@pytest.mark.parametrize("mode", ["plain", "hiding"])
def test_ligero_calls_the_backend(mode):
    """Encoding, leaf hashing, the Merkle tree and the opening's products reach the
    backend in force."""
    be = Counting()
    kw = {"zk_seed": b"count"} if mode == "hiding" else {}
    items, proof, s = _ligero(be, **kw)
    assert proof == _ligero(None, **kw)[1]
    for op in ("rs_encode", "blake3_rows", "merkle_levels", "eq_table", "evec_mat", "fetch",
               "borrow") + (("mat_evec",) if mode == "plain" else ("edot",)):
        assert be.calls[op] > 0, f"ligero never called the backend's {op}"
    _ligero_verify(items, proof, s, hiding=mode == "hiding")


def test_ligero_sha256_hashes_on_the_host():
    """A SHA-256 tree is no backend operation: only the encoding reaches the backend."""
    be = Counting()
    items, proof, s = _ligero(be, hash="sha256", claims=1)
    assert be.calls["rs_encode"] > 0
    assert be.calls["blake3_rows"] == 0 and be.calls["merkle_levels"] == 0
    _ligero_verify(items, proof, s)


def test_ligero_verifier_stays_off_the_backend():
    """The verifier (including its re-commitment of a directly opened table) never calls
    the backend in force."""
    items, proof, s = _ligero(None)
    be = Counting()
    with B.use(be):
        _ligero_verify(items, proof, s)
    assert not be.calls


@pytest.mark.slow
def test_tiny_step_with_ligero_same_bytes_on_emulated_cuda(emu):
    """Acceptance 1 of issue 17 for the ligero profile, with the CUDA kernels compiled for
    the host: the tiny training step proven with the emulated cuda backend in force equals
    the cpu proof byte for byte and verifies (`backend_suite.same_proof`)."""
    from zklora.zkcore.testing.backend_suite import same_proof

    calls = {k: f.calls for k, f in emu._fns.items()}
    out = same_proof(emu, {"proof": {"commitment": "ligero"}}, task="train")
    assert out["same"] and out["verified"]
    ran = {k for k, f in emu._fns.items() if f.calls > calls.get(k, 0)}
    assert {"gl_rs_twist", "gl_ntt_dif_stages", "b3_hash_rows", "b3_merkle_parents",
            "e2_mat_evec", "e2_evec_mat", "e2_p2_sums_part"} <= ran, sorted(ran)
