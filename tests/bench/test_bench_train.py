"""Benchmark: one proven LoRA training step (forward, loss, backward, AdamW) of the tiny
LLaMA (vocab 256, hidden 64, FFN 128, 2 layers, 4 heads, batch 4 × seq 32, LoRA r = 4 on
q, v) under the fast profile, against the plain float32 training step (transformers +
peft, one torch.optim.AdamW step) timed in the same run.

Run: .venv/bin/python -m pytest -m bench --benchmark-enable -s tests/bench/test_bench_train.py
Recorded in ``extra_info`` and printed: prove (median of ``ROUNDS``), verify (median),
proof size, peak memory (ru_maxrss), the prover time per op type (graph.prove's profile
hook, last round), the float step's median time and the overhead ratio.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections import defaultdict

import pytest

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.llama import ForwardSpec, random_batch
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_weights
from zklora.zkcore import graph as graphlib
from zklora.zkcore.config import PROFILES, resolve
from zklora.zkcore.plugins import registry
from zklora.zkcore.quant import QuantConfig

pytestmark = pytest.mark.bench

ROUNDS = int(os.environ.get("ZKLORA_BENCH_ROUNDS", "3"))


def _setup(steps: int = 1):
    arch = tiny_arch()
    ck, ad = tiny_weights(arch), tiny_adapter(arch, init="random")
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 4, 32), steps)
    ids = random_batch(arch.vocab_size, 4, 32, 0)
    inputs = lt.train_inputs(spec, ck, ad, [ids])
    g, res = lt.integer_train(spec, inputs)
    public = spec.to_public()
    public["losses"] = res.losses
    return spec, ck, ad, ids, g, inputs, {"model": "llama-train", "params": public}


def _float_step_seconds(ck, ad, ids, spec, rounds: int = 7) -> float:
    """Median wall time of one float32 AdamW training step (forward, loss, backward,
    optimiser), on a model built once (as a training loop would)."""
    import torch

    from zklora.plugins.models.reference import make_optimizer, peft_model

    pm = peft_model(ck, ad)
    pm.train()
    opt = make_optimizer([p for p in pm.parameters() if p.requires_grad],
                         **spec.optim.torch_kwargs())
    ids = torch.as_tensor(ids, dtype=torch.long)
    times = []
    for _ in range(rounds + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        pm(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def test_bench_train_step_fast(benchmark):
    reg = registry()
    be = resolve(PROFILES["fast"], reg)
    spec, ck, ad, ids, g, inputs, statement = _setup()
    per_op: dict[str, float] = defaultdict(float)
    proves: list[float] = []

    def run():
        per_op.clear()
        t0 = time.perf_counter()
        out = graphlib.prove(g, inputs, be, statement,
                             profile=lambda kind, name, s: per_op.__setitem__(
                                 kind, per_op[kind] + s))
        proves.append(time.perf_counter() - t0)
        return out

    stream, sections = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    verifies = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        graphlib.verify(g, stream, be, statement, sections)
        verifies.append(time.perf_counter() - t0)
    float_s = _float_step_seconds(ck, ad, ids, spec)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    prove_s, verify_s = statistics.median(proves), statistics.median(verifies)
    info = benchmark.extra_info
    info.update(prove_s=round(prove_s, 3), verify_s=round(verify_s, 3),
                proof_bytes=len(stream), peak_rss_mib=round(peak_mib, 1),
                nodes=len(g.nodes), float_step_s=round(float_s, 5),
                overhead=round(prove_s / float_s),
                per_op={k: round(v, 3) for k, v in sorted(per_op.items(), key=lambda x: -x[1])})
    print(f"\ntraining step proof (tiny, fast, {ROUNDS} rounds): prove {prove_s:.2f} s "
          f"(all {[round(x, 2) for x in proves]}), verify {verify_s:.3f} s, proof "
          f"{len(stream)} bytes, peak RSS {peak_mib:.0f} MiB, {len(g.nodes)} op nodes; "
          f"float32 step {float_s * 1e3:.1f} ms, overhead ×{prove_s / float_s:.0f}")
    for k, v in info["per_op"].items():
        print(f"  {k:<24} {v:8.3f} s")
