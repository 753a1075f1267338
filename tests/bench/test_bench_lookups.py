"""Lookup argument benchmarks: 2^20 lookups into a 2^16 range table (goldilocks), and a
smaller instance under bls12-381-fr (the paper profile's field).

Run:  .venv/bin/python -m pytest -m bench --benchmark-enable tests/bench/test_bench_lookups.py

Times the argument alone (`LookupArgument.run` on a prover / verifier context holding the
committed column), not the commitment scheme: the proof size reported is the bytes the
argument writes (its multiplicity/inverse commitments are 32-byte `plain` hashes; their
openings are the commitment scheme's cost).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore.graph import Committer
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.op import ProverContext, TensorSpec, VerifierContext
from zklora.zkcore.plugins import registry
from zklora.zkcore.range import range_table
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

pytestmark = pytest.mark.bench

CASES = [("logup-gkr", "goldilocks", 20, 16), ("tlookup", "goldilocks", 20, 16),
         ("logup-gkr", "bls12-381-fr", 14, 10), ("tlookup", "bls12-381-fr", 14, 10)]


def _setup(field, n_bits, t_bits):
    reg = registry()
    F = reg.field(field)
    scheme = reg.commitment("plain")(F)
    table = range_table(t_bits)
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 1 << t_bits, size=1 << n_bits))
    specs = {"X": TensorSpec("X", (1 << n_bits,), "committed")}
    return F, scheme, table, x, specs, [LookupRequest(table, ("X",), "bench")]


def _prove(arg, F, scheme, table, x, specs, reqs):
    ch = ProverChannel(Transcript(b"bench/lookups"))
    ctx = ProverContext(F, ch, dict(specs), {}, {"X": x}, Committer(scheme, True))
    arg.run(ctx, table, reqs)
    return ch.proof_bytes()


def _verify(arg, F, scheme, table, specs, reqs, proof):
    ch = VerifierChannel(Transcript(b"bench/lookups"), proof)
    ctx = VerifierContext(F, ch, dict(specs), {}, Committer(scheme, False))
    arg.run(ctx, table, reqs)
    ch.finish()


@pytest.mark.parametrize("name,field,n_bits,t_bits", CASES)
def test_bench_prove(benchmark, name, field, n_bits, t_bits):
    F, scheme, table, x, specs, reqs = _setup(field, n_bits, t_bits)
    arg = registry().lookup(name)()
    _prove(arg, F, scheme, table, x, specs, reqs)  # warm-up (numba, table caches)
    proof = benchmark.pedantic(_prove, args=(arg, F, scheme, table, x, specs, reqs),
                               rounds=3, iterations=1)
    benchmark.extra_info.update(proof_bytes=len(proof), lookups=1 << n_bits,
                                table=1 << t_bits, field=field)


@pytest.mark.parametrize("name,field,n_bits,t_bits", CASES)
def test_bench_verify(benchmark, name, field, n_bits, t_bits):
    F, scheme, table, x, specs, reqs = _setup(field, n_bits, t_bits)
    arg = registry().lookup(name)()
    proof = _prove(arg, F, scheme, table, x, specs, reqs)
    _verify(arg, F, scheme, table, specs, reqs, proof)
    benchmark.pedantic(_verify, args=(arg, F, scheme, table, specs, reqs, proof),
                       rounds=5, iterations=1)
    benchmark.extra_info.update(proof_bytes=len(proof), lookups=1 << n_bits,
                                table=1 << t_bits, field=field)
