"""Benchmark: forward-pass proof of the tiny LLaMA (vocab 256, hidden 64, FFN 128,
2 layers, 4 heads, batch 4 × seq 32, LoRA r = 4 on q, v) under the fast profile.

Run: .venv/bin/python -m pytest -m bench --benchmark-enable -s tests/bench/test_bench_forward.py
Recorded in ``extra_info`` and printed: prove and verify time, proof size, peak memory
(ru_maxrss of the process), and the prover time per op type (graph.prove's profile hook).
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict

import pytest

from zklora.plugins.models import llama
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_weights
from zklora.zkcore import graph as graphlib
from zklora.zkcore.config import PROFILES, resolve
from zklora.zkcore.plugins import registry
from zklora.zkcore.quant import QuantConfig

pytestmark = pytest.mark.bench


def _setup():
    arch = tiny_arch()
    ck, ad = tiny_weights(arch), tiny_adapter(arch)
    spec = llama.ForwardSpec(arch, ad.spec, QuantConfig(), 4, 32)
    ids = llama.random_batch(arch.vocab_size, 4, 32, 0)
    inputs = llama.quantize_inputs(spec, ck, ad, ids)
    loss = llama.integer_forward(spec, inputs).loss_int
    return llama.build_graph(spec, loss), inputs


def test_bench_forward_fast(benchmark):
    reg = registry()
    be = resolve(PROFILES["fast"], reg)
    g, inputs = _setup()
    per_op: dict[str, float] = defaultdict(float)

    def run():
        per_op.clear()
        return graphlib.prove(g, inputs, be, {"bench": "forward"},
                              profile=lambda kind, name, s: per_op.__setitem__(
                                  kind, per_op[kind] + s))

    stream, sections = benchmark.pedantic(run, rounds=1, iterations=1)
    t0 = time.perf_counter()
    graphlib.verify(g, stream, be, {"bench": "forward"}, sections)
    verify_s = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info = benchmark.extra_info
    info.update(verify_s=round(verify_s, 3), proof_bytes=len(stream),
                peak_rss_mib=round(peak_mib, 1), nodes=len(g.nodes),
                per_op={k: round(v, 3) for k, v in sorted(per_op.items(), key=lambda x: -x[1])})
    print(f"\nforward proof (tiny, fast): verify {verify_s:.3f} s, proof {len(stream)} bytes, "
          f"peak RSS {peak_mib:.0f} MiB, {len(g.nodes)} op nodes")
    for k, v in info["per_op"].items():
        print(f"  {k:<16} {v:8.3f} s")
