"""Hyrax benchmarks: commit / open / verify / proof size at 2^10 and 2^14 Fr elements.

Run: ``.venv/bin/python -m pytest -m bench --benchmark-enable tests/bench/test_bench_hyrax.py``
Proof and commitment sizes are in each benchmark's ``extra_info`` (``--benchmark-json``)
and printed with ``-s``.
"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

pytestmark = pytest.mark.bench

REG = registry()
F = REG.field("bls12-381-fr")
SIZES = [10, 14]
ROUNDS = 5


def _table(n, kind):
    rng = np.random.default_rng(n)
    if kind == "int16":  # quantised weights/activations: small signed integers
        return F.from_ints(rng.integers(-(1 << 15), 1 << 15, 1 << n))
    return F.random(rng, 1 << n)


def _setup(n, claims):
    sch = REG.commitment("hyrax")(F)
    t = _table(n, "int16")
    com, st = sch.commit(t)
    rng = np.random.default_rng(100 + n)
    evs = []
    for _ in range(claims):
        r = F.random(rng, n)
        evs.append(Evaluation(r, mle.evaluate(F, t, r, base=True)))
    return sch, com, st, evs


def _open(sch, st, evs):
    ch = ProverChannel(Transcript("bench"))
    sch.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


def _verify(sch, proof, com, n, evs):
    ch = VerifierChannel(Transcript("bench"), proof)
    sch.verify(ch, [CheckItem(com, n, evs)])
    ch.finish()


@pytest.mark.parametrize("kind", ["int16", "random"])
@pytest.mark.parametrize("n", SIZES)
def test_hyrax_commit(benchmark, n, kind):
    sch = REG.commitment("hyrax")(F)
    t = _table(n, kind)
    sch.commit(t)  # warm the generator cache
    com, _ = benchmark.pedantic(sch.commit, args=(t,), rounds=ROUNDS, iterations=1)
    benchmark.extra_info["commitment_bytes"] = len(com)
    print(f"\nhyrax commit 2^{n} {kind}: commitment {len(com)} B")


@pytest.mark.parametrize("claims", [1, 4])
@pytest.mark.parametrize("n", SIZES)
def test_hyrax_open(benchmark, n, claims):
    sch, com, st, evs = _setup(n, claims)
    proof = benchmark.pedantic(_open, args=(sch, st, evs), rounds=ROUNDS, iterations=1)
    benchmark.extra_info["proof_bytes"] = len(proof)
    print(f"\nhyrax open 2^{n}, {claims} claim(s): proof {len(proof)} B")


@pytest.mark.parametrize("claims", [1, 4])
@pytest.mark.parametrize("n", SIZES)
def test_hyrax_verify(benchmark, n, claims):
    sch, com, st, evs = _setup(n, claims)
    proof = _open(sch, st, evs)
    benchmark.pedantic(_verify, args=(sch, proof, com, n, evs), rounds=ROUNDS, iterations=1)
    benchmark.extra_info["proof_bytes"] = len(proof)
