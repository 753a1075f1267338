"""Degree-2 sumcheck over 2^20 entries (goldilocks-ext2 challenges): prover and verifier.

Run: ``.venv/bin/python -m pytest -m bench --benchmark-enable tests/bench/test_bench_sumcheck.py``
Targets (issue 2, 2-core machine): prover ≤ 0.5 s, verifier ≤ 5 ms.  Two instances:
Σ A·B with A, B random extension tables (the worst case), and Σ A·B with base-field
tables lifted into the extension (what the ops do).
"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import mle, sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

pytestmark = pytest.mark.bench

NV = 20
E = GOLDILOCKS.ext
TERMS = [(1, (0, 1))]


def _tables(kind):
    rng = np.random.default_rng(2)
    if kind == "ext":
        A, B = E.random(rng, 1 << NV), E.random(rng, 1 << NV)
    else:
        A = mle.lift(E, GOLDILOCKS.random(rng, 1 << NV), True)
        B = mle.lift(E, GOLDILOCKS.random(rng, 1 << NV), True)
    return A, B, E.dot(A, B)


def _prove(A, B, claim):
    ch = ProverChannel(Transcript("bench/sumcheck"))
    sumcheck.prove(ch, E, [A, B], TERMS, claim)
    return ch.proof_bytes()


def _verify(proof, claim):
    ch = VerifierChannel(Transcript("bench/sumcheck"), proof)
    sumcheck.verify(ch, E, NV, 2, TERMS, claim)
    ch.finish()


@pytest.mark.parametrize("kind", ["ext", "base"])
def test_prove_deg2_2p20(benchmark, kind):
    A, B, claim = _tables(kind)
    proof = benchmark.pedantic(_prove, (A, B, claim), rounds=5, warmup_rounds=1)
    _verify(proof, claim)
    med, best = benchmark.stats.stats.median, benchmark.stats.stats.min
    benchmark.extra_info["proof_bytes"] = len(proof)
    print(f"\nprove deg-2 2^{NV} ({kind}): median {med:.3f} s, best {best:.3f} s, "
          f"proof {len(proof)} B")


def test_verify_deg2_2p20(benchmark):
    A, B, claim = _tables("ext")
    proof = _prove(A, B, claim)
    benchmark.pedantic(_verify, (proof, claim), rounds=50, warmup_rounds=2)
    st = benchmark.stats.stats
    print(f"\nverify deg-2 2^{NV}: median {st.median * 1e3:.2f} ms, best {st.min * 1e3:.2f} ms")
