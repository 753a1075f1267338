"""Benchmarks of the ligero commitment at 2^16 and 2^20 Goldilocks elements.

Run: .venv/bin/python -m pytest -m bench --benchmark-enable tests/bench/test_bench_ligero.py
The proof size of one claim is recorded in each benchmark's ``extra_info``.
"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

pytestmark = pytest.mark.bench
SIZES = [16, 20]
ROUNDS = 5


def _setup(n):
    reg = registry()
    F = reg.field("goldilocks")
    scheme = reg.commitment("ligero")(F)
    rng = np.random.default_rng(n)
    t = F.random(rng, 1 << n)
    r = F.ext.random(rng, n)
    ev = [Evaluation(r, mle.evaluate(F.ext, t, r, base=True))]
    return scheme, t, ev


def _open(scheme, st, ev):
    ch = ProverChannel(Transcript(b"bench"))
    scheme.open(ch, [OpenItem(st, ev)])
    return ch.proof_bytes()


def _verify(scheme, com, n, ev, proof):
    ch = VerifierChannel(Transcript(b"bench"), proof)
    scheme.verify(ch, [CheckItem(com, n, ev)])
    ch.finish()


@pytest.mark.parametrize("n", SIZES)
def test_ligero_commit(benchmark, n):
    scheme, t, _ = _setup(n)
    scheme.commit(t)  # warm up (JIT caches, twiddle tables)
    benchmark.extra_info["elements"] = 1 << n
    benchmark.pedantic(scheme.commit, args=(t,), rounds=ROUNDS, iterations=1)


@pytest.mark.parametrize("n", SIZES)
def test_ligero_open(benchmark, n):
    scheme, t, ev = _setup(n)
    com, st = scheme.commit(t)
    proof = _open(scheme, st, ev)
    benchmark.extra_info["proof_bytes"] = len(proof)
    benchmark.pedantic(_open, args=(scheme, st, ev), rounds=ROUNDS, iterations=1)


@pytest.mark.parametrize("n", SIZES)
def test_ligero_verify(benchmark, n):
    scheme, t, ev = _setup(n)
    com, st = scheme.commit(t)
    proof = _open(scheme, st, ev)
    _verify(scheme, com, n, ev, proof)
    benchmark.extra_info["proof_bytes"] = len(proof)
    benchmark.pedantic(_verify, args=(scheme, com, n, ev, proof), rounds=ROUNDS * 2,
                       iterations=1)
