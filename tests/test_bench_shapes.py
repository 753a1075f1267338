"""`zklora bench`'s issue-13 acceptance shapes (``25m``, ``84m``): their parameter
counts, their own default batch × seq (overridden by ``--batch`` / ``--seq``), and the
training graph's bound analysis at their widths with their ``act_bits`` — graph
construction only (shapes and bounds, no weights, no witness): seconds, not a proof."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zklora.plugins.models.hf import TARGETS, LlamaArch, LoraSpec
from zklora.plugins.models.llama import ACT_BITS, ForwardSpec
from zklora.plugins.models.llama_train import TrainSpec, build_train_graph
from zklora.plugins.ops.rmsnorm import PRODUCT_LIMIT, plan_of
from zklora.zkcore import bench
from zklora.zkcore.cli import main
from zklora.zkcore.graph import static_range_checks
from zklora.zkcore.plugins import registry
from zklora.zkcore.quant import QuantConfig

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")


def test_acceptance_shapes_and_parameter_counts():
    s25, s84 = bench.SIZES["25m"], bench.SIZES["84m"]
    assert (s25["hidden"], s25["ffn"], s25["layers"], s25["vocab"], s25["heads"]) == \
        (512, 1024, 8, 4096, 16)
    assert (s84["hidden"], s84["ffn"], s84["layers"]) == (1024, 4096, 4)
    assert bench.param_count(s25) == 25_174_528
    assert bench.param_count(s84) == 83_895_296  # ≈ 84M with vocab 8192
    # tokens · (4h + 2q + 2kv + 3f) + heads · seq² per layer, plus the logits
    assert bench.activation_elements(s25, 1, 64) == \
        8 * (64 * (4 * 512 + 4 * 512 + 3 * 1024) + 16 * 64 * 64) + 64 * 4096


@pytest.mark.parametrize("size, batch, seq, want", [
    ("25m", None, None, (1, 64)), ("84m", None, None, (1, 32)),
    ("tiny", None, None, (1, 16)), (None, None, None, (1, 16)),
    ("25m", 2, None, (2, 64)), ("84m", None, 8, (1, 8)), ("tiny", 4, 32, (4, 32))])
def test_batch_seq_defaults_and_overrides(size, batch, seq, want):
    assert bench.batch_seq(size, batch, seq) == want


def _fake_spawn(jobs):
    def fake(job, timeout):
        jobs.append(dict(job))
        n = bench.param_count(bench.SIZES[job["size"]])
        return {"size": job["size"], "params": n, "steps": 1, "batch": job["batch"],
                "seq": job["seq"], "profile": "fast", "prove_seconds": 1.0,
                "prove_wall": 1.0, "verify_seconds": 0.1, "proof_size": 1000,
                "peak_rss": 2**28, "compile_seconds": 0.0, "timings": {}}
    return fake


def test_cli_measures_each_size_at_its_own_shape(tmp_path, monkeypatch):
    """``zklora bench --sizes tiny,25m,84m`` hands each worker its size's batch × seq;
    ``--seq`` overrides every size's."""
    jobs: list[dict] = []
    monkeypatch.setattr(bench, "_spawn", _fake_spawn(jobs))
    r = CliRunner().invoke(main, ["bench", "--sizes", "tiny,25m,84m", "--out",
                                  str(tmp_path / "a"), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert [(j["size"], j["batch"], j["seq"]) for j in jobs] == \
        [("tiny", 1, 16), ("25m", 1, 64), ("84m", 1, 32)]
    doc = json.loads(r.stdout)
    assert [(x["batch"], x["seq"]) for x in doc["results"]] == [(1, 16), (1, 64), (1, 32)]
    jobs.clear()
    r = CliRunner().invoke(main, ["bench", "--sizes", "25m", "--seq", "8", "--batch", "2",
                                  "--out", str(tmp_path / "b"), "--json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert [(j["size"], j["batch"], j["seq"]) for j in jobs] == [("25m", 2, 8)]


def _train_graph(size: str):
    sh = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    arch = LlamaArch(vocab_size=sh["vocab"], hidden_size=sh["hidden"],
                     intermediate_size=sh["ffn"], num_layers=sh["layers"],
                     num_heads=sh["heads"], num_kv_heads=sh["heads"],
                     head_dim=sh["hidden"] // sh["heads"], max_position_embeddings=256)
    r, alpha, targets = bench.LORA["r"], bench.LORA["alpha"], bench.LORA["targets"]
    short = {v.rsplit(".", 1)[-1]: k for k, v in TARGETS.items()}  # q_proj → q
    lora = LoraSpec(r=r, alpha=float(alpha), targets=tuple(short[t] for t in targets),
                    use_rslora=False)
    fwd = ForwardSpec(arch, lora, QuantConfig(), batch, seq, sh.get("act_bits", ACT_BITS))
    return build_train_graph(TrainSpec(fwd, 1))


@pytest.mark.parametrize("size", list(bench.SIZES))
def test_bound_analysis_holds_at_every_bench_shape(size):
    """What prover and verifier check before any witness exists — every op's `check`
    (the RMSNorm plans among them) and the static range checks — passes for each size
    at its own batch × seq and ``act_bits``; every RMSNorm product stays below its
    limit."""
    g = _train_graph(size)
    reg = registry()
    g.check(reg)
    static_range_checks(g, reg)
    norms = [n for n in g.nodes if n.op == "rmsnorm_rsqrt"]
    assert norms
    for n in norms:
        assert max(plan_of(n, int(g.tensors[n.inputs[0]].shape[-1])).worst().values()) \
            < PRODUCT_LIMIT


def test_measure_proves_at_the_sizes_own_shape(monkeypatch, tmp_path):
    """`measure` (what a worker runs) hands the prover the size's own batch × seq unless
    given; the result and its activation count use them (prove/verify/float step faked)."""
    from types import SimpleNamespace

    from zklora.zkcore import pyapi

    seen = []

    def prove(**kw):
        seen.append(kw["config"]["model"])
        return SimpleNamespace(prove_seconds=1.0, compile_seconds=0.0, op_timings={},
                               timings={}, proof_size=10, prover_cache="unused")

    monkeypatch.setattr(pyapi, "prove", prove)
    monkeypatch.setattr(pyapi, "verify", lambda path: SimpleNamespace(seconds=0.1))
    monkeypatch.setattr(bench, "_write_checkpoint", lambda d, shape: ("m", "a"))
    monkeypatch.setattr(bench, "float_step_seconds",
                        lambda *a, **k: {"seconds": 0.01, "cpu_seconds": 0.01})
    r = bench.measure("25m", workdir=str(tmp_path))
    assert seen[-1] == {"batch": 1, "seq": 64} and (r["batch"], r["seq"]) == (1, 64)
    assert r["activation_elements"] == bench.activation_elements(bench.SIZES["25m"], 1, 64)
    r = bench.measure("84m", seq=8, workdir=str(tmp_path))
    assert seen[-1] == {"batch": 1, "seq": 8}
    bench.measure("small", workdir=str(tmp_path))
    assert seen[-1] == {"batch": 1, "seq": 16, "act_bits": 9}
